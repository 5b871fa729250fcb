import os
import random

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from specs_vl.format import corrupt, corrupt_with_kind, parse

VALID = "<think>red: 2. blue: 1. 2 + 1 = 3.</think> <answer>3</answer>"


@pytest.mark.parametrize("text", [VALID, f"\n  {VALID}\n", "<think></think><answer>x</answer>"])
def test_valid(text):
    p = parse(text)
    assert p.valid and p.answer is not None and p.think is not None


@pytest.mark.parametrize(
    "text",
    [
        "<answer>3</answer> <think>x</think>",  # wrong order
        "<think>a</think> <think>b</think> <answer>3</answer>",  # two thinks
        "<think>a</think> so <answer>3</answer>",  # text between
        "<think>a</think> <answer>3</answer> done",  # text after
        "hi <think>a</think> <answer>3</answer>",  # text before
        "<think>a <answer>3</answer></think>",  # nested
        "<think>a</think>",
        "Thus, the answer is 3.",
    ],
)
def test_invalid(text):
    assert not parse(text).valid


def test_fields_found_even_when_invalid():
    p = parse("<think>a</think> and then <answer> 7 </answer>")
    assert not p.valid and p.think == "a" and p.answer == "7"


def test_each_corruption_exactly():
    assert corrupt(VALID, 1) == "red: 2. blue: 1. 2 + 1 = 3. 3"
    assert corrupt(VALID, 2) == "<think>red: 2. blue: 1. 2 + 1 = 3.</think> 3"
    assert corrupt(VALID, 3) == "red: 2. blue: 1. 2 + 1 = 3. <answer>3</answer>"
    assert corrupt(VALID, 4) == "<think>red: 2. blue: 1. 2 + 1 = 3. 3 </think>"
    assert corrupt(VALID, 5) == "<think>red: 2. blue: 1. 2 + 1 = 3.</think> Answer: 3"


def test_every_corruption_is_invalid_and_random_covers_all_kinds():
    rng = random.Random(0)
    kinds = set()
    for _ in range(200):
        text, kind = corrupt_with_kind(VALID, None, rng)
        kinds.add(kind)
        assert not parse(text).valid
        assert "3" in text  # the answer survives: pairs stay answer-correct
    assert kinds == {1, 2, 3, 4, 5}


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="7"):
        corrupt(VALID, 7)
