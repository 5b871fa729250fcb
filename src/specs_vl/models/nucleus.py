"""The top-p nucleus: how many tokens top-p sampling draws from at a step (the RBF's unit, evaluation/metrics.py)."""

from __future__ import annotations

import torch

# Slack for float round-off in cumulative probabilities, so that a uniform
# distribution over V tokens has a nucleus of exactly ceil(top_p * V).
_NUCLEUS_EPS = 1e-7


def nucleus_size(logits: torch.Tensor, top_p: float = 0.95) -> torch.Tensor:
    """Number of tokens in the top-p nucleus for each distribution in `logits` (..., vocab) -> (...).

    The nucleus is the smallest set of most probable tokens whose mass reaches
    `top_p`, the set top-p sampling draws from: a token is in it when the mass
    of the tokens ranked above it is still below `top_p`.
    """
    if not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    probs = torch.softmax(logits.double(), dim=-1)
    sorted_p = probs.sort(dim=-1, descending=True).values
    mass_above = sorted_p.cumsum(-1) - sorted_p
    return (mass_above < top_p - _NUCLEUS_EPS).sum(-1)
