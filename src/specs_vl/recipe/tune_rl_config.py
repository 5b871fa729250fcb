"""TuneRLSettings: the GRPO settings rule (a grid judged on dev against its own control), beside tune_rl.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TuneRLSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    learning_rates: list[float] = Field(default_factory=lambda: [1e-5, 3e-5, 1e-4], min_length=1)
    """learning rates of the grid"""
    prompts_per_update: list[int] = Field(default_factory=lambda: [4, 8], min_length=1)
    """prompts per optimiser step, the grid's second axis"""
    freeze_vision_tower: list[bool] = Field(default_factory=lambda: [False, True], min_length=1)
    """with and without a frozen vision tower (grid)"""
    lora_ranks: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """grid; 0 = every weight trains"""
    lora_alpha: int = Field(32, ge=1)
    """fixed across ranks, so a rank's rate is comparable (training/lora.py)"""
    mini_batches: int = Field(2, ge=1)
    """optimiser steps per rollout batch (the ratio leaves 1 after the first)"""
    steps: int = Field(40, ge=1)
    """rollout batches per setting"""
    suite: str = "world-dev"
    """what the rule reads; never a test split"""
    n: int = Field(200, ge=1)
    """dev prompts"""
    samples: int = Field(4, ge=1)
    """responses per prompt at the RL eval temperature"""
    margin: float = Field(0.02, ge=0)
    """accuracy a setting must gain over the start and over its control"""
    tie: float = Field(0.005, ge=0)
    """settings this close to the best count as tied"""
