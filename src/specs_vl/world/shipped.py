"""The default world's base model, shipped with the package.

Every user would otherwise rebuild the same model, bit for bit: about ten
minutes of pretraining on 2 cores. `build_base_model` looks here first, then
in the cache, then builds. The copy is found only when the code's cache key
for the asked-for config equals the key recorded at shipping time, so a change
to the world, the corpus or the base recipe falls through to a fresh build
(and `tests/test_shipped_base.py` fails until the model is re-shipped with
`python scripts/ship_base.py`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from specs_vl.util.atomic import atomic_dir

SHIPPED_DIR = Path(__file__).parent / "shipped"
RECORD = "shipped.json"
# Files a base directory holds that are shipped (everything `build_base_model` writes).
SHIPPED_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "processor_config.json",
    "chat_template.jinja",
    "world.json",
    "base_config.json",
    "calibration.json",
)
SLICE_N = 60  # calibration prompts re-scored by the shipped-model test (recorded at shipping time)
NLL_PAIRS = 16  # pretraining pairs whose mean response NLL fingerprints the weights and the processor


def shipped_record(root: Path = SHIPPED_DIR) -> dict[str, Any] | None:
    """What was recorded when the base was shipped, or None when no base ships here."""
    path = root / RECORD
    return json.loads(path.read_text()) if path.exists() else None


def shipped_base(key: str, root: Path = SHIPPED_DIR) -> Path | None:
    """The shipped base's directory when it was built for cache key `key` and all its files are there."""
    record = shipped_record(root)
    if not record or record.get("key") != key:
        return None
    return root if all((root / f).exists() for f in record["files"]) else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_fingerprint(world, cfg) -> str:
    """sha256 over the base's pretraining corpus: every text, and the pixels of every image.

    Catches a change to the world's or the corpus's code that the cache key (configs + CODE_VERSION) misses."""
    from .base_model import pretrain_corpus
    from .dataset import prompt_text

    h = hashlib.sha256()
    for ex, response in pretrain_corpus(world, cfg):
        h.update((prompt_text(ex) + "\x00" + response + "\x00").encode())
        h.update(ex["image"].tobytes())
    return h.hexdigest()


def response_nll(model, processor, world, cfg, n: int = NLL_PAIRS) -> float:
    """Mean token NLL of the first `n` pretraining responses: deterministic, and moved by any change of weights,
    tokenizer or image processing."""
    import torch

    from .base_model import _batch, pretrain_corpus

    with torch.no_grad():
        return float(model(**_batch(processor, pretrain_corpus(world, cfg)[:n])).loss)


def slice_scores(model, processor, world, cfg) -> dict[str, Any]:
    """The calibration (same code, same seed) on its first SLICE_N prompts: per family, correct and valid counts."""
    from .calibration import calibrate

    calib = calibrate(model, processor, world, SLICE_N, cfg.max_new_tokens, cfg.seed)
    return {
        fam: {"n": v["n"], "correct": round(v["accuracy"] * v["n"]), "format_valid": round(v["format_valid"] * v["n"])}
        for fam, v in calib["per_family"].items()
    }


def ship(built: Path, key: str, world, cfg, root: Path = SHIPPED_DIR) -> dict[str, Any]:
    """Copy a built base into the package with its record; returns the record."""
    import platform

    import torch
    import transformers

    from specs_vl.models.load import load_vlm

    files = [f for f in SHIPPED_FILES if (built / f).exists()]
    missing = {"config.json", "model.safetensors", "calibration.json"} - set(files)
    if missing:
        raise FileNotFoundError(f"{built}: not a built base (missing {', '.join(sorted(missing))})")
    model, processor = load_vlm(built)
    calib = json.loads((built / "calibration.json").read_text())
    record = {
        "key": key,
        "files": files,
        "model_sha256": file_sha256(built / "model.safetensors"),
        "build_seconds": calib.get("build_seconds"),
        "parameters": calib.get("parameters"),
        "built_with": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "corpus_sha256": corpus_fingerprint(world, cfg),
        "response_nll": round(response_nll(model, processor, world, cfg), 6),
        "slice": slice_scores(model, processor, world, cfg),
        "rebuild": "specs base --rebuild -c configs/demo.yaml, then python scripts/ship_base.py",
    }
    with atomic_dir(root) as tmp:
        for f in files:
            shutil.copy2(built / f, tmp / f)
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        for p in (tmp, *tmp.iterdir()):  # mkdtemp's 0700 would keep a shared install's other users out
            p.chmod(0o755 if p.is_dir() else 0o644)
    return record
