"""A labelled set of consistent / inconsistent responses for the rule judge.

Generated from the world's own reasoning templates (every family, drawn with
a fixed seed), each with targeted breaks of the reasoning-answer link, plus
hand-written edge cases in other wordings. Label True = the reasoning
supports the answer.
"""

from __future__ import annotations

import random
import re

from specs_vl.world.tasks import FAMILIES, Task

_COLORS = ("red", "green", "blue", "yellow")


def _wrap(reasoning: str, answer: str, paper: bool) -> str:
    inner = f" The answer is \\boxed{{{answer}}} " if paper else answer
    return f"<think>{reasoning}</think> <answer>{inner}</answer>"


def _other(task: Task, rng: random.Random) -> str:
    a = task.answer
    if task.answer_type == "integer":
        return str(int(a) + rng.choice((1, 2, -1)) if int(a) > 1 else int(a) + 1)
    if task.answer_type == "yesno":
        return "no" if a == "yes" else "yes"
    if task.answer_type == "mc":
        return rng.choice([letter for letter in "ABCD" if letter != a])
    pool = _COLORS if a in _COLORS else ("circle", "square", "triangle")
    return rng.choice([w for w in pool if w != a])


def _breaks(task: Task, rng: random.Random) -> list[tuple[str, str]]:
    """(reasoning, answer) pairs whose answer no longer follows from the reasoning."""
    r, out = task.reasoning, []
    expr = re.search(r"(\d+(?: [-+] \d+)+) = (\d+)\.", r)
    if expr:
        result = int(expr.group(2))
        out.append((r.replace(f"= {result}.", f"= {result + 1}."), str(result + 1)))  # wrong arithmetic
        first = expr.group(1).split(" ")[0]
        changed = str(int(first) + 5) + expr.group(1)[len(first) :]
        new = eval(changed)  # noqa: S307 - a test-only "a + b" from our own template
        out.append((r.replace(expr.group(0), f"{changed} = {new}."), str(new)))  # operand not a stated count
    rel = re.search(r"(\d+) is (more than|less than|equal to) (\d+), so (yes|no)", r)
    if rel:
        flip = {"more than": "less than", "less than": "more than", "equal to": "more than"}[rel.group(2)]
        out.append((r.replace(rel.group(2), flip), rel.group(4)))  # false comparison
        other = "no" if rel.group(4) == "yes" else "yes"
        out.append((r.replace(f"so {rel.group(4)}", f"so {other}"), other))  # "so" does not follow
    pick = re.search(r"(The tallest|Most) is (\w+), option ([A-D])", r)
    if pick and task.choices:
        wrong = next(c for c in task.choices if c != pick.group(2))
        letter = "ABCD"[task.choices.index(wrong)]
        out.append((r.replace(pick.group(0), f"{pick.group(1)} is {wrong}, option {letter}"), letter))
        out.append((r, _other(task, rng)))
    bar = re.search(r"The (\w+) bar is (\d+)\.", r)
    if bar:
        v = int(bar.group(2)) % 4 + 1
        out.append((r.replace(bar.group(0), f"The {bar.group(1)} bar is {v}."), str(v)))
    if not out or rng.random() < 0.7:
        out.append((r, _other(task, rng)))  # the plain wrong answer
    facts = re.findall(r"^([A-Za-z][A-Za-z ]*?): (\d+)\.", r)
    if facts:
        label, value = facts[0]
        out.append((f"{label}: {int(value) + 1}. {r}", task.answer))  # one fact stated twice, differently
    return out


HAND_WRITTEN: list[tuple[str, str, bool]] = [
    # the two chosen sides from the demo report that the old judge passed
    (
        "How many circles and triangles are there in total?",
        "<think>circles: 3. triangles: 3. 2 + 3.</think> <answer>3</answer>",
        False,
    ),
    (
        "How many more triangles than squares are there?",
        "<think>triangles: 4. triangles: 2. 2 + 2.</think> <answer>2</answer>",
        False,
    ),
    ("q", "<think>so the answer is 1/2</think> <answer>0.5</answer>", True),
    ("q", "<think>so the answer is 1/2</think> <answer>0.4</answer>", False),
    ("q", "<think>There are 3 apples and 4 pears, 3 + 4 = 7.</think> <answer>7</answer>", True),
    ("q", "<think>There are 3 apples and 4 pears, 3 + 4 = 8.</think> <answer>8</answer>", False),
    ("q", "<think>2 * 3 + 1 = 7.</think> <answer>7</answer>", True),
    ("q", "<think>2 * 3 + 1 = 9.</think> <answer>9</answer>", False),
    ("q", "<think>12 / 4 = 3, so 3.</think> <answer>3</answer>", True),
    ("q", "<think>12 / 4 = 3, so 3.</think> <answer>4</answer>", False),
    ("q", "<think>5 - 7 = -2.</think> <answer>-2</answer>", True),
    ("q", "<think>Thus, the answer is 12.</think> <answer>12</answer>", True),
    ("q", "<think>Thus, the answer is 12.</think> <answer>21</answer>", False),
    ("q", "<think>Therefore it is yes.</think> <answer>yes</answer>", True),
    ("q", "<think>Therefore it is yes.</think> <answer>no</answer>", False),
    (
        "Are there more red shapes than blue shapes?",
        "<think>red: 2. blue: 2. 2 is equal to 2, so no.</think> <answer>no</answer>",
        True,
    ),
    (
        "Are there more red shapes than blue shapes?",
        "<think>red: 2. blue: 2. 2 is equal to 2, so yes.</think> <answer>yes</answer>",
        False,
    ),
    (
        "Are there more red shapes than blue shapes?",
        "<think>red: 1. blue: 4. 4 is more than 1, so no.</think> <answer>no</answer>",
        True,
    ),
    (
        "Are there more red shapes than blue shapes?",
        "<think>red: 1. blue: 4. 4 is more than 1, so yes.</think> <answer>yes</answer>",
        False,
    ),
    (
        "Are there more red shapes than blue shapes?",
        "<think>red: 1. blue: 4. 3 is more than 2, so yes.</think> <answer>yes</answer>",
        False,
    ),
    (
        "Which bar is the tallest? Options: A. red B. green C. blue D. yellow",
        "<think>red: 1. green: 4. blue: 2. yellow: 3. The tallest is green, option B.</think> <answer> The answer is \\boxed{B} </answer>",  # noqa: E501
        True,
    ),
    (
        "Which bar is the tallest? Options: A. red B. green C. blue D. yellow",
        "<think>red: 1. green: 4. blue: 2. yellow: 3. The tallest is yellow, option D.</think> <answer>D</answer>",
        False,
    ),
    (
        "Which bar is the tallest? Options: A. red B. green C. blue D. yellow",
        "<think>red: 1. green: 4. blue: 2. yellow: 3. The tallest is green, option C.</think> <answer>C</answer>",
        False,
    ),
    (
        "What colour is the shape in the top row, column 2?",
        "<think>In the top row, column 2 there is a red circle.</think> <answer>red</answer>",
        True,
    ),
    (
        "What colour is the shape in the top row, column 2?",
        "<think>In the top row, column 2 there is a red circle.</think> <answer>blue</answer>",
        False,
    ),
    (
        "What shape is in the top row, column 2?",
        "<think>Looking at it, I see a triangle there.</think> <answer>triangle</answer>",
        True,
    ),
    (
        "What shape is in the top row, column 2?",
        "<think>Looking at it, I see a triangle there.</think> <answer>square</answer>",
        False,
    ),
    (
        "How many shapes are in the second row?",
        "<think>The second row holds red circle, blue square. That is 2.</think> <answer>2</answer>",
        True,
    ),
    (
        "How many shapes are in the second row?",
        "<think>The second row holds red circle, blue square. That is 2.</think> <answer>3</answer>",
        False,
    ),
    ("How many red circles are there?", "<think>I count the red circles: 4.</think> <answer>four</answer>", True),
    ("How many red circles are there?", "<think>I count the red circles: 4.</think> <answer>4</answer>", True),
    ("How many red circles are there?", "<think>I count the red circles: 4.</think> <answer>5</answer>", False),
    ("q", "<think>first: 6. second: 1. third: 3. 6 + 1 + 3 = 10.</think> <answer>10</answer>", True),
    ("q", "<think>first: 6. second: 1. third: 3. 6 + 1 + 4 = 11.</think> <answer>11</answer>", False),
    ("q", "<think>The value is 3.</think> <answer>3</answer>", True),
    ("q", "<think>The value is 3.</think> <answer>7</answer>", False),
    ("q", "<think></think> <answer>3</answer>", False),
    ("q", "Thus, the answer is 3.", False),
    ("q", "<think>red: 3. blue: 2. So 3 + 2 = 5. The answer is 5.</think> <answer>5</answer>", True),
    ("q", "<think>red: 3. blue: 2. So 3 + 2 = 5. The answer is 6.</think> <answer>6</answer>", False),
]


def labelled_set(per_family: int = 14, seed: int = 0) -> list[tuple[str, str, bool]]:
    """(question, response, consistent) rows: template-made ones first, then the hand-written ones."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, bool]] = []
    for make in FAMILIES.values():
        for i in range(per_family):
            task = make(rng)
            paper = i % 2 == 0
            rows.append((task.question, _wrap(task.reasoning, task.answer, paper), True))
            said = rng.choice(("So the answer is {}.", "Thus, {}.", "Therefore it is {}."))
            rows.append(
                (task.question, _wrap(f"{task.reasoning} {said.format(task.answer)}", task.answer, not paper), True)
            )
            for reasoning, answer in _breaks(task, rng):
                rows.append((task.question, _wrap(reasoning, answer, paper), False))
    return rows + HAND_WRITTEN
