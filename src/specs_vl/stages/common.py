"""What every training stage shares: train data, a progress/log callback, and resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from specs_vl.data import fill_defaults, user_message, validate_examples
from specs_vl.errors import DataError
from specs_vl.progress import bar


def load_examples(data: str | None, world: Any, n: int | None = None) -> list[dict[str, Any]]:
    """The world's train split, or a `datasets` directory in the example schema."""
    if data is None:
        from specs_vl.world import build_split

        return build_split(world, "train", n)
    from datasets import load_from_disk

    path = Path(data)
    if not path.exists():
        raise DataError(str(path), None, None, "dataset directory does not exist")
    try:
        ds = load_from_disk(str(path))
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds
        raise DataError(str(path), None, None, f"not a datasets directory ({e})") from None
    rows = [dict(r) for r in (ds.select(range(min(n, len(ds)))) if n else ds)]
    if not rows:
        raise DataError(str(path), None, None, "dataset is empty")
    validate_examples(rows, str(path))
    return [fill_defaults(r, i, "train") for i, r in enumerate(rows)]


def rl_dataset(examples: list[dict[str, Any]]):
    """TRL's conversational prompt with its image, plus the columns the rewards read."""
    from datasets import Dataset

    return Dataset.from_list([
        {"prompt": user_message(e), "image": e["image"], "answer": e["answer"],
         "answer_type": e.get("answer_type", "auto"), "choices": list(e.get("choices") or [])}
        for e in examples
    ])


class LogCallback(TrainerCallback):
    """Per-step log lines to a JSONL file, and a rich progress bar."""

    def __init__(self, path: Path, description: str, total: int):
        self.path, self.description, self.total = Path(path), description, total
        self._bar_cm = None
        self._bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._bar_cm = bar(self.description, self.total)
        self._bar = self._bar_cm.__enter__()
        self._bar.advance(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        self._bar.advance(1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            with self.path.open("a") as f:
                f.write(json.dumps({"step": state.global_step, **logs}) + "\n")

    def on_train_end(self, args, state, control, **kwargs):
        if self._bar_cm is not None:
            self._bar_cm.__exit__(None, None, None)


def last_checkpoint(ckpt_dir: Path, resume: bool) -> str | None:
    if not resume or not ckpt_dir.exists():
        return None
    return get_last_checkpoint(str(ckpt_dir))


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
