"""Does a response's reasoning agree with its answer? (the chosen side's consistency check)

The rule judge (default) defines agreement precisely:
1. Split the response with `format.parse`; no `<think>` or no `<answer>` -> not ok.
2. The *conclusion* is the last sentence of the `<think>` text (split on
   ". ", "\\n", "! ", "? "; trailing punctuation stripped).
3. ok when the `<answer>` content appears in the conclusion as a whole word
   (case-insensitive), or when the final answer extracted from the whole
   `<think>` text (`answers.extract_answer`) is equal to the `<answer>`
   content under `answers.is_correct`.
So "red: 3. blue: 2. 3 is more than 2, so yes." agrees with `<answer>yes`
and disagrees with `<answer>no`.
"""

from __future__ import annotations

import re

from specs_vl.judge.base import Verdict
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import parse

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def conclusion(think: str) -> str:
    parts = [p.strip() for p in _SENTENCE.split(think.strip()) if p.strip()]
    return parts[-1].rstrip(".!?").strip() if parts else ""


def rule_judge(question: str, response: str) -> Verdict:
    p = parse(response)
    if not p.think or not p.answer:
        return Verdict(False, "missing <think> or <answer>")
    answer, last = p.answer.strip(), conclusion(p.think)
    if re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", last, re.IGNORECASE):
        return Verdict(True, f"answer {answer!r} stated in the conclusion {last!r}")
    reasoned = extract_answer(p.think)
    if reasoned is not None and is_correct(answer, reasoned):
        return Verdict(True, f"reasoning concludes {reasoned!r}, answer is {answer!r}")
    return Verdict(False, f"conclusion {last!r} does not support answer {answer!r}")
