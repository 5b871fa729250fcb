"""World splits as Hugging Face datasets (the Image feature), written atomically."""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, Features, Image, Sequence, Value

from specs_vl.util.atomic import atomic_dir
from specs_vl.util.progress import bar

from .dataset import WorldConfig, check_split, make_example

FEATURES = Features(
    {
        "id": Value("string"),
        "image": Image(),
        "question": Value("string"),
        "answer": Value("string"),
        "answer_type": Value("string"),
        "choices": Sequence(Value("string")),
        "family": Value("string"),
        "instruction_style": Value("string"),
        "split": Value("string"),
    }
)


def to_dataset(cfg: WorldConfig, split: str, n: int | None = None) -> Dataset:
    check_split(split)
    n = cfg.size(split) if n is None else n
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    rows = []
    with bar(f"world {split}", n) as b:
        for i in range(n):
            rows.append(make_example(cfg, split, i))
            b.advance()
    return Dataset.from_list(rows, features=FEATURES)


def export_split(cfg: WorldConfig, split: str, out: Path, n: int | None = None) -> Path:
    """save_to_disk into a temp dir beside `out`, then rename: no half-written dataset."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: exists and is not empty")
    ds = to_dataset(cfg, split, n)
    with atomic_dir(out) as tmp:
        ds.save_to_disk(str(tmp))
    return out
