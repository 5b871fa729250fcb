"""The tiny base model's pretraining corpus: an imitation of an instruct model.

Under the format instruction (or none) responses mix styles the way a real
instruct model's do, independently of what was asked: well-formed
`<think>`/`<answer>`, plain reasoning ending "Thus, the answer is N.",
"Answer: N", and broken tags. Under an OOD style the response follows it.
"""

from __future__ import annotations

import json
import random

from specs_vl.scoring.format import corrupt

from .tasks import Task

# Shares of response styles when the format (or nothing) is asked for.
MIX: dict[str, float] = {"valid": 0.40, "thus": 0.25, "answer_colon": 0.15, "broken": 0.20}


def valid_response(reasoning: str, answer: str) -> str:
    return f"<think>{reasoning}</think> <answer>{answer}</answer>"


def base_response(task: Task, style: str, rng: random.Random) -> str:
    r, a = task.reasoning, task.answer
    if style == "boxed":
        return f"{r} The answer is \\boxed{{{a}}}."
    if style == "letter":
        return a
    if style == "hint":
        return f"{r} The final answer is {a}."
    if style == "json":
        return json.dumps({"answer": a})
    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    if kind == "valid":
        return valid_response(r, a)
    if kind == "thus":
        return f"{r} Thus, the answer is {a}."
    if kind == "answer_colon":
        return f"{r}\nAnswer: {a}"
    return corrupt(valid_response(r, a), rng.randint(2, 5), rng)

