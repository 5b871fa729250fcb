"""Final-answer extraction and checking. Never raises; bounded time on any input.

Numbers and expressions go through math-verify, but only after cheap guards
(length and nesting caps) and a fast numeric comparison, because math-verify's
own timeout is a whole-second `signal.alarm` that only works in the main thread.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from specs_vl.format import parse as parse_format

LETTERS = "ABCDEFGHIJ"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LETTER = re.compile(r"^\(?\s*([A-J])\s*\)?(?:[.:)]|\s|$)")
_BARE_LETTER = re.compile(r"^(?:\(([A-J])\)|([A-J])[.)]?)(?:\s+\S.*)?$", re.DOTALL)
_OPTION = re.compile(r"^(?:option|choice)\s+\(?([A-J])\)?\b", re.IGNORECASE)
_TAIL = 4096  # answers live at the end; scanning megabytes for them buys nothing
_MV_MAX_CHARS = 64
_MV_MAX_DEPTH = 6


def _clean(s: str) -> str:
    s = s.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    s = s.strip().strip("$").strip()
    s = re.sub(r"^\\text\{(.*)\}$", r"\1", s)
    return s.rstrip(".").strip()


def last_boxed(text: str) -> str | None:
    """Content of the last complete `\\boxed{...}`, nested braces allowed."""
    start = text.rfind("\\boxed{")
    while start >= 0:
        depth, i = 0, start + len("\\boxed")
        for j in range(i, min(len(text), i + _TAIL)):
            c = text[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j]
        start = text.rfind("\\boxed{", 0, start)  # unclosed: try an earlier one
        if start >= 0 and len(text) - start > 4 * _TAIL:
            return None
    return None


def _after_phrase(text: str, phrase: str) -> str | None:
    low = text.lower()
    k = low.rfind(phrase)
    if k < 0:
        return None
    rest = text[k + len(phrase) :].strip().lstrip(":").strip()
    rest = rest.split("\n")[0].strip().strip('"{} ')
    return _clean(rest) or None


def _extract(text: str, depth: int = 0) -> str | None:
    if depth == 0:
        answer = parse_format(text).answer
        if answer:
            return _extract(answer, 1) or _clean(answer) or None
    tail = text[-_TAIL:]
    boxed = last_boxed(tail)
    if boxed is not None and boxed.strip():
        return _clean(boxed)
    for phrase in ("answer is", "answer:", 'answer":'):
        found = _after_phrase(tail, phrase)
        if found:
            boxed = last_boxed(found)
            return _clean(boxed) if boxed else found
    stripped = _clean(tail)
    m = _BARE_LETTER.match(stripped) if len(stripped) <= 80 else None
    if m and (len(stripped) <= 3 or stripped[1] in ".)" or stripped[0] == "("):
        return m.group(1) or m.group(2)
    nums = _NUMBER.findall(tail)
    if nums:
        return nums[-1]
    return None


def extract_answer(text: str) -> str | None:
    """The final answer: `<answer>`, last `\\boxed{}`, "the answer is", "Answer:", a letter, the last number."""
    try:
        return _extract(text) if isinstance(text, str) else None
    except Exception:  # noqa: BLE001 - scoring must never crash a training run
        return None


def _infer_type(gold: str, choices: Sequence[str] | None) -> str:
    g = gold.strip()
    if len(g) == 1 and g.upper() in LETTERS and (choices or g.upper() in "ABCD"):
        return "mc"
    if g.lower() in ("yes", "no"):
        return "yesno"
    if _to_float(g) is not None:
        return "number"
    return "expression" if any(c in g for c in "\\^/{}") else "word"


def _to_float(s: str) -> float | None:
    s = s.replace(",", "").strip()
    if len(s) > 40 or not _NUMBER.fullmatch(s):
        return None
    try:
        return float(s)
    except (ValueError, OverflowError):
        return None


def _letter(pred: str, choices: Sequence[str] | None) -> str | None:
    p = _clean(pred)
    for pattern in (_LETTER, _OPTION):
        m = pattern.match(p)
        if m:
            return m.group(1).upper()
    if choices:
        norm = _norm_word(p)
        for i, c in enumerate(choices):
            if _norm_word(str(c)) == norm:
                return LETTERS[i]
    return None


def _norm_word(s: str) -> str:
    return " ".join(s.lower().split()).rstrip(".").strip()


def _math_verify(pred: str, gold: str) -> bool:
    if len(pred) > _MV_MAX_CHARS or len(gold) > _MV_MAX_CHARS:
        return False
    depth = max_depth = 0
    for c in pred:
        depth += c in "{(["
        depth -= c in "})]"
        max_depth = max(max_depth, depth)
    if max_depth > _MV_MAX_DEPTH or pred.count("^") > 3 or "!" in pred:
        return False
    from math_verify import parse, verify

    t = 1 if threading.current_thread() is threading.main_thread() else None
    wrap = lambda s: s if s.startswith("$") else f"${s}$"  # noqa: E731
    g, p = parse(wrap(gold), parsing_timeout=t), parse(wrap(pred), parsing_timeout=t)
    return bool(g and p and verify(g, p, timeout_seconds=t))


def is_correct(
    prediction: str | None, gold: str, answer_type: str = "auto", choices: Sequence[str] | None = None
) -> bool:
    """Is `prediction` the `gold` answer? Letters, numbers/expressions, words and yes/no."""
    try:
        if prediction is None or gold is None:
            return False
        pred, gold = _clean(str(prediction)[:_TAIL]), _clean(str(gold))
        if not pred:
            return False
        kind = _infer_type(gold, choices) if answer_type in ("auto", None) else answer_type
        if kind == "mc":
            return _letter(pred, choices) == gold.upper()
        if kind in ("word", "yesno"):
            return _norm_word(pred) == _norm_word(gold)
        a, b = _to_float(pred), _to_float(gold)
        if a is not None and b is not None:
            return abs(a - b) <= 1e-6 * max(1.0, abs(b))
        if _norm_word(pred) == _norm_word(gold):
            return True
        return _math_verify(pred, gold)
    except Exception:  # noqa: BLE001
        return False
