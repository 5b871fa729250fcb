"""The SPECS output format: `<think>...</think> <answer>...</answer>`, and its corruptions.

Parsing is a linear scan with `str.find`/`count` (no backtracking regex), so
it stays fast on megabytes of unbalanced tags.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

TAGS = ("<think>", "</think>", "<answer>", "</answer>")
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class Parsed:
    think: str | None
    answer: str | None
    valid: bool


def _between(text: str, open_: str, close: str) -> str | None:
    """Content of the last open_...close pair."""
    end = text.rfind(close)
    if end < 0:
        return None
    start = text.rfind(open_, 0, end)
    if start < 0:
        return None
    return text[start + len(open_) : end].strip()


def parse(text: str) -> Parsed:
    """Valid: exactly one `<think>..</think>` then one `<answer>..</answer>`, only whitespace outside."""
    if not isinstance(text, str):
        return Parsed(None, None, False)
    think, answer = _between(text, "<think>", "</think>"), _between(text, "<answer>", "</answer>")
    if any(text.count(t) != 1 for t in TAGS):
        return Parsed(think, answer, False)
    i0, i1, i2, i3 = (text.find(t) for t in TAGS)
    valid = (
        i0 < i1 < i2 < i3
        and not text[:i0].strip()
        and not text[i1 + len("</think>") : i2].strip()
        and not text[i3 + len("</answer>") :].strip()
    )
    return Parsed(think, answer, valid)


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def corrupt_with_kind(text: str, kind: int | None = None, rng: random.Random | None = None) -> tuple[str, int]:
    """Apply corruption `kind` (1-5, SPECS_METHOD.md) and say which one was applied.

    1 remove all tags; 2 remove only the answer tags; 3 remove only the think
    tags; 4 remove the answer tags and move `</think>` to the end; 5 replace
    `<answer>` with "Answer:" and drop `</answer>`.
    """
    if kind is None:
        kind = (rng or random.Random()).randint(1, 5)
    if kind not in (1, 2, 3, 4, 5):
        raise ValueError(f"unknown corruption kind {kind!r}; expected 1-5 or None")
    t = text
    if kind == 1:
        for tag in TAGS:
            t = t.replace(tag, " ")
    elif kind == 2:
        t = t.replace("<answer>", " ").replace("</answer>", " ")
    elif kind == 3:
        t = t.replace("<think>", " ").replace("</think>", " ")
    elif kind == 4:
        t = t.replace("<answer>", " ").replace("</answer>", " ").replace("</think>", " ")
        t = _tidy(t) + " </think>"
    else:
        t = t.replace("<answer>", "Answer: ").replace("</answer>", " ")
    return _tidy(t), kind


def corrupt(text: str, kind: int | None, rng: random.Random | None = None) -> str:
    """A mis-formatted copy of a valid response; `kind=None` picks one of the five at random."""
    return corrupt_with_kind(text, kind, rng)[0]
