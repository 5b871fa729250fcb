"""GF, pass@k and the Rollout Branching Factor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def generalization_factor(g_id: float, g_ood: float, beta: float = 2.0) -> float:
    """GF = (1+b^2) G_ID G_OOD / (b^2 G_ID + G_OOD): an F-beta that weights the OOD gain.

    Returns 0.0 when either gain is <= 0: the F-beta form is only meaningful
    for positive gains, and a cold start that loses ground on either side has
    not generalised. Always report the raw gains beside GF.
    """
    if g_id <= 0 or g_ood <= 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * g_id * g_ood / (b2 * g_id + g_ood)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k), in product form."""
    if n < 0 or c < 0 or k < 1 or c > n or k > n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def nucleus_size(logits: torch.Tensor, top_p: float = 0.95) -> torch.Tensor:
    """Tokens in the smallest top-probability set whose mass reaches `top_p`."""
    probs = torch.softmax(logits.float(), dim=-1)
    sorted_p, _ = probs.sort(dim=-1, descending=True)
    before = sorted_p.cumsum(-1) - sorted_p  # mass strictly above each token
    return (before < top_p).sum(-1)


def rollout_branching_factor(
    step_logits: Sequence[torch.Tensor] | torch.Tensor, mask: torch.Tensor | None = None, top_p: float = 0.95
) -> float:
    """Mean nucleus size over generated positions; `step_logits` is (batch, vocab) per step."""
    if isinstance(step_logits, torch.Tensor) and step_logits.dim() == 3:
        sizes = nucleus_size(step_logits, top_p).float()
    else:
        sizes = torch.stack([nucleus_size(s, top_p) for s in step_logits], dim=1).float()
    if mask is None:
        return sizes.mean().item()
    m = mask.float()
    return ((sizes * m).sum() / m.sum().clamp(min=1)).item()
