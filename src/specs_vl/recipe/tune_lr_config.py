"""TuneLRSettings: the cold start's learning-rate rule, fixed before the run, beside tune_lr.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from specs_vl.evaluation.suites import SUITES


class TuneLRSettings(BaseModel):
    """The learning-rate rule; the same for every method."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    grid: list[float] = Field(default_factory=lambda: [1e-5, 3e-5, 1e-4, 3e-4, 1e-3], min_length=1)
    """learning rates tried, smallest first"""
    target: float = Field(0.9, gt=0, le=1)
    """format validity on dev"""
    suite: str = "world-dev"
    """the dev suite the rule is judged on"""
    n: int | None = Field(64, ge=1)
    """dev prompts"""
    samples: int = Field(2, ge=1)
    """samples per prompt at T=1"""
    check_every: int = Field(0, ge=0)
    """steps between dev checks inside the epoch; 0 = at its end only"""
    max_new_tokens: int = Field(64, ge=1)
    """response length limit of the dev evaluation"""
    batch_size: int = Field(64, ge=1)
    """prompts per sampling batch of the dev evaluation"""
    seeds: Literal["first", "each"] = "first"
    """apply the rule on the first seed only, or on every seed"""

    @field_validator("grid")
    @classmethod
    def _positive(cls, grid: list[float]) -> list[float]:
        if any(lr <= 0 for lr in grid):
            raise ValueError(f"every learning rate must be > 0, got {grid}")
        return sorted(set(grid))

    @field_validator("suite")
    @classmethod
    def _known(cls, suite: str) -> str:
        if suite not in SUITES:
            raise ValueError(f"unknown suite {suite!r}; known: {sorted(SUITES)}")
        return suite
