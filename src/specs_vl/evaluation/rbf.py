"""The Rollout Branching Factor (SPECS_METHOD.md): how many tokens the policy still considers per step."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from specs_vl.models.nucleus import nucleus_size


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
