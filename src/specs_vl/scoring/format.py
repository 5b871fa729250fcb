"""The SPECS output format, `<think>...</think> <answer>...</answer>`, and its five corruptions.

`parse` is a handful of linear `str.find`/`rfind`/`count` scans (no
backtracking regex), so it stays fast on megabytes of unbalanced tags.
`corrupt` builds the rejected side of a preference pair: the same
(correct) response with its structure broken in one of the paper's ways.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE = TAGS = ("<think>", "</think>", "<answer>", "</answer>")
KINDS = (1, 2, 3, 4, 5)
_TAG_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in TAGS) + ")")
_BLANK_LINES = re.compile(r"\n{3,}")
_GAP = object()  # marks where a tag was removed while rewriting


@dataclass(frozen=True)
class Parsed:
    """A response split into its parts; `valid` says whether the structure is exactly right."""

    think: str | None
    answer: str | None
    valid: bool


def _last_pair(text: str, open_: str, close: str) -> str | None:
    """Stripped content of the last `open_ ... close` pair, if any."""
    end = text.rfind(close)
    if end < 0:
        return None
    start = text.rfind(open_, 0, end)
    if start < 0:
        return None
    return text[start + len(open_) : end].strip()


def parse(text: str) -> Parsed:
    """Split a response into think/answer and say whether its structure is exactly right.

    Valid means one `<think>..</think>` then one `<answer>..</answer>` with only
    whitespace around them. The contents are reported even when the response is
    invalid (the last pair of each), because answer checking still needs them.
    """
    if not isinstance(text, str):
        return Parsed(None, None, False)
    think = _last_pair(text, THINK_OPEN, THINK_CLOSE)
    answer = _last_pair(text, ANSWER_OPEN, ANSWER_CLOSE)
    if any(text.count(tag) != 1 for tag in TAGS):
        return Parsed(think, answer, False)
    i0, i1, i2, i3 = (text.find(tag) for tag in TAGS)
    valid = (
        i0 < i1 < i2 < i3
        and not text[:i0].strip()
        and not text[i1 + len(THINK_CLOSE) : i2].strip()
        and not text[i3 + len(ANSWER_CLOSE) :].strip()
    )
    return Parsed(think, answer, valid)


def _rewrite(text: str, replace: dict[str, str]) -> str:
    """Replace tags (`""` drops one) so that the surrounding words neither glue nor double-space.

    Where a tag goes, the spaces on both sides collapse to a single space, or to
    nothing when a line break or the text's edge is already there.
    """
    tokens: list[object] = []
    for i, piece in enumerate(_TAG_SPLIT.split(text)):
        if i % 2 == 0 or piece not in replace:
            tokens.append(piece)
        else:
            tokens.append(_GAP)
            if replace[piece]:
                tokens += [replace[piece], _GAP]
    out: list[str] = []
    gap = False
    for tok in tokens:
        if tok is _GAP:
            gap = True
            continue
        s = str(tok)
        if gap:
            while out and not out[-1].rstrip(" \t"):
                out.pop()
            if out:
                out[-1] = out[-1].rstrip(" \t")
            s = s.lstrip(" \t")
            if not s:
                continue
            if out and not out[-1][-1].isspace() and not s[0].isspace():
                out.append(" ")
            gap = False
        if s:
            out.append(s)
    return _BLANK_LINES.sub("\n\n", "".join(out)).strip()


def corrupt_with_kind(text: str, kind: int | None = None, rng: random.Random | None = None) -> tuple[str, int]:
    """Apply corruption `kind` (SPECS_METHOD.md) and return it, so callers can record which one.

    1 remove all tags; 2 remove only the answer tags; 3 remove only the think
    tags; 4 remove the answer tags and move `</think>` to the end; 5 replace
    `<answer>` with "Answer:" and drop `</answer>`. `kind=None` draws one with `rng`.
    """
    if kind is None:
        kind = (rng if rng is not None else random.Random()).randint(1, 5)
    if isinstance(kind, bool) or kind not in KINDS:
        raise ValueError(f"unknown corruption kind {kind!r}; expected one of 1-5 or None")
    kind = int(kind)
    drop_answer = {ANSWER_OPEN: "", ANSWER_CLOSE: ""}
    if kind == 1:
        out = _rewrite(text, dict.fromkeys(TAGS, ""))
    elif kind == 2:
        out = _rewrite(text, drop_answer)
    elif kind == 3:
        out = _rewrite(text, {THINK_OPEN: "", THINK_CLOSE: ""})
    elif kind == 4:
        out = _rewrite(text, {**drop_answer, THINK_CLOSE: ""}) + THINK_CLOSE
    else:
        out = _rewrite(text, {ANSWER_OPEN: "Answer:", ANSWER_CLOSE: ""})
    return out, kind


def corrupt(text: str, kind: int | None, rng: random.Random | None = None) -> str:
    """A mis-formatted copy of a response (the rejected side of a pair); `kind=None` picks at random."""
    return corrupt_with_kind(text, kind, rng)[0]
