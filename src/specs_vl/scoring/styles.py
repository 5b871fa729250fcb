"""Instruction styles: what a prompt asks for, and how to tell it was followed.

`format` is the training style, the paper's output
`<think> ... </think> <answer> The answer is \\boxed{N} </answer>`.
The `req_*` styles keep the format instruction and change what goes inside
`<answer>` (the `ood_requirement` set: a cold start that learned the format,
not one fixed answer string, can improve there). `boxed`, `letter`, `hint`
and `json` switch the whole output style (the `retention` set: what a cold
start costs in instruction following; not part of GF). The base model saw
all of them in pretraining.

A style is data: its instruction text per answer type, the answer types it
applies to, and `strict_answer(response)` -> the answer as the style defines
it, or None when the response did not follow the style.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from specs_vl.scoring.answers import extract_answer, last_boxed
from specs_vl.scoring.format import parse

FORMAT_INSTRUCTION = (
    "First think step by step inside <think> </think> tags, "
    "then give the final answer inside <answer> </answer> tags as: The answer is \\boxed{N}."
)
_THINK_FIRST = "First think step by step inside <think> </think> tags, then give "
REQUIREMENTS = {  # what goes inside <answer> </answer> instead of "The answer is \\boxed{N}"
    "req_letter": "only the option letter",
    "req_word": "the number written as a word, e.g. three,",
    "req_json": 'JSON like {"answer": "..."}',
    "req_bare": "only the final value, with no other words,",
}
NUMBER_WORDS = (
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
)
HINTS = {
    "integer": "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.",  # noqa: E501
    "mc": "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
    "word": "Hint: Please answer the question with a single word and provide it at the end.",
    "yesno": "Hint: Please answer the question with yes or no and provide it at the end.",
}
_LETTER_ONLY = re.compile(r"^\(?([A-D])\)?\.?$")
_LAST_WORD = re.compile(r"([A-Za-z0-9\-]+)[\s.!]*$")


def _format_answer(response: str) -> str | None:
    """Valid structure; the value inside <answer>: "The answer is \\boxed{N}" (the paper's) or a bare N."""
    p = parse(response)
    if not p.valid or not p.answer:
        return None
    return extract_answer(f"<answer>{p.answer}</answer>")


def _content(response: str) -> str | None:
    p = parse(response)
    return p.answer.strip() if p.valid and p.answer else None


def _req_letter(response: str) -> str | None:
    c = _content(response)
    m = _LETTER_ONLY.match(c) if c is not None else None
    return m.group(1) if m else None


def _req_word(response: str) -> str | None:
    c = _content(response)
    word = c.lower().rstrip(".") if c is not None else ""
    return str(NUMBER_WORDS.index(word)) if word in NUMBER_WORDS else None


def _req_json(response: str) -> str | None:
    c = _content(response)
    return _json_answer(c) if c is not None else None


def _req_bare(response: str) -> str | None:
    c = _content(response)
    return c if c is not None and re.fullmatch(r"[A-Za-z]+|-?\d+(?:\.\d+)?", c) else None


def _boxed_answer(response: str) -> str | None:
    """Any response with a `\\boxed{}` (the paper's tagged output too) follows "put it in \\boxed{}"."""
    if "\\boxed{" not in response:
        return None
    return last_boxed(response)


def _letter_answer(response: str) -> str | None:
    m = _LETTER_ONLY.match(response.strip())
    return m.group(1) if m else None


def _hint_answer(response: str) -> str | None:
    m = _LAST_WORD.search(response[-200:])
    return m.group(1) if m else None


def _json_answer(response: str) -> str | None:
    text = response.strip()
    if len(text) > 2000:
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and "answer" in obj and isinstance(obj["answer"], (str, int, float)):
        return str(obj["answer"])
    return None


@dataclass(frozen=True)
class Style:
    name: str
    instruction: Callable[[str], str]
    answer_types: tuple[str, ...]
    strict_answer: Callable[[str], str | None]

    def applies(self, answer_type: str) -> bool:
        return answer_type in self.answer_types


ALL_TYPES = ("integer", "mc", "word", "yesno")
STYLES: dict[str, Style] = {
    "format": Style("format", lambda t: FORMAT_INSTRUCTION, ALL_TYPES, _format_answer),
    "boxed": Style("boxed", lambda t: "Put the final answer in \\boxed{}.", ALL_TYPES, _boxed_answer),
    "letter": Style("letter", lambda t: "Reply with only the option letter.", ("mc",), _letter_answer),
    "hint": Style("hint", lambda t: HINTS[t], ALL_TYPES, _hint_answer),
    "json": Style("json", lambda t: 'Reply only with JSON like {"answer": "..."}.', ALL_TYPES, _json_answer),
}
for _name, _what in REQUIREMENTS.items():
    STYLES[_name] = Style(
        _name,
        lambda t, w=_what: f"{_THINK_FIRST}{w} inside <answer> </answer> tags.",
        {"req_letter": ("mc",), "req_word": ("integer",)}.get(_name, ALL_TYPES),
        {"req_letter": _req_letter, "req_word": _req_word, "req_json": _req_json, "req_bare": _req_bare}[_name],
    )
TRAIN_STYLE = "format"
RETENTION_STYLES: tuple[str, ...] = ("boxed", "letter", "hint", "json")
REQUIREMENT_STYLES: tuple[str, ...] = tuple(REQUIREMENTS)
OOD_STYLES = RETENTION_STYLES  # the old name: the full style switches


def instruction_for(style: str, answer_type: str) -> str:
    """The instruction text; 'none' (or an unknown style from an external dataset) adds nothing."""
    s = STYLES.get(style)
    if s is None or not s.applies(answer_type):
        return ""
    return s.instruction(answer_type)


def strict_answer(style: str, response: str) -> str | None:
    """The answer if `response` follows `style`, else None. Unknown styles accept any response."""
    s = STYLES.get(style)
    if s is None:
        return extract_answer(response)
    return s.strict_answer(response)
