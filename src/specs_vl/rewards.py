"""Rewards in TRL's reward-function signature: `f(completions, **kwargs) -> list[float]`.

Completions are plain strings or conversational (`[{"role": "assistant",
"content": ...}]`). Gold answers arrive as dataset columns in kwargs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specs_vl.answers import extract_answer, is_correct
from specs_vl.format import parse

FORMAT_WEIGHT = 0.5
ACCURACY_WEIGHT = 1.0


def completion_text(completion: Any) -> str:
    """The assistant text of a plain or conversational completion."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else ""
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content)
    return ""


def make_format_reward(weight: float = FORMAT_WEIGHT) -> Callable[..., list[float]]:
    def format_reward(completions: list[Any], **kwargs: Any) -> list[float]:
        out = []
        for c in completions:
            try:
                out.append(weight if parse(completion_text(c)).valid else 0.0)
            except Exception:  # noqa: BLE001
                out.append(0.0)
        return out

    return format_reward


def make_accuracy_reward(weight: float = ACCURACY_WEIGHT) -> Callable[..., list[float]]:
    def accuracy_reward(completions: list[Any], answer: list[str], **kwargs: Any) -> list[float]:
        types = kwargs.get("answer_type") or [None] * len(completions)
        choices = kwargs.get("choices") or [None] * len(completions)
        out = []
        for c, gold, t, ch in zip(completions, answer, types, choices):
            ok = is_correct(extract_answer(completion_text(c)), gold, t or "auto", ch or None)
            out.append(weight if ok else 0.0)
        return out

    return accuracy_reward


format_reward = make_format_reward()
accuracy_reward = make_accuracy_reward()
