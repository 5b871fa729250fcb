"""Final-answer extraction and checking. Never raises and stays fast on any input.

Answers sit at the end of a response, so the searches look at its last
`WINDOW` characters: megabytes of output cost no more than one long answer.
Numbers get a fast exact comparison first. Only short strings that pass cheap
guards reach math-verify (sympy), and in the main thread under one sub-second
deadline for parse and verify together: math-verify's own timeout is a
whole-second `signal.alarm` per step. Off the main thread no signal can
interrupt sympy, so there the guards are the only protection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from specs_vl.scoring.format import ANSWER_CLOSE, ANSWER_OPEN, TAGS
from specs_vl.scoring.format import parse as parse_format
from specs_vl.scoring.mathverify import math_verify_equal

WINDOW = 65_536  # characters searched from the end of a response
ANSWER_TYPES = ("auto", "integer", "number", "mc", "word", "yesno", "expression")
_ALIASES = {
    "int": "integer",
    "float": "number",
    "text": "word",
    "free_form": "auto",
    "list": "expression",
    "multi_choice": "mc",
    "multiple_choice": "mc",
    "choice": "mc",
    "bool": "yesno",
    "yes_no": "yesno",
}
_SHORT = 300  # longest bare-letter response, longest phrase answer read, longest math-verify input

# extraction
_BOXED_OR_BRACE = re.compile(r"\\boxed\s*\{|[{}]")
_ANSWER_IS = re.compile(r"answer\s+is\b", re.IGNORECASE)
_ANSWER_COLON = re.compile(r"\banswer\**\"?\s*[:\uff1a]", re.IGNORECASE)
_PHRASE_END = re.compile(r"\n|\.\s|" + "|".join(re.escape(t) for t in TAGS))
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])-?\.\d+")
_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")
# option letters: "B", "(B)", "B.", "B) text", "option B"
_LETTER_ONLY = re.compile(r"\(?([A-Z])\)?[.:]?")
_LETTER_TEXT = re.compile(r"(?:\(([A-Z])\)|([A-Z])[.):])\s+\S.*", re.DOTALL)
_LETTER_FORMS = (
    re.compile(_LETTER_ONLY.pattern, re.IGNORECASE),
    re.compile(_LETTER_TEXT.pattern, re.IGNORECASE | re.DOTALL),
    re.compile(r"(?:the\s+)?(?:option|choice)\s*\(?([A-Z])\)?[.:]?", re.IGNORECASE),
)
_CHOICE_LABEL = re.compile(r"^\(?[A-Z][.):]\s+")
# numbers and words
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_UNIT = re.compile(r"\s*(?:\\?%|°|\^\s*\{?\\circ\}?|\\circ|[A-Za-z]{1,12}(?:\s[A-Za-z]{1,12})?)")
_NOT_UNITS = {
    "pi",
    "e",
    "i",
    "x",
    "y",
    "n",
    "sqrt",
    "or",
    "and",
    "to",
    "times",
    "plus",
    "minus",
    "more",
    "less",
    "not",
    "than",
    "over",
    "divided",
    "squared",
    "cubed",
}
_WORDLIKE = re.compile(r"[^\W\d_][^\W\d_\s'’.&-]*(?:[\s'’.&-]+[^\W\d_]+)*\.?")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_PROSE = re.compile(r"[A-Za-z]{2,}")
# math-verify guards


# --------------------------------------------------------------------------- extraction


def _clean(s: str) -> str:
    """Drop what surrounds an answer but is not it: NULs, `$`, `\\text{}`, quotes, `**`, a final period."""
    s = s.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    for _ in range(3):
        before = s
        s = s.strip().strip("*").strip().strip("$").strip()
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
            s = s[1:-1].strip()
        m = _WRAPPER.fullmatch(s)
        if m:
            s = m.group(1).strip()
        if s.endswith(".") and not s.endswith(".."):
            s = s[:-1].rstrip()
        if s == before:
            break
    return s


def last_boxed(text: str) -> str | None:
    """Content of the last complete `\\boxed{...}` (nested braces allowed); unclosed ones are skipped.

    One pass with a stack, so even thousands of unclosed `\\boxed{` stay linear.
    """
    first = text.find("\\boxed")
    if first < 0:
        return None
    stack: list[tuple[int, bool]] = []  # (content start, opened by \boxed)
    best: tuple[int, int] | None = None
    for m in _BOXED_OR_BRACE.finditer(text, first):
        if m.group() != "}":
            stack.append((m.end(), m.group() != "{"))
        elif stack:
            start, boxed = stack.pop()
            if boxed and (best is None or start > best[0]):
                best = (start, m.start())
    return None if best is None else text[best[0] : best[1]]


def _after(text: str, pattern: re.Pattern[str]) -> str | None:
    """The answer written after the last match of `pattern`: the rest of that line or sentence."""
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - the loop keeps the last match
        pass
    if last is None:
        return None
    rest = text[last.end() : last.end() + 2 * _SHORT].lstrip(" \t:*\uff1a")
    if rest[:1] in "\"'":  # JSON-ish: {"answer": "yellow"}
        end = rest.find(rest[0], 1)
        return (_clean(rest[1:end]) or None) if end > 0 else None
    boxed = last_boxed(rest)
    if boxed is not None:
        return _clean(boxed) or None
    cut = _PHRASE_END.search(rest)
    return _clean(rest[: cut.start()] if cut else rest) or None


def _refined(text: str) -> str | None:
    """The last non-empty `\\boxed{}`, else what follows the last "the answer is", else "Answer:"."""
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        return _clean(boxed)
    return _after(text, _ANSWER_IS) or _after(text, _ANSWER_COLON)


def _bare_letter(text: str) -> str | None:
    """`B`, `(B)`, `B.`, `B) text`: the whole response is an option letter."""
    if len(text) > _SHORT:
        return None
    m = _LETTER_ONLY.fullmatch(text) or _LETTER_TEXT.fullmatch(text)
    return next((g for g in m.groups() if g), None) if m else None


def _extract(text: str) -> str | None:
    if ANSWER_OPEN in text and ANSWER_CLOSE in text:
        content = parse_format(text).answer
        if content:
            found = _refined(content[-WINDOW:]) or _clean(content)
            if found:
                return found
    window = text[-WINDOW:]
    found = _refined(window) or _bare_letter(_clean(window))
    if found:
        return found
    last = None
    for last in _NUMBER.finditer(window):  # noqa: B007 - the loop keeps the last match
        pass
    return last.group() if last else None


def extract_answer(text: str) -> str | None:
    """The final answer of a response, or None.

    Priority: `<answer>` content (refined by a `\\boxed{}` or "the answer is"
    inside it), the last complete `\\boxed{}`, the last "the answer is ...",
    the last "Answer: ...", a bare option letter, the last number.
    """
    try:
        return _extract(text) if isinstance(text, str) else None
    except Exception:  # noqa: BLE001 - scoring must never crash a training run
        return None


# --------------------------------------------------------------------------- letters, numbers, words


def _norm(s: str) -> str:
    """Case, inner whitespace and a trailing period do not make a word answer wrong."""
    return " ".join(s.lower().split()).rstrip(".").strip()


def _as_number(s: str, units: bool = False) -> Decimal | None:
    """A plain number ("1,234.5", "-3", "25%"; with `units`, also "5 cm", "30^\\circ"), else None."""
    s = s.replace(",", "").strip()
    m = _NUMERIC.match(s)
    if not m or len(m.group()) > 100:
        return None
    rest = s[m.end() :].strip()
    is_unit = bool(_UNIT.fullmatch(rest)) and not _NOT_UNITS.intersection(rest.lower().split())
    if rest and rest not in ("%", "\\%") and not (units and is_unit):
        return None
    try:
        value = Decimal(m.group())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _numbers_equal(a: Decimal, b: Decimal) -> bool:
    """Integers exactly; decimals up to float round-off (so "0.30000000000000004" is 0.3)."""
    if a == a.to_integral_value() and b == b.to_integral_value():
        return a == b
    return abs(a - b) <= Decimal("1e-9") * max(Decimal(1), abs(b))


def _letter_of(s: str) -> str | None:
    """The option letter written as "B", "(B)", "B.", "B) text", "option B" (any case)."""
    s = s.strip()
    if len(s) > _SHORT:
        return None
    for form in _LETTER_FORMS:
        m = form.fullmatch(s)
        if m:
            return next(g for g in m.groups() if g).upper()
    return None


def _choice_letter(s: str, choices: Sequence[str] | None) -> str | None:
    """The letter of the option whose text `s` is (with or without its own "A." label)."""
    target = _norm(s)
    for i, choice in enumerate((choices or [])[:26]):
        text = _clean(str(choice))
        if target and target in (_norm(text), _norm(_CHOICE_LABEL.sub("", text))):
            return chr(ord("A") + i)
    return None


def _as_choices(choices: object) -> list[str] | None:
    """Choices as a list of strings; a bare string or anything unusable counts as no choices."""
    if choices is None or isinstance(choices, (str, bytes)):
        return None
    try:
        return [str(c) for c in list(choices)[:26]] or None  # type: ignore[call-overload]
    except Exception:  # noqa: BLE001
        return None


def _infer_type(gold: str, choices: Sequence[str] | None) -> str:
    letter = _LETTER_ONLY.fullmatch(gold)
    if letter and (choices or letter.group(1) in "ABCD"):
        return "mc"
    if choices and _choice_letter(gold, choices):
        return "mc"
    if _norm(gold) in ("yes", "no"):
        return "yesno"
    value = _as_number(gold, units=True)
    if value is not None:
        return "integer" if value == value.to_integral_value() else "number"
    return "word" if _WORDLIKE.fullmatch(gold) else "expression"


# --------------------------------------------------------------------------- math-verify, guarded


def _check(pred: str, gold: str, kind: str, choices: list[str] | None) -> bool:
    if kind == "mc":
        gold_letter = _letter_of(gold)
        want = gold_letter or _choice_letter(gold, choices)
        got = _letter_of(pred) or _choice_letter(pred, choices)
        if want is not None and got is not None:
            return got == want
        # gold given as the option's text: the prediction may still state that text
        return gold_letter is None and _check(pred, gold, _infer_type(gold, None), None)
    if _norm(pred) == _norm(gold):
        return True
    a, b = _as_number(pred, units=True), _as_number(gold, units=True)
    if a is not None and b is not None:
        return _numbers_equal(a, b)
    if kind in ("word", "yesno"):
        return False
    if kind in ("integer", "number") and _PROSE.search(_LATEX_COMMAND.sub("", pred)):
        return False  # words around a number: math-verify would fish a number out of prose
    return math_verify_equal(pred, gold)


def is_correct(
    prediction: str | None,
    gold: str,
    answer_type: str = "auto",
    choices: Sequence[str] | None = None,
) -> bool:
    """Does `prediction` (an extracted answer) match `gold`? Never raises; False on any doubt.

    answer_type: auto | integer | number | mc | word | yesno | expression
    ("auto" infers it from gold). Option letters accept "B", "(B)", "B.",
    "B) text", "option B", and the option's text when `choices` is given.
    """
    try:
        if prediction is None or gold is None:
            return False
        pred, gold = _clean(str(prediction)), _clean(str(gold))
        if not pred or not gold:
            return False
        choices = _as_choices(choices)
        kind = str(answer_type or "auto").strip().lower()
        kind = _ALIASES.get(kind, kind)
        if kind not in ANSWER_TYPES or kind == "auto":
            kind = _infer_type(gold, choices)
        return bool(_check(pred, gold, kind, choices))
    except Exception:  # noqa: BLE001 - a reward must never crash a training run
        return False


def answer_key(prediction: str | None) -> str | None:
    """What a majority vote counts as one answer: the extracted answer `_clean`ed as `is_correct` cleans it,
    then a plain number as its value ("3", "3.0", "+3" are "3"), an option letter as the letter ("(b)",
    "B.", "option B" are "B"), anything else with case and inner whitespace folded. None stays None."""
    try:
        s = _clean(str(prediction)) if prediction is not None else ""
        if not s:
            return None
        value = _as_number(s)
        if value is not None:
            return format(value.normalize(), "f")
        return _letter_of(s) or _norm(s)
    except Exception:  # noqa: BLE001 - scoring must never crash an evaluation
        return None
