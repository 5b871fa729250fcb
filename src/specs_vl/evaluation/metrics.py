"""Generalization Factor and pass@k (SPECS_METHOD.md); the Rollout Branching Factor is in rbf.py (torch)."""

from __future__ import annotations

import operator

import numpy as np


def generalization_factor(g_id: float, g_ood: float, beta: float = 2.0) -> float | None:
    """GF = (1 + b^2) G_ID G_OOD / (b^2 G_ID + G_OOD): an F-beta score that weights the OOD gain.

    Undefined (None) when either gain is <= 0: the F-beta form only makes
    sense for positive gains (with one negative gain it can flip sign or divide
    by zero). None is written as null in JSON and "—" in the report, and a
    claim that needs it reads "not testable", never "did not hold"; callers
    report the raw gains beside it.
    """
    g_id, g_ood, b2 = float(g_id), float(g_ood), float(beta) ** 2
    if not (g_id > 0 and g_ood > 0):
        return None
    return (1 + b2) * g_id * g_ood / (b2 * g_id + g_ood)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) from n samples with c correct.

    Computed as the Codex paper's numerically stable product. Raises ValueError
    unless 0 <= c <= n and 1 <= k <= n (pass@0 has no meaning).
    """
    n, c, k = operator.index(n), operator.index(c), operator.index(k)
    if n < 0 or c < 0 or k < 1 or c > n or k > n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
