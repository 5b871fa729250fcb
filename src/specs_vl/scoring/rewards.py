"""Rewards in TRL's reward-function signature: `f(completions, **kwargs) -> list[float]`.

Completions are plain strings or conversational (`[{"role": "assistant",
"content": ...}]`, content a string or a list of `{"type": "text"}` parts).
Gold answers arrive as dataset columns in kwargs. A broken item scores 0.0
instead of raising: one odd completion must not kill a training run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import parse

FORMAT_WEIGHT = 0.5
ACCURACY_WEIGHT = 1.0

RewardFn = Callable[..., list[float]]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None for p in content)
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def completion_text(completion: Any) -> str:
    """The assistant text of a plain or conversational completion ("" when there is none)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in messages if m.get("role") == "assistant"] or messages
        return _content_text(assistant[-1].get("content")) if assistant else ""
    return ""


def _column(kwargs: dict[str, Any], name: str, n: int) -> list[Any]:
    """Dataset column `name` as a list of length n (missing or short columns give None)."""
    value = kwargs.get(name)
    if value is None:
        return [None] * n
    if isinstance(value, str):
        return [value] * n
    values = list(value)
    return (values + [None] * n)[:n]


def make_format_reward(weight: float = FORMAT_WEIGHT) -> RewardFn:
    """Format reward: `weight` when the response is exactly `<think>..</think> <answer>..</answer>`."""

    def format_reward(completions: list[Any], **kwargs: Any) -> list[float]:
        out = []
        for c in completions:
            try:
                out.append(float(weight) if parse(completion_text(c)).valid else 0.0)
            except Exception:  # noqa: BLE001
                out.append(0.0)
        return out

    return format_reward


def make_accuracy_reward(weight: float = ACCURACY_WEIGHT) -> RewardFn:
    """Accuracy reward: `weight` when the extracted final answer matches the gold `answer` column.

    Optional aligned columns `answer_type` and `choices` refine the check.
    """

    def accuracy_reward(completions: list[Any], answer: list[str], **kwargs: Any) -> list[float]:
        n = len(completions)
        golds = _column({"answer": answer}, "answer", n)
        types, choices = _column(kwargs, "answer_type", n), _column(kwargs, "choices", n)
        out = []
        for c, gold, kind, options in zip(completions, golds, types, choices):
            try:
                ok = gold is not None and is_correct(
                    extract_answer(completion_text(c)), str(gold), kind or "auto", options
                )
            except Exception:  # noqa: BLE001
                ok = False
            out.append(float(weight) if ok else 0.0)
        return out

    return accuracy_reward


format_reward = make_format_reward()
accuracy_reward = make_accuracy_reward()


def shuffled_rewards(funcs: list[RewardFn], seed: int = 0) -> list[RewardFn]:
    """The noise control: each batch's real rewards, permuted over its completions.

    A reward drawn this way has exactly the distribution the real reward gives
    on that batch (the same values, so the same mean, spread and share of tied
    groups) and is independent of which completion it lands on. Every function
    applies the same permutation to the same batch (TRL calls them in turn,
    once per generation batch), so the joint (format, accuracy) draws are kept
    too. The names stay, so TRL logs `rewards/<name>/mean`: the batch's true rates.
    """
    calls = [0] * len(funcs)

    def wrap(i: int, f: RewardFn) -> RewardFn:
        def shuffled(completions: list[Any], **kwargs: Any) -> list[float]:
            real = list(f(completions, **kwargs))
            rng = random.Random(f"{seed}:{calls[i]}:{len(real)}")
            calls[i] += 1
            order = list(range(len(real)))
            rng.shuffle(order)
            return [real[j] for j in order]

        shuffled.__name__ = f.__name__  # type: ignore[attr-defined]
        return shuffled

    return [wrap(i, f) for i, f in enumerate(funcs)]


def compute_score(
    data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> dict[str, float]:
    """The SPECS reward in verl's custom-reward signature (`reward.custom_reward_function.path/.name`).

    verl calls it by keyword once per response. `score` is the reward: 0.5
    for a valid format plus 1.0 for a correct final answer. `acc` (1.0 when
    the answer is correct) and `format` (1.0 when the structure is valid) are
    logged beside it: verl's reward manager takes `score` from a dict and
    records the other keys as extra info, and its validation reports `acc`
    (a bare float would be logged as `acc` too, the whole 1.5-point score).
    `extra_info` (the row's, from `specs export verl`) may give `answer_type`
    and `choices`; `**kwargs` absorbs whatever newer verl versions add.
    Never raises: odd input scores 0.

    Imports only the standard library and math-verify (scoring/answers.py,
    format.py, mathverify.py), so `pip install --no-deps specs-vl` into
    verl's environment is enough (tests/export/test_verl_env.py checks it without torch).
    """
    try:
        text = completion_text(solution_str)
        valid = parse(text).valid
        info = extra_info if isinstance(extra_info, Mapping) else {}
        kind = info.get("answer_type") or "auto"
        ok = ground_truth is not None and is_correct(
            extract_answer(text), str(ground_truth), str(kind), info.get("choices")
        )
        return {
            "score": (FORMAT_WEIGHT if valid else 0.0) + (ACCURACY_WEIGHT if ok else 0.0),
            "acc": 1.0 if ok else 0.0,
            "format": 1.0 if valid else 0.0,
        }
    except Exception:  # noqa: BLE001 - a reward must never crash a training run
        return {"score": 0.0, "acc": 0.0, "format": 0.0}
