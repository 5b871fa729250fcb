"""Splits of the world, deterministic from (seed, split, index).

- `train`, `dev` (tuning only), `id_test`: the training families under the
  format instruction.
- `ood_domain`: families never in train (dice, majority, rowcount).
- `ood_surface`: the training families, paraphrased and drawn by a shifted
  renderer (palette, background, sizes, offsets).
- `ood_requirement`: the format instruction with another requirement inside
  `<answer>` (letter only, number as a word, JSON, bare value).
- `retention`: full output-style switches (boxed, letter, hint, json);
  reported apart, never part of GF.
- `ood_test`: the three OOD sets interleaved (the `world-ood` suite).
- `pretrain`: the base model's corpus, every family, surface and style.
Disjointness is by construction: every drawn task is hashed by what its image
shows, and the hash bucket decides its side (train/pretrain, dev, or test).
So no image is shared between train, dev and the tests.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from specs_vl.scoring.styles import REQUIREMENT_STYLES, RETENTION_STYLES, STYLES, TRAIN_STYLE

from .tasks import FAMILIES, OOD_FAMILIES, TRAIN_FAMILIES, Task, as_choice, shifted

OOD_SETS: tuple[str, ...] = ("ood_domain", "ood_surface", "ood_requirement")
SPLITS: tuple[str, ...] = ("train", "dev", "id_test", *OOD_SETS, "retention", "ood_test", "pretrain")
_TEST_SPLITS = ("id_test", *OOD_SETS, "retention", "ood_test")
# Pretraining mixes every style; "none" is a bare question with no instruction.
PRETRAIN_STYLES: dict[str, float] = {
    "format": 0.30,
    "none": 0.10,
    "req_letter": 0.05,
    "req_word": 0.05,
    "req_json": 0.05,
    "req_bare": 0.05,
    "boxed": 0.10,
    "letter": 0.10,
    "hint": 0.10,
    "json": 0.10,
}
PRETRAIN_OOD_FAMILY = 0.25  # share of pretraining examples from the OOD families
PRETRAIN_SHIFTED = 0.20  # share drawn by the shifted renderer, with paraphrased questions


class WorldConfig(BaseModel):
    """What the world generates. Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    seed: int = 0
    """seed of the world's examples (deterministic in seed, split, index)"""
    train_size: int = Field(1000, ge=1)
    """examples in the world's train split"""
    dev_size: int = Field(200, ge=1)
    """examples in world-dev (tuning only; disjoint images from train and every test split)"""
    id_test_size: int = Field(1000, ge=1)
    """examples in world-id (held-out, training families, format instruction)"""
    ood_test_size: int = Field(500, ge=1)
    """per OOD set"""
    retention_size: int = Field(400, ge=1)
    """examples in world-retention (full style switches; reported apart, not in GF)"""
    # The first index of every test split that evaluation reads (id_test, the OOD sets, retention). The prefix
    # before it is retired: calibration reads id_test[0:calibration_n] and earlier design steps (base variants,
    # the first studies) read id_test[0:1000] and the OOD sets' first 500, so a verdict that must be read by no
    # design step starts at 1000. Not part of the base's cache key: it moves no example the base trains on.
    test_start: int = Field(0, ge=0)
    """first index of every test split that evaluation reads"""
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    """share of image hashes reserved for test splits (train/test images disjoint)"""
    dev_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    """share of image hashes reserved for dev"""
    train_families: tuple[str, ...] = TRAIN_FAMILIES
    """task families of train and world-id"""
    ood_families: tuple[str, ...] = OOD_FAMILIES
    """task families seen only in world-ood"""
    requirement_styles: tuple[str, ...] = REQUIREMENT_STYLES
    """requirements inside <answer> that world-ood-requirement asks for"""
    retention_styles: tuple[str, ...] = RETENTION_STYLES
    """full output-style switches of world-retention (boxed, letter, JSON, prose hint)"""

    @field_validator("train_families", "ood_families")
    @classmethod
    def _known_families(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for f in v:
            if f not in FAMILIES:
                raise ValueError(f"unknown family {f!r}; known: {', '.join(FAMILIES)}")
        if not v:
            raise ValueError("needs at least one family")
        return v

    @field_validator("requirement_styles", "retention_styles")
    @classmethod
    def _known_styles(cls, v: tuple[str, ...], info) -> tuple[str, ...]:
        known = REQUIREMENT_STYLES if info.field_name == "requirement_styles" else RETENTION_STYLES
        for s in v:
            if s not in known:
                raise ValueError(f"unknown instruction style {s!r}; known: {', '.join(known)}")
        if not v:
            raise ValueError("needs at least one style")
        return v

    @model_validator(mode="after")
    def _disjoint(self) -> WorldConfig:
        shared = set(self.train_families) & set(self.ood_families)
        if shared:
            raise ValueError(
                f"families {sorted(shared)} are both train and OOD; OOD families must never appear in train"
            )
        if self.test_fraction + self.dev_fraction >= 1.0:
            raise ValueError("test_fraction + dev_fraction must leave room for train")
        return self

    def size(self, split: str) -> int:
        check_split(split)
        return {
            "train": self.train_size,
            "dev": self.dev_size,
            "id_test": self.id_test_size,
            "retention": self.retention_size,
            "ood_test": 3 * self.ood_test_size,
            "pretrain": self.train_size,
        }.get(split, self.ood_test_size)


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")


def task_bucket(task: Task) -> float:
    """A stable number in [0, 1) from what the image shows."""
    h = hashlib.sha1(repr(task.key).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def side(cfg: WorldConfig, task: Task) -> str:
    """Which side of the world may use this image: "test", "dev" or "train" (train and pretrain)."""
    b = task_bucket(task)
    if b >= 1.0 - cfg.test_fraction:
        return "test"
    return "dev" if b >= 1.0 - cfg.test_fraction - cfg.dev_fraction else "train"


def _side_of(split: str) -> str:
    return "test" if split in _TEST_SPLITS else ("dev" if split == "dev" else "train")


def _pick(cfg: WorldConfig, split: str, index: int, rng: random.Random) -> tuple[Task, str]:
    """One candidate (task, style) for `split`; `draw` keeps it when its image is on the split's side."""
    fams = cfg.train_families
    if split in ("train", "dev", "id_test"):
        return FAMILIES[fams[index % len(fams)]](rng), TRAIN_STYLE
    if split == "ood_domain":
        return FAMILIES[cfg.ood_families[index % len(cfg.ood_families)]](rng), TRAIN_STYLE
    if split == "ood_surface":
        return shifted(FAMILIES[fams[index % len(fams)]](rng), rng), TRAIN_STYLE
    if split in ("ood_requirement", "retention"):
        styles = cfg.requirement_styles if split == "ood_requirement" else cfg.retention_styles
        style = styles[index % len(styles)]
        task = FAMILIES[rng.choice(fams)](rng)
        return (as_choice(task, rng) if style in ("req_letter", "letter") else task), style
    # pretrain
    ood = rng.random() < PRETRAIN_OOD_FAMILY
    task = FAMILIES[rng.choice(cfg.ood_families if ood else fams)](rng)
    if rng.random() < PRETRAIN_SHIFTED:
        task = shifted(task, rng)
    style = rng.choices(list(PRETRAIN_STYLES), weights=list(PRETRAIN_STYLES.values()))[0]
    return (as_choice(task, rng) if style in ("req_letter", "letter") else task), style


def draw(cfg: WorldConfig, split: str, index: int) -> tuple[Task, str]:
    """The (task, instruction style) at `index` of `split`."""
    check_split(split)
    if split == "ood_test":
        return draw(cfg, OOD_SETS[index % len(OOD_SETS)], index // len(OOD_SETS))
    rng = random.Random(f"{cfg.seed}:{split}:{index}")
    want = _side_of(split)
    for _ in range(10_000):
        task, style = _pick(cfg, split, index, rng)
        if style in STYLES and not STYLES[style].applies(task.answer_type):
            continue
        if side(cfg, task) == want:
            return task, style
    raise RuntimeError(f"could not draw {split}[{index}]: the config leaves no admissible task")


def split_of(split: str, index: int) -> str:
    """The set an example of `split` belongs to (`ood_test` interleaves the three OOD sets)."""
    return OOD_SETS[index % len(OOD_SETS)] if split == "ood_test" else split


def make_example(cfg: WorldConfig, split: str, index: int) -> dict[str, Any]:
    task, style = draw(cfg, split, index)
    if split == "ood_test":
        set_, i = split_of(split, index), index // len(OOD_SETS)
        return example_from_task(task, style, set_, f"{set_}-{cfg.seed}-{i:06d}")
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


def build_split(cfg: WorldConfig, split: str, n: int | None = None, start: int | None = None) -> list[dict[str, Any]]:
    """`n` examples of `split` from index `start` (default: `test_start` for a test split, else 0)."""
    n = cfg.size(split) if n is None else n
    if start is None:
        start = cfg.test_start if split in _TEST_SPLITS else 0
    return [make_example(cfg, split, start + i) for i in range(n)]
