"""A rule-based stand-in for MathVista's GPT answer extraction.

The official pipeline (lupantech/MathVista `evaluation/extract_answer.py`)
first applies three rules, kept here as they are: an empty response gives
"", a multiple-choice response equal to an option is that option, and an
integer / float question whose whole response parses as one gives it. Then
GPT-4 reads the query and the response, with five worked examples
(`evaluation/prompts/ext_ans.py`), and writes the answer: a letter, a
number, a list. These rules imitate what it writes; the official
normalisation and equality (`mathvista_score`) then run unchanged.

In order: a runaway few-shot continuation is read as GPT reads it
(`mathvista_rules`); our <answer> span or the last \\boxed{} narrows the text; a
refusal with no answer in it becomes "N/A" when it declines outright or
concludes that it is impossible to answer, "Cannot be answered" / "Cannot be
determined" when its conclusion says so ("Therefore, the question cannot be
answered"), and is copied when it is a short statement of what is missing
(as GPT writes it; the official normaliser then maps any of these to the
option nearest by edit distance, or to None on a free-form question: we do
the same, on purpose);
then, for multiple choice, an explicit option statement anywhere ("the
correct option is (C)", "answer is option B", "(B)" alone on a line), "None"
when the conclusion finds its result among none of the options ("this is not
an option in the choices"), an answer that starts with an option's text
("No, there are ..."), the option text named last in the conclusion, and the
edit-distance fallback; for free-form answers, "answer is X" / "Answer: X"
(word-bounded), a list, then a number: the first in a short answer, else in
the concluding sentence (in a worked solution, "$8 + $10 = $18 ... Chase
will spend $18.", the last sentence with a number), skipping numbers the
question itself gives (not the prompt's format examples, "e.g., 1, 2, 3, at
the end"). A hyphen between two numbers ("0-5", "45.2%-65.6%") is a range,
not a minus sign.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from specs_vl.evaluation.benchmarks.mathvista_rules import answered_block

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
_REFUSAL = re.compile(
    r"\b(?:I can't|I cannot|I can not|I'm unable|I am unable|I'm sorry|I am sorry|sorry, I|As an AI|"
    r"unable to (?:determine|answer|provide|process|see|view|analy[sz]e)|"
    r"cannot be (?:definitively )?(?:determined|answered|provided)|"
    r"can't be determined|(?:not possible|impossible) to (?:determine|answer|tell|provide|say)|"
    r"(?:does not|doesn't|do not) (?:provide|give|contain|include) (?:enough |sufficient |any |the )?(?:specific )?"
    r"(?:information|data|details|context)|not enough information|insufficient information|"
    r"question is (?:not clear|unclear|ambiguous|incomplete|invalid|nonsensical|not valid)|"
    r"cannot (?:answer|determine|provide|process|see|view))",
    re.IGNORECASE,
)
# an explicit option statement: "answer is (B)", "correct option is C", "answer is option B", "Answer: B"
_OPTION_SAID = re.compile(
    r"\b(?:answer|option|choice)(?:\s+letter)?\s*(?:is|would be|should be|will be|=|:)?\s*[:\-]?\s*(?:option\s+|choice\s+)?"  # noqa: E501
    r"\(?([A-Z])\)?(?![\w'])",
    re.IGNORECASE,
)
_PAREN_LETTER = re.compile(r"\(([A-Z])\)")
_LONE_LETTER = re.compile(r"^\s*\(?([A-Z])\)?\s*(?:[.:)]\s*.*)?$")
_ANSWER_IS = re.compile(r"\b(?:final answer|answer)\s*(?:is|:|=)\s*:?\s*(.+)", re.IGNORECASE)
# minus only where no digit, letter, % or ) precedes: "0-5" and "45.2%-65.6%" are ranges
_NUMBER = re.compile(
    r"(?<![\w%)])-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)|(?<=[\w%)])(?:\d{1,3}(?:,\d{3})+"
    r"(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
)
# a calculation, "$8 + $10 = $18": a response that works the answer out states its result last
_WORKED = re.compile(r"\d[^=\n]*=\s*[-$]?\d")
_LIST = re.compile(r"\[[^\[\]]*\]")
_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[$\\])|\n+")
_CONCLUDE = re.compile(r"\b(?:therefore|thus|so|hence|in conclusion|in total|the answer|answer)\b", re.IGNORECASE)
_REJECTS = re.compile(
    r"\b(?:incorrect|not correct|wrong|not the (?:correct )?answer|eliminate|ruled out)\b", re.IGNORECASE
)
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|none|cannot)\b|n't\b", re.IGNORECASE)
# a response that declines outright, naming no missing fact of the question: GPT writes "N/A" for it
_DECLINE = re.compile(
    r"^(?:The solution (?:cannot|can't|would|to this|depends)|As an AI|"
    r"I can't process|I cannot process|I'm unable|I am unable)",
    re.IGNORECASE,
)
# "Therefore, it is impossible to answer.": a refusal's conclusion, which GPT sums up as "N/A" ...
_GIVES_UP = re.compile(r"^(?:Therefore|Thus|So|Hence|As a result)\b", re.IGNORECASE)
# ... unless it says what cannot be done: "the question cannot be answered" GPT writes as "Cannot be answered",
# "the answer cannot be determined" as "Cannot be determined"
_CANNOT_BE = re.compile(
    r"\b(?:question|answer|solution)\s+(?:cannot|can't|can not)\s+be\s+(?:definitively\s+)?(answered|determined)\b",
    re.IGNORECASE,
)
# the prompt's format examples ("e.g., 1, 2, 3, at the end") are no numbers the question gives
_EXAMPLES = re.compile(r"\be\.g\.,?[^\n]*?(?=\bat the end\b|$)", re.IGNORECASE | re.MULTILINE)
_SPEAKER = re.compile(r"^A:\s+(?=\S{2,})")
_FILLER = re.compile(
    r"^(?:I hope|Hope this|Let me know|Do you want|Is there anything|Feel free|Please let)", re.IGNORECASE
)


# a result the response itself finds among none of the options: GPT writes "None"
_NO_OPTION = re.compile(
    r"\b(?:(?:is|are) not (?:an? |one of the |among the |in the |listed in the )?(?:given |provided |available )?"
    r"(?:options?|choices?|answer choices)\b|"
    r"(?:is|are) not (?:available|listed|present|given|provided) (?:in|among) the "
    r"(?:given |provided |answer )?(?:options|choices)|"
    r"none of the (?:given |provided |answer )?(?:options|choices) (?:match|matches|fit|is correct)|"
    r"(?:does not|doesn't) match any of the (?:given |provided )?(?:options|choices))",
    re.IGNORECASE,
)


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, with nested braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def _clean(candidate: str) -> str:
    return candidate.strip().strip("$ ").rstrip(".").strip()


def _sentences(text: str, negative: bool = True) -> list[str]:
    """Sentences and lines, without sign-offs ("I hope this helps!"); `negative=False` also drops
    sentences that reject an option ("Choice (A) is incorrect because ...")."""
    out = [s.strip() for s in _SENTENCE.split(text) if s.strip() and not _FILLER.match(s.strip())]
    return out if negative else [s for s in out if not _REJECTS.search(s)]


def _numbers(text: str, given: set[str] | frozenset[str] = frozenset()) -> list[str]:
    found = [(m.start(), m.group().replace(",", "")) for m in _NUMBER.finditer(text)]
    if all(n in given for _, n in found):  # "three bars below 40": number words count where no new digits are
        found += [(m.start(), _WORDS[m.group().lower()]) for m in _WORD_NUMBER.finditer(text)]
    return [n for _, n in sorted(found)]


def _option_letter(text: str, n: int) -> str | None:
    """The last explicit option statement naming a letter within range."""
    said = [
        m.group(1).upper()
        for sentence in _sentences(text, negative=False)
        for m in _OPTION_SAID.finditer(sentence)
        if m.group(1).isupper() or sentence[m.start(1) - 1] == "("
    ]
    said = [s for s in said if s <= "H"]  # GPT writes a stated letter even out of range; the normaliser copes
    if said:
        return said[-1]
    for line in reversed(_sentences(text, negative=False)):
        letters = [s for s in _PAREN_LETTER.findall(line) if ord(s) - ord("A") < n]
        if letters:
            return letters[-1]
        m = _LONE_LETTER.match(line)
        if m and ord(m.group(1)) - ord("A") < n and len(line) <= 80:
            return m.group(1)
    return None


def _option_text(text: str, choices: Sequence[str]) -> str | None:
    """An answer that starts with an option's text, else the option named last in the concluding sentence."""
    low = text.lower().lstrip("( ")
    starts = [c for c in choices if c and re.match(re.escape(c.lower()) + r"(?![\w])", low)]
    if starts:
        return max(starts, key=len)
    said = _ANSWER_IS.findall(text)
    if said:
        tail = said[-1].lower().strip().strip("\"'*")
        starts = [c for c in choices if c and re.match(re.escape(c.lower()) + r"(?![\w])", tail)]
        if starts:
            return max(starts, key=len)
    for sentence in reversed(_sentences(text, negative=False)):
        hits = [
            (m.start(), c)
            for c in choices
            if c
            for m in re.finditer(r"(?<![\w.])" + re.escape(c.lower()) + r"(?![\w])", sentence.lower())
        ]
        if hits:
            return max(hits, key=lambda h: (h[0], len(h[1])))[1]
    return None


def _free_form(text: str, answer_type: str, query: str) -> str:
    said = _ANSWER_IS.findall(text)
    if said and said[-1].strip():
        text = said[-1].splitlines()[0]
    if answer_type == "list":
        lists = _LIST.findall(text)
        if lists:
            return lists[-1]
    if answer_type not in ("integer", "float"):
        return _clean(text)
    given = set(_numbers(_EXAMPLES.sub("", query)))
    pool = [s for s in _sentences(text) if _numbers(s, given)]
    concluding = [s for s in pool if _CONCLUDE.search(s)]
    if not concluding and len(pool) >= 2 and _WORKED.search(text):  # a worked solution ends on its result
        concluding = pool[-1:]
    if concluding:  # a chain of thought: the last concluding sentence, its last number
        nums = _numbers(concluding[-1], given)
        return ([n for n in nums if n not in given] or nums)[-1]
    for sentence in pool:  # a direct answer: the first number the question does not give
        fresh = [n for n in _numbers(sentence, given) if n not in given]
        if fresh:
            return fresh[0]
    return _numbers(pool[-1])[-1] if pool else _clean(text)


def extract_response_answer(
    response: str,
    question_type: str = "free_form",
    answer_type: str = "text",
    choices: Sequence[str] | None = None,
    query: str = "",
) -> str | None:
    """What MathVista's GPT extraction would write for `response`; None only for an empty response."""
    text = (response or "").strip()
    if not text:
        return None
    choices = list(choices or [])
    if question_type == "multi_choice" and text in choices:  # upstream rule
        return text
    if answer_type in ("integer", "float"):  # upstream rule: the whole response is the number
        try:
            return str(int(text)) if answer_type == "integer" else str(float(text))
        except ValueError:
            pass
    text = answered_block(text.replace("**", ""))  # markdown bold: "the answer is **(C) o'clock**"
    spans = [s for s in _ANSWER_TAG.findall(text) if s.strip()]
    if spans:
        text = spans[-1].strip()
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        text = _clean(boxed)
    if question_type == "multi_choice":
        text = _SPEAKER.sub("", text)  # "A: No, ..." is a dialogue label, not option A
        if text in choices:
            return text
        letter = _option_letter(text, len(choices))
        if letter is not None:
            return letter
        if any(_NO_OPTION.search(s) for s in _sentences(text)[-3:]):
            return "None"
        option = _option_text(text, choices)
        if option is not None:
            return option
        if _REFUSAL.search(text):
            return _refusal(text)
        yes_no = _yes_no(text, choices)
        return yes_no if yes_no is not None else _clean(text)
    if _REFUSAL.search(text) and not _ANSWER_IS.search(text):
        return _refusal(text)
    return _free_form(text, answer_type, query)


def _yes_no(text: str, choices: Sequence[str]) -> str | None:
    """A yes/no question answered by a statement: a negation in its first sentence reads as "no"."""
    by_word = {c.lower(): c for c in choices}
    if set(by_word) != {"yes", "no"}:
        return None
    first = (_sentences(text) or [text])[0]
    return by_word["no" if _NEGATION.search(first) else "yes"]


def _refusal(text: str) -> str:
    """GPT writes "N/A" for an outright decline ("The solution cannot be provided", "As an AI, ...") or a
    refusal that concludes "Therefore, it is impossible to answer", writes a conclusion that names what
    cannot be done in its own words ("... the question cannot be answered" -> "Cannot be answered", "... the
    answer cannot be determined" -> "Cannot be determined"), copies a short statement of what is missing,
    and writes "N/A" for a longer one. The official normaliser then takes the option
    nearest to either by edit distance (None on free-form questions): we keep that, on purpose."""
    sentences = _sentences(text)
    if _DECLINE.match(text):
        return "N/A"
    if len(sentences) >= 2 and _GIVES_UP.match(sentences[-1]) and _REFUSAL.search(sentences[-1]):
        said = _CANNOT_BE.search(sentences[-1])
        return f"Cannot be {said.group(1).lower()}" if said else "N/A"
    return text if len(sentences) <= 2 and len(text) <= 200 else "N/A"
