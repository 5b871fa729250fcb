"""Generalization Factor, pass@k and the Rollout Branching Factor (SPECS_METHOD.md)."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import torch

from specs_vl.models.nucleus import nucleus_size


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


def rollout_branching_factor(
    step_logits: Sequence[torch.Tensor] | torch.Tensor,
    mask: torch.Tensor | None = None,
    top_p: float = 0.95,
) -> float:
    """Mean nucleus size over generated positions: how many tokens the policy still considers.

    `step_logits` is what HF `generate(output_logits=True)` returns, one
    (batch, vocab) tensor per step, or one (batch, steps, vocab) tensor. Use raw
    logits: `output_scores` are already cut by the sampler's own top-k/top-p.
    `mask` (batch, steps) marks real generated tokens (1) against padding after
    EOS (0). Returns 0.0 when there is no generated position.
    """
    if isinstance(step_logits, torch.Tensor):
        if step_logits.dim() != 3:
            raise ValueError(f"step_logits tensor must be (batch, steps, vocab), got {tuple(step_logits.shape)}")
        steps = list(step_logits.unbind(1))
    else:
        steps = [s if s.dim() == 2 else s.reshape(1, -1) for s in step_logits]
    if not steps:
        return 0.0
    sizes = torch.stack([nucleus_size(s, top_p) for s in steps], dim=1).double()  # (batch, steps)
    if mask is None:
        return sizes.mean().item()
    if tuple(mask.shape) != tuple(sizes.shape):
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match (batch, steps) {tuple(sizes.shape)}")
    m = mask.to(device=sizes.device, dtype=sizes.dtype)
    total = m.sum().item()
    return (sizes * m).sum().item() / total if total > 0 else 0.0
