"""Instruction styles: what a prompt asks for, and how to tell it was followed.

`format` is the training style (the SPECS `<think>`/`<answer>` format). The
others are the OOD styles: they change the required output, as the paper's
OOD evaluations do. The base model saw all of them in pretraining, so a drop
on them after a cold start measures instruction-style overfitting.

A style is data: its instruction text per answer type, the answer types it
applies to, and `strict_answer(response)` -> the answer as the style defines
it, or None when the response did not follow the style.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from specs_vl.scoring.answers import extract_answer
from specs_vl.scoring.format import parse

FORMAT_INSTRUCTION = (
    "First think step by step inside <think> </think> tags, "
    "then give the final answer inside <answer> </answer> tags."
)
HINTS = {
    "integer": "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.",
    "mc": "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
    "word": "Hint: Please answer the question with a single word and provide it at the end.",
    "yesno": "Hint: Please answer the question with yes or no and provide it at the end.",
}
_LETTER_ONLY = re.compile(r"^\(?([A-D])\)?\.?$")
_LAST_WORD = re.compile(r"([A-Za-z0-9\-]+)[\s.!]*$")


def _format_answer(response: str) -> str | None:

    p = parse(response)
    return p.answer if p.valid else None


def _boxed_answer(response: str) -> str | None:

    if "\\boxed{" not in response or "<answer>" in response:
        return None
    return extract_answer(response)


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
TRAIN_STYLE = "format"
OOD_STYLES: tuple[str, ...] = ("boxed", "letter", "hint", "json")


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
