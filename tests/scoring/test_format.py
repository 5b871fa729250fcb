import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from specs_vl.scoring.answers import extract_answer
from specs_vl.scoring.format import KINDS, Parsed, corrupt, corrupt_with_kind, parse

VALID = "<think>red: 2. blue: 1. 2 + 1 = 3.</think> <answer>3</answer>"
MULTILINE = "<think>\nred: 2.\nblue: 1.\n</think>\n<answer>\n3\n</answer>"
GLUED = "<think>a</think><answer>5</answer>"


@pytest.mark.parametrize("text", [VALID, MULTILINE, GLUED, f"\n  {VALID}\n", "<think></think><answer>x</answer>"])
def test_valid(text):
    p = parse(text)
    assert p.valid and p.answer is not None and p.think is not None


def test_contents_are_stripped():
    assert parse(MULTILINE) == Parsed(think="red: 2.\nblue: 1.", answer="3", valid=True)


@pytest.mark.parametrize(
    "text",
    [
        "<answer>3</answer> <think>x</think>",  # wrong order
        "<think>a</think> <think>b</think> <answer>3</answer>",  # two thinks
        "<think>a</think> <answer>3</answer> <answer>4</answer>",  # two answers
        "<think>a</think> so <answer>3</answer>",  # text between
        "<think>a</think> <answer>3</answer> done",  # text after
        "hi <think>a</think> <answer>3</answer>",  # text before
        "<think>a <answer>3</answer></think>",  # nested
        "<think>a</think>",
        "<think>a</think> <answer>3",
        "Thus, the answer is 3.",
        "",
    ],
)
def test_invalid(text):
    assert not parse(text).valid


def test_fields_found_even_when_invalid_last_pair_wins():
    p = parse("<think>a</think> and then <answer> 7 </answer>")
    assert (p.think, p.answer, p.valid) == ("a", "7", False)
    p = parse("<answer>1</answer> <think>x</think> <think>y</think> <answer>2</answer>")
    assert (p.think, p.answer) == ("y", "2")
    assert parse("no tags at all") == Parsed(None, None, False)


def test_non_string_is_invalid_not_an_error():
    assert parse(None) == Parsed(None, None, False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("<think>a</think> <answer>5</answer>", 1, "a 5"),
        (VALID, 1, "red: 2. blue: 1. 2 + 1 = 3. 3"),
        (VALID, 2, "<think>red: 2. blue: 1. 2 + 1 = 3.</think> 3"),
        (VALID, 3, "red: 2. blue: 1. 2 + 1 = 3. <answer>3</answer>"),
        (VALID, 4, "<think>red: 2. blue: 1. 2 + 1 = 3. 3</think>"),
        (VALID, 5, "<think>red: 2. blue: 1. 2 + 1 = 3.</think> Answer: 3"),
        (GLUED, 1, "a 5"),
        (GLUED, 2, "<think>a</think> 5"),
        (GLUED, 3, "a <answer>5</answer>"),
        (GLUED, 4, "<think>a 5</think>"),
        (GLUED, 5, "<think>a</think> Answer: 5"),
        ("<think> a </think> <answer> 5 </answer>", 1, "a 5"),
        ("<think> a </think> <answer> 5 </answer>", 5, "<think> a </think> Answer: 5"),
        (MULTILINE, 1, "red: 2.\nblue: 1.\n\n3"),
        (MULTILINE, 4, "<think>\nred: 2.\nblue: 1.\n\n3</think>"),
    ],
)
def test_each_corruption_exactly(text, kind, expected):
    assert corrupt(text, kind) == expected


@pytest.mark.parametrize("text", [VALID, MULTILINE, GLUED])
@pytest.mark.parametrize("kind", KINDS)
def test_corruption_breaks_format_but_keeps_the_answer(text, kind):
    out, applied = corrupt_with_kind(text, kind)
    assert applied == kind
    assert not parse(out).valid
    assert extract_answer(out) == parse(text).answer  # rejected side stays answer-correct


def test_random_kind_covers_all_and_follows_the_rng():
    rng = random.Random(0)
    kinds = [corrupt_with_kind(VALID, None, rng)[1] for _ in range(200)]
    assert set(kinds) == set(KINDS)
    again = random.Random(0)
    assert kinds == [corrupt_with_kind(VALID, None, again)[1] for _ in range(200)]
    assert not parse(corrupt(VALID, None)).valid  # default rng


@pytest.mark.parametrize("kind", [0, 6, -1, "2", 2.5, True])
def test_unknown_kind_is_named(kind):
    with pytest.raises(ValueError, match=repr(kind).replace(".", r"\.")):
        corrupt(VALID, kind)  # type: ignore[arg-type]
