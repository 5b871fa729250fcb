"""Task families: each turns a seeded RNG into one checkable visual question.

A family returns a `Task` holding the scene key (what the image shows, as
data), the question, the gold answer and a short reference reasoning. The
reasoning is what the tiny base model imitates in pretraining; the RL stages
never see it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PIL import Image

from .scene import (
    COLORS,
    DIE_COLORS,
    PLAIN,
    ROW_NAMES,
    SHAPES,
    Item,
    Scene,
    Surface,
    random_scene,
    random_surface,
    render_bars,
    render_dice,
    render_scene,
)

LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Task:
    family: str
    key: tuple  # everything the image shows, (kind, payload[, surface]); equal keys <=> equal images
    question: str
    answer: str
    answer_type: str  # "integer" | "mc" | "word" | "yesno"
    reasoning: str
    choices: tuple[str, ...] = field(default=())

    def render(self) -> Image.Image:
        kind, payload = self.key[:2]
        surface = Surface(*self.key[2]) if len(self.key) > 2 else PLAIN
        if kind == "scene":
            return render_scene(Scene(tuple(Item(*it) for it in payload)), surface)
        if kind == "bars":
            return render_bars(dict(payload), surface)
        if kind == "dice":
            return render_dice(list(payload))
        raise ValueError(f"unknown image kind {kind!r}")


def _scene_key(scene) -> tuple:
    return ("scene", tuple((i.row, i.col, i.color, i.shape) for i in scene.items))


def _options(rng: random.Random, correct: str, pool: list[str]) -> tuple[tuple[str, ...], str]:
    opts = list(pool)
    rng.shuffle(opts)
    opts = opts[:4]
    if correct not in opts:
        opts[rng.randrange(4)] = correct
    return tuple(opts), LETTERS[opts.index(correct)]


def _mc_question(text: str, options: tuple[str, ...]) -> str:
    return text + " Options: " + " ".join(f"{c}. {o}" for c, o in zip(LETTERS, options))


def count(rng: random.Random) -> Task:
    scene = random_scene(rng)
    mode = rng.randrange(3)
    color, shape = rng.choice(list(COLORS)), rng.choice(SHAPES)
    if mode == 0:
        n, what = scene.count(color=color, shape=shape), f"{color} {shape}s"
    elif mode == 1:
        n, what = scene.count(color=color), f"{color} shapes"
    else:
        n, what = scene.count(shape=shape), f"{shape}s"
    return Task(
        "count", _scene_key(scene), f"How many {what} are there?", str(n), "integer", f"I count the {what}: {n}."
    )


def arith(rng: random.Random) -> Task:
    scene = random_scene(rng)
    a, b = rng.sample(SHAPES, 2)
    na, nb = scene.count(shape=a), scene.count(shape=b)
    if rng.random() < 0.5:
        q, ans, op = f"How many {a}s and {b}s are there in total?", na + nb, f"{na} + {nb} = {na + nb}"
    else:
        if na < nb:
            a, b, na, nb = b, a, nb, na
        q, ans, op = f"How many more {a}s than {b}s are there?", na - nb, f"{na} - {nb} = {na - nb}"
    return Task("arith", _scene_key(scene), q, str(ans), "integer", f"{a}s: {na}. {b}s: {nb}. {op}.")


def compare(rng: random.Random) -> Task:
    scene = random_scene(rng)
    a, b = rng.sample(list(COLORS), 2)
    na, nb = scene.count(color=a), scene.count(color=b)
    ans = "yes" if na > nb else "no"
    rel = "more than" if na > nb else ("equal to" if na == nb else "less than")
    return Task(
        "compare",
        _scene_key(scene),
        f"Are there more {a} shapes than {b} shapes?",
        ans,
        "yesno",
        f"{a}: {na}. {b}: {nb}. {na} is {rel} {nb}, so {ans}.",
    )


def where(rng: random.Random) -> Task:
    scene = random_scene(rng, min_items=5)
    it = rng.choice(scene.items)
    place = f"the {ROW_NAMES[it.row]} row, column {it.col + 1}"
    if rng.random() < 0.5:
        q, ans = f"What colour is the shape in {place}?", it.color
    else:
        q, ans = f"What shape is in {place}?", it.shape
    return Task("where", _scene_key(scene), q, ans, "word", f"In {place} there is a {it.color} {it.shape}.")


def bar(rng: random.Random) -> Task:
    colors = list(COLORS)
    heights = {c: rng.randint(1, 4) for c in colors}
    listing = " ".join(f"{c}: {h}." for c, h in heights.items())
    key = ("bars", tuple(heights.items()))
    top = max(heights.values())
    if rng.random() < 0.5 and list(heights.values()).count(top) == 1:
        tallest = max(heights, key=heights.get)
        opts, letter = _options(rng, tallest, colors)
        return Task(
            "bar",
            key,
            _mc_question("Which bar is the tallest?", opts),
            letter,
            "mc",
            f"{listing} The tallest is {tallest}, option {letter}.",
            opts,
        )
    c = rng.choice(colors)
    return Task(
        "bar",
        key,
        f"What is the value of the {c} bar?",
        str(heights[c]),
        "integer",
        f"{listing} The {c} bar is {heights[c]}.",
    )


def dice(rng: random.Random) -> Task:
    n = rng.choice((2, 3))
    quadrants = sorted(rng.sample(range(4), n))
    dice_ = tuple((q, rng.randint(1, 6), rng.choice(list(DIE_COLORS))) for q in quadrants)
    faces = [f for _, f, _ in dice_]
    total = sum(faces)
    listing = " ".join(f"{name}: {f}." for name, f in zip(("first", "second", "third"), faces))
    return Task(
        "dice",
        ("dice", dice_),
        "What is the total number of pips on the dice?",
        str(total),
        "integer",
        f"{listing} {' + '.join(map(str, faces))} = {total}.",
    )


def rowcount(rng: random.Random) -> Task:
    scene = random_scene(rng)
    row = rng.randrange(4)
    items = [it for it in scene.items if it.row == row]
    seen = ", ".join(f"{it.color} {it.shape}" for it in items) or "nothing"
    return Task(
        "rowcount",
        _scene_key(scene),
        f"How many shapes are in the {ROW_NAMES[row]} row?",
        str(len(items)),
        "integer",
        f"The {ROW_NAMES[row]} row holds {seen}. That is {len(items)}.",
    )


def majority(rng: random.Random) -> Task:
    while True:
        scene = random_scene(rng, min_items=4)
        counts = {c: scene.count(color=c) for c in COLORS}
        top = max(counts.values())
        if list(counts.values()).count(top) == 1:
            break
    winner = max(counts, key=counts.get)
    opts, letter = _options(rng, winner, list(COLORS))
    listing = " ".join(f"{c}: {n}." for c, n in counts.items())
    return Task(
        "majority",
        _scene_key(scene),
        _mc_question("Which colour appears most often?", opts),
        letter,
        "mc",
        f"{listing} Most is {winner}, option {letter}.",
        opts,
    )


FAMILIES: dict[str, Callable[[random.Random], Task]] = {
    "count": count,
    "arith": arith,
    "compare": compare,
    "where": where,
    "bar": bar,
    "dice": dice,
    "majority": majority,
    "rowcount": rowcount,
}
TRAIN_FAMILIES: tuple[str, ...] = ("count", "arith", "compare", "where", "bar")
OOD_FAMILIES: tuple[str, ...] = ("dice", "majority", "rowcount")

# ood_surface: the same question asked in other words (first matching pattern wins).
PARAPHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(a), b)
    for a, b in (
        (r"^How many (\w+)s and (\w+)s are there in total\?", r"What is the combined number of \1s and \2s?"),
        (r"^How many more (\w+)s than (\w+)s are there\?", r"By how many do the \1s outnumber the \2s?"),
        (r"^How many (.+) are there\?", r"Count the \1 in the picture."),
        (r"^Are there more (\w+) shapes than (\w+) shapes\?", r"Do the \1 shapes outnumber the \2 shapes?"),
        (r"^What colour is the shape in (.+)\?", r"Which colour does the shape in \1 have?"),
        (r"^What shape is in (.+)\?", r"Which shape sits in \1?"),
        (r"^What is the value of the (\w+) bar\?", r"How tall is the \1 bar?"),
        (r"^Which bar is the tallest\?", "Which bar reaches highest?"),
    )
)


def paraphrase(question: str) -> str:
    for pattern, repl in PARAPHRASES:
        if pattern.search(question):
            return pattern.sub(repl, question, count=1)
    return question


def shifted(task: Task, rng: random.Random) -> Task:
    """The task with a paraphrased question and drawn by the shifted renderer (ood_surface)."""
    if task.key[0] not in ("scene", "bars"):
        return task
    surface = random_surface(rng)
    return replace(
        task,
        key=(*task.key[:2], (surface.alt_palette, surface.background, surface.margin, surface.dx, surface.dy)),
        question=paraphrase(task.question),
    )


_POOLS = {
    "integer": [str(i) for i in range(0, 13)],
    "yesno": ["yes", "no"],
    "colour": list(COLORS),
    "shape": list(SHAPES),
}


def as_choice(task: Task, rng: random.Random) -> Task:
    """A multiple-choice version of any task (the letter-only requirement needs options)."""
    if task.answer_type == "mc":
        return task
    kind = task.answer_type if task.answer_type != "word" else ("colour" if task.answer in COLORS else "shape")
    pool = [p for p in _POOLS[kind] if p != task.answer]
    rng.shuffle(pool)
    opts, letter = _options(rng, task.answer, [task.answer, *pool[:3]] if len(pool) >= 3 else [task.answer, *pool])
    return replace(
        task,
        question=_mc_question(task.question, opts),
        answer=letter,
        answer_type="mc",
        reasoning=f"{task.reasoning} That is option {letter}.",
        choices=opts,
    )
