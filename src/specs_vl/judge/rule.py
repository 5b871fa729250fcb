"""Does a response's reasoning agree with its answer? (the chosen side's consistency check)

The paper drops chosen responses whose reasoning does not support their
answer. The rule judge re-derives the conclusion instead of looking for the
answer's characters in the text:
1. `format.parse` the response; no `<think>` or no `<answer>` -> not ok.
2. Facts: "label: N." statements. One label stated with two values -> not ok.
3. Arithmetic: every "a + b (= c)" chain is evaluated; a stated result that
   differs, or an operand that is none of the stated facts, -> not ok.
4. Comparisons: "a is more than / less than / equal to b" must be true; in
   "Are there more X ... than Y ...?" the compared numbers must be X's and
   Y's, and "so yes/no" must follow from the relation.
5. Choices: "the tallest / most is C, option L" needs C to be the largest
   stated fact and L to be C's letter in the question's options.
6. The conclusion's value is the last claim ("so X", "option L", "the answer
   is X", a computed result, "the C bar is N", a colon count) or, failing
   those, the last number or an answer word in the last sentence; it must
   equal the `<answer>` value under `answers.is_correct`.
So "circles: 3. triangles: 3. 2 + 3." with `<answer>3</answer>` fails twice:
2 is not a stated count, and 2 + 3 concludes 5, not 3.
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

from specs_vl.judge.base import Verdict
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import parse
from specs_vl.scoring.styles import NUMBER_WORDS

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NUM = r"-?\d+(?:\.\d+)?"
_FACT = re.compile(rf"(?:^|(?<=[.;,]\s)|(?<=\n))([A-Za-z][A-Za-z ]{{0,30}}?):\s*({_NUM})(?=[.;,\s]|$)")
_EXPR = re.compile(rf"(?<![\w.])({_NUM}(?:\s*[-+*×/]\s*{_NUM})+)(?:\s*=\s*({_NUM}))?")
_TERM = re.compile(rf"([-+*×/]?)\s*({_NUM})")
_REL = re.compile(
    rf"({_NUM}) is (more than|greater than|larger than|less than|fewer than|smaller than|equal to|the same as) ({_NUM})"
)
_SO = re.compile(
    r"\b(?:so|thus|therefore|hence)\b,?\s*(?:(?:it|this|that|the answer|the total|the result) is\s*:?\s*"
    r"|we get\s*|there are\s*)?\(?([A-Za-z0-9.\-/]+)\)?",
    re.IGNORECASE,
)
_OPTION = re.compile(r"\boption\s+\(?([A-Z])\)?")
_PICK = re.compile(r"\b(?:the tallest|the highest|most|the most|the largest) is (\w+)", re.IGNORECASE)
_BAR = re.compile(rf"\bthe (\w+) bar is ({_NUM})", re.IGNORECASE)
_ANSWER_IS = re.compile(r"\banswer is\s*:?\s*\\?(?:boxed\{)?([A-Za-z0-9.\-/]+)", re.IGNORECASE)
_COUNT = re.compile(rf"\b(?:I count|that is|the total is)\b[^.\d]*?({_NUM})", re.IGNORECASE)
_QUESTION_MORE = re.compile(r"more (\w+)(?: \w+)? than (\w+)", re.IGNORECASE)
_OPTIONS = re.compile(r"\b([A-D])\.\s+([\w-]+)")
_REL_TRUE = {
    "more than": lambda a, b: a > b,
    "greater than": lambda a, b: a > b,
    "larger than": lambda a, b: a > b,
    "less than": lambda a, b: a < b,
    "fewer than": lambda a, b: a < b,
    "smaller than": lambda a, b: a < b,
    "equal to": lambda a, b: a == b,
    "the same as": lambda a, b: a == b,
}


def conclusion(think: str) -> str:
    parts = [p.strip() for p in _SENTENCE.split(think.strip()) if p.strip()]
    return parts[-1].rstrip(".!?").strip() if parts else ""


def _num(s: str) -> Fraction:
    return Fraction(s)


def _show(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else str(float(x))


def _facts(think: str) -> tuple[dict[str, Fraction], str | None]:
    facts: dict[str, Fraction] = {}
    for m in _FACT.finditer(think):
        label, value = m.group(1).strip().lower().rstrip("s"), _num(m.group(2))
        if label in facts and facts[label] != value:
            return facts, f"{label!r} is stated as {_show(facts[label])} and as {_show(value)}"
        facts[label] = value
    return facts, None


def _evaluate(expr: str) -> Fraction | None:
    """Left-to-right with * and / first, as written; None on division by zero."""
    terms = [(op or "+", _num(n)) for op, n in _TERM.findall(expr)]
    sums: list[Fraction] = []
    for op, n in terms:
        if op in "*×" and sums:
            sums[-1] *= n
        elif op == "/" and sums:
            if n == 0:
                return None
            sums[-1] /= n
        else:
            sums.append(n if op == "+" else -n)
    return sum(sums, Fraction(0))


def _claims(think: str, question: str, facts: dict[str, Fraction]) -> tuple[list[tuple[int, str]], str | None]:
    """(position, value) results the reasoning derives, or the first inconsistency found."""
    claims: list[tuple[int, str]] = []
    values = Counter(facts.values())
    for m in _EXPR.finditer(think):
        result = _evaluate(m.group(1))
        if result is None:
            return claims, f"{m.group(1)!r} divides by zero"
        if m.group(2) is not None and _num(m.group(2)) != result:
            return claims, f"{m.group(1)} is {_show(result)}, not {m.group(2)}"
        operands = Counter(_num(n) for _, n in _TERM.findall(m.group(1)))
        if facts and operands - values:
            return claims, f"{m.group(1)!r} uses numbers that are not among the stated facts"
        claims.append((m.end(), _show(result)))
    asked = _QUESTION_MORE.search(question)
    for m in _REL.finditer(think):
        a, rel, b = _num(m.group(1)), m.group(2), _num(m.group(3))
        if not _REL_TRUE[rel](a, b):
            return claims, f"{m.group(0)!r} is false"
        if asked and facts:
            want = (facts.get(asked.group(1).lower().rstrip("s")), facts.get(asked.group(2).lower().rstrip("s")))
            if None not in want and want not in ((a, b), (b, a)):
                return claims, f"{m.group(0)!r} does not compare the asked counts {_show(want[0])} and {_show(want[1])}"
            if None not in want:
                claims.append((m.end(), "yes" if want[0] > want[1] else "no"))
    options = dict(_OPTIONS.findall(question))
    picks: list[tuple[int, str]] = []
    for m in _PICK.finditer(think):
        picked = m.group(1).lower()
        if facts and picked in facts and facts[picked] != max(facts.values()):
            return claims, f"{picked} ({_show(facts[picked])}) is not the largest stated value"
        claims.append((m.end(), picked))
        picks.append((m.end(), picked))
    for m in _OPTION.finditer(think):
        letter = m.group(1)
        named = [c for pos, c in picks if pos <= m.start()]
        if options and named and options.get(letter, "").lower() != named[-1]:
            return claims, f"option {letter} is {options.get(letter)!r}, not {named[-1]!r}"
        claims.append((m.end(), letter))
    for m in _BAR.finditer(think):
        color, value = m.group(1).lower(), _num(m.group(2))
        if color in facts and facts[color] != value:
            return claims, f"the {color} bar is stated as {_show(facts[color])}, then as {_show(value)}"
        claims.append((m.end(), _show(value)))
    return claims, None


def _statements(think: str) -> list[tuple[int, str]]:
    """What the reasoning says its result is, in words: "so X", "the answer is X", "I count ...: N"."""
    return [(m.end(), m.group(1).rstrip(".")) for pat in (_SO, _ANSWER_IS, _COUNT) for m in pat.finditer(think)]


def _value(s: str) -> str:
    """ "four" -> "4": the world's number-word requirement."""
    return str(NUMBER_WORDS.index(s.lower())) if s.lower() in NUMBER_WORDS else s


def _agrees(claim: str, answer: str) -> bool:
    claim, answer = _value(claim), _value(answer)
    return claim.lower() == answer.lower() or is_correct(answer, claim) or is_correct(claim, answer)


def rule_judge(question: str, response: str) -> Verdict:
    p = parse(response)
    if not p.think or not p.answer:
        return Verdict(False, "missing <think> or <answer>")
    answer = extract_answer(f"<answer>{p.answer}</answer>") or p.answer.strip()
    facts, clash = _facts(p.think)
    if clash:
        return Verdict(False, clash)
    claims, wrong = _claims(p.think, question or "", facts)
    if wrong:
        return Verdict(False, wrong)
    last, said = conclusion(p.think), _statements(p.think)
    if claims or said:
        # the last derived value must be the answer, and so must a statement made after it
        finals = [
            max(group)[1]
            for group in (claims, said)
            if group and (group is claims or not claims or max(said) > max(claims))
        ]
        for final in finals:
            if not _agrees(final, answer):
                return Verdict(False, f"reasoning concludes {final!r}, answer is {answer!r}")
        return Verdict(True, f"reasoning concludes {finals[-1]!r}, answer is {answer!r}")
    if re.fullmatch(_NUM, answer):
        numbers = re.findall(_NUM, last)
        if numbers and _agrees(numbers[-1], answer):
            return Verdict(True, f"conclusion {last!r} ends on {numbers[-1]}, answer is {answer!r}")
    elif re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", last, re.IGNORECASE):
        return Verdict(True, f"answer {answer!r} stated in the conclusion {last!r}")
    return Verdict(False, f"conclusion {last!r} does not support answer {answer!r}")
