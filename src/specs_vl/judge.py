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
from dataclasses import dataclass

from specs_vl.answers import extract_answer, is_correct
from specs_vl.format import parse

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


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


def get_judge(name: str = "rule", **http_options):
    """`rule` (default), `none`, or `http` (an OpenAI-compatible endpoint; see judge_http.py)."""
    if name == "rule":
        return rule_judge
    if name == "none":
        return lambda question, response: Verdict(True, "no judge")
    if name == "http":
        from specs_vl.judge_http import HttpJudge

        return HttpJudge(**http_options)
    raise ValueError(f"unknown judge {name!r}; known: rule, none, http")


def judge_many(judge, items: list[tuple[str, str]]) -> list[Verdict]:
    """Batch verdicts: the HTTP judge asks concurrently; the others one by one."""
    if hasattr(judge, "judge_many"):
        return judge.judge_many(items)
    return [judge(q, r) for q, r in items]
