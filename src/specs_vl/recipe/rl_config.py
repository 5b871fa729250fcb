"""RLConfig: stage 3's GRPO settings (ZeroConfig's, plus the RL evaluation), beside the trainer in rl.py."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from specs_vl.recipe.zero_config import ZeroConfig


class RLConfig(ZeroConfig):
    section: ClassVar[str] = "rl"
    steps: int = Field(100, ge=1)
    """rollout batches (verl's global steps); optimiser steps = steps x mini-batches"""
    eval_every: int = Field(0, ge=0)
    """optimiser steps between evaluations (TRL's global_step); 0 = evaluate at the end only"""
    eval_id: str = "world-id"
    """the ID set evaluated during/after RL: a suite name or data:PATH"""
    eval_ood: list[str] = Field(default_factory=lambda: ["world-ood"], min_length=1)
    """OOD sets, equal-weighted"""
    eval_id_n: int | None = Field(120, ge=1)
    """prompts of the ID set; None = all"""
    eval_ood_n: int | None = Field(200, ge=1)
    """prompts of each OOD set; None = all"""
    eval_samples: int = Field(4, ge=1)
    """responses per prompt"""
    eval_temperature: float = Field(1.0, ge=0)
    """sampling temperature of the ID/OOD evaluation"""
    eval_max_new_tokens: int | None = Field(None, ge=1)
    """None = max(64, max_completion_length)"""
    eval_batch_size: int = Field(64, ge=1)
    """sequences (prompt x sample) per HF generate call of the RL eval, per process: its KV cache sits beside
    the training state and a resident vLLM (`specs plan` counts it)"""
