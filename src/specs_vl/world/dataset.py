"""Splits of the world, deterministic from (seed, split, index).

Disjointness is by construction: every drawn task is hashed by what its image
shows, and a hash bucket decides which side (train or test) may use it. So no
image, and no question+image pair, is shared between train and the tests.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .styles import OOD_STYLES, STYLES, TRAIN_STYLE, instruction_for
from .tasks import FAMILIES, OOD_FAMILIES, TRAIN_FAMILIES, Task

SPLITS: tuple[str, ...] = ("train", "id_test", "ood_test", "pretrain")
_TEST_SPLITS = ("id_test", "ood_test")
# Pretraining mixes every style; "none" is a bare question with no instruction.
PRETRAIN_STYLES: dict[str, float] = {
    "format": 0.30, "none": 0.15, "boxed": 0.15, "letter": 0.10, "hint": 0.15, "json": 0.15,
}


class WorldConfig(BaseModel):
    """What the world generates. Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    train_size: int = Field(1000, ge=1)
    id_test_size: int = Field(120, ge=1)
    ood_test_size: int = Field(200, ge=1)
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    train_families: tuple[str, ...] = TRAIN_FAMILIES
    ood_families: tuple[str, ...] = OOD_FAMILIES
    ood_styles: tuple[str, ...] = OOD_STYLES

    @field_validator("train_families", "ood_families")
    @classmethod
    def _known_families(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for f in v:
            if f not in FAMILIES:
                raise ValueError(f"unknown family {f!r}; known: {', '.join(FAMILIES)}")
        if not v:
            raise ValueError("needs at least one family")
        return v

    @field_validator("ood_styles")
    @classmethod
    def _known_styles(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            if s not in STYLES or s == TRAIN_STYLE:
                raise ValueError(f"unknown OOD instruction style {s!r}; known: {', '.join(OOD_STYLES)}")
        return v

    @model_validator(mode="after")
    def _disjoint(self) -> "WorldConfig":
        shared = set(self.train_families) & set(self.ood_families)
        if shared:
            raise ValueError(f"families {sorted(shared)} are both train and OOD; OOD families must never appear in train")
        return self

    def size(self, split: str) -> int:
        check_split(split)
        return {"train": self.train_size, "id_test": self.id_test_size,
                "ood_test": self.ood_test_size, "pretrain": self.train_size}[split]


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")


def task_bucket(task: Task) -> float:
    """A stable number in [0, 1) from what the image shows."""
    h = hashlib.sha1(repr(task.key).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _allowed(cfg: WorldConfig, split: str, task: Task) -> bool:
    is_test = task_bucket(task) >= 1.0 - cfg.test_fraction
    return is_test == (split in _TEST_SPLITS)


def draw(cfg: WorldConfig, split: str, index: int) -> tuple[Task, str]:
    """The (task, instruction style) at `index` of `split`."""
    check_split(split)
    rng = random.Random(f"{cfg.seed}:{split}:{index}")
    for _ in range(10_000):
        if split in ("train", "id_test"):
            family, style = cfg.train_families[index % len(cfg.train_families)], TRAIN_STYLE
        elif split == "ood_test":
            if index % 2 == 0 or not cfg.ood_styles:  # (a) unseen families, training style
                family, style = cfg.ood_families[(index // 2) % len(cfg.ood_families)], TRAIN_STYLE
            else:  # (b) seen families, changed output requirement
                family = rng.choice(cfg.train_families)
                style = cfg.ood_styles[(index // 2) % len(cfg.ood_styles)]
        else:
            family = rng.choice(cfg.train_families + cfg.ood_families)
            style = rng.choices(list(PRETRAIN_STYLES), weights=list(PRETRAIN_STYLES.values()))[0]
        task = FAMILIES[family](rng)
        if style in STYLES and not STYLES[style].applies(task.answer_type):
            continue
        if _allowed(cfg, split, task):
            return task, style
    raise RuntimeError(f"could not draw {split}[{index}]: the config leaves no admissible task")


def make_example(cfg: WorldConfig, split: str, index: int) -> dict[str, Any]:
    task, style = draw(cfg, split, index)
    return example_from_task(task, style, split, f"{split}-{cfg.seed}-{index:06d}")


def example_from_task(task: Task, style: str, split: str, id_: str) -> dict[str, Any]:
    return {
        "id": id_,
        "image": task.render(),
        "question": task.question,
        "answer": task.answer,
        "answer_type": task.answer_type,
        "choices": list(task.choices),
        "family": task.family,
        "instruction_style": style,
        "split": split,
    }


def build_split(cfg: WorldConfig, split: str, n: int | None = None, start: int = 0) -> list[dict[str, Any]]:
    n = cfg.size(split) if n is None else n
    return [make_example(cfg, split, start + i) for i in range(n)]


def prompt_text(example: dict[str, Any]) -> str:
    """The user turn's text: the question, then the style's instruction."""
    instr = instruction_for(example.get("instruction_style") or "none", example.get("answer_type") or "")
    return f"{example['question']}\n{instr}" if instr else example["question"]
