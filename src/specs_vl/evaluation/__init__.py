"""Evaluation: suites, the runner, and the metrics that show generalisation."""

from .metrics import (
    generalization_factor,
    nucleus_size,
    pass_at_k,
    rollout_branching_factor,
)

__all__ = ["generalization_factor", "nucleus_size", "pass_at_k", "rollout_branching_factor"]
