"""Evaluation: suites, the runner, and the metrics that show generalisation.

The package imports nothing heavy: run configs read from it before torch loads. The Rollout Branching Factor,
which needs torch, is `specs_vl.evaluation.rbf.rollout_branching_factor`.
"""

from .metrics import generalization_factor, pass_at_k

__all__ = ["generalization_factor", "pass_at_k"]
