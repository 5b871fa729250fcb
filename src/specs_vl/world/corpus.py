"""The tiny base model's pretraining corpus: an imitation of an instruct model.

Under the format instruction (or none) responses mix styles the way a real
instruct model's do, independently of what was asked: the paper's
`<think>..</think> <answer> The answer is \\boxed{N} </answer>`, plain
reasoning ending "Thus, the answer is N.", "Answer: N", and broken tags.
Under a `req_*` instruction (format plus a changed answer requirement) the
response follows the requirement `REQUIREMENT_FOLLOW` of the time and falls
back to that mix otherwise, so no OOD set starts at its ceiling. Under a full
style switch (boxed, letter, hint, json) it follows the style.
"""

from __future__ import annotations

import json
import random

from specs_vl.scoring.format import corrupt
from specs_vl.scoring.styles import NUMBER_WORDS

from .scene import COLORS, ROW_NAMES, SHAPES
from .tasks import Task

# Shares of response styles when the format (or nothing) is asked for.
CAPTION_SHARE = 0.25  # pretraining examples that only describe the picture (dense perception supervision)
CAPTION_QUESTION = "Describe the picture."
MIX: dict[str, float] = {"valid": 0.40, "thus": 0.25, "answer_colon": 0.15, "broken": 0.20}
REQUIREMENT_FOLLOW = 0.40


def valid_response(reasoning: str, answer: str) -> str:
    """The training format, as the paper's outputs: the answer sentence with a boxed value."""
    return f"<think>{reasoning}</think> <answer> The answer is \\boxed{{{answer}}} </answer>"


def requirement_content(style: str, answer: str) -> str:
    if style == "req_word":
        return NUMBER_WORDS[int(answer)]
    if style == "req_json":
        return json.dumps({"answer": answer})
    return answer  # req_letter (the answer is the letter), req_bare


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
    if style.startswith("req_") and rng.random() < REQUIREMENT_FOLLOW:
        return f"<think>{r}</think> <answer>{requirement_content(style, a)}</answer>"
    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    if kind == "valid":
        return valid_response(r, a)
    if kind == "thus":
        return f"{r} Thus, the answer is {a}."
    if kind == "answer_colon":
        return f"{r}\nAnswer: {a}"
    return corrupt(valid_response(r, a), rng.randint(2, 5), rng)


def describe(task: Task) -> str:
    """What the image shows, row by row: a caption, as a VLM's pretraining has before any instruction data."""
    kind, payload = task.key[:2]
    if kind == "bars":
        return "Bars: " + ", ".join(f"{c} {h}" for c, h in payload) + "."
    if kind == "dice":
        return "Dice: " + ", ".join(str(face) for _, face, _ in payload) + "."
    rows = []
    for r, name in enumerate(ROW_NAMES):
        items = [f"{color} {shape}" for row, _, color, shape in payload if row == r]
        rows.append(f"{name}: {', '.join(items) if items else 'empty'}.")
    return " ".join(rows) + " " + count_caption(payload)


def count_caption(payload: tuple) -> str:
    """How many of each colour and kind: without it the tiny base learned to read cells but not to count them
    (id_test count accuracy at the text-only oracle's level; docs/world.md)."""
    colors = ", ".join(f"{c} {sum(col == c for *_, col, _ in payload)}" for c in COLORS)
    kinds = ", ".join(f"{k}s {sum(sh == k for *_, sh in payload)}" for k in SHAPES)
    return f"Counts: {colors}; {kinds}."
