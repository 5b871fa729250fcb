"""The base model's recipe settings and the key its builds are found by (shipped, cached), without torch.

`specs base` and run-config validation read this; the build itself is in base_model.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .dataset import WorldConfig
from .shipped import shipped_base

CODE_VERSION = "4"  # bump when the corpus or training changes, to invalidate caches


class BaseModelConfig(BaseModel):
    """Size and pretraining budget of the tiny base model."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    vocab_size: int = Field(1024, ge=300)
    """BPE vocabulary size, trained on the world's text"""
    hidden_size: int = Field(128, ge=16)
    """text model width"""
    intermediate_size: int = Field(256, ge=16)
    """text MLP width"""
    num_layers: int = Field(4, ge=1)
    """text decoder layers"""
    num_heads: int = Field(4, ge=1)
    """attention heads"""
    num_kv_heads: int = Field(2, ge=1)
    """key/value heads"""
    vision_depth: int = Field(2, ge=1)
    """vision tower blocks"""
    vision_hidden_size: int = Field(64, ge=16)
    """vision tower width"""
    vision_heads: int = Field(2, ge=1)
    """vision tower heads"""
    vision_steps: int = Field(1000, ge=0)
    """the tower alone first, with a per-cell probe (world/vision_pretrain.py)"""
    vision_batch_size: int = Field(64, ge=1)
    """images per step of the vision stage"""
    vision_lr: float = Field(2e-3, gt=0)
    """learning rate of the vision stage"""
    freeze_vision: bool = True
    """after its own stage, only the tower's merger trains with the language model"""
    vision_position_heads: bool = True
    """the vision stage also names each token's row and column (for `where`)"""
    vision_count_heads: bool = True
    """the vision stage also names the image's counts in every token (for arith)"""
    count_only_captions: bool = True
    """every other grid caption gives the counts alone, not the rows (V4)"""
    pretrain_examples: int = Field(8000, ge=10)
    """pretraining corpus size"""
    steps: int = Field(1800, ge=1)
    """pretraining steps"""
    batch_size: int = Field(32, ge=1)
    """pretraining batch size"""
    lr: float = Field(2e-3, gt=0)
    """pretraining learning rate"""
    seed: int = 0
    """pretraining seed"""
    calibration_n: int = Field(500, ge=1)
    """world-id prompts sampled for calibration.json"""
    max_new_tokens: int = Field(64, ge=1)
    """response length limit of the calibration samples"""


def cache_root() -> Path:
    return Path(os.environ.get("SPECS_VL_CACHE", Path.home() / ".cache" / "specs-vl"))


# Fields added after bases were cached under CODE_VERSION 4, with the value that reproduces those bases: they
# enter the cache key only when set otherwise, so a base built before they existed keeps its key.
LATER_FIELDS: dict[str, Any] = {
    "vision_position_heads": False,
    "count_only_captions": False,
    "vision_count_heads": False,
}


def cache_key(world: WorldConfig, cfg: BaseModelConfig) -> str:
    base = {k: v for k, v in cfg.model_dump(mode="json").items() if not (k in LATER_FIELDS and LATER_FIELDS[k] == v)}
    seen = {k: v for k, v in world.model_dump(mode="json").items() if k != "test_start"}  # trains on none of it
    blob = json.dumps([seen, base, CODE_VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def find_base(world: WorldConfig, cfg: BaseModelConfig, cache_dir: Path | None = None) -> Path | None:
    """A base built for these configs: the one shipped with the package, else the cache's; None when neither."""
    key = cache_key(world, cfg)
    cached = (Path(cache_dir) if cache_dir else cache_root()) / f"base-{key}"
    return shipped_base(key) or (cached if (cached / "calibration.json").exists() else None)
