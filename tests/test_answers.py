import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from specs_vl.answers import extract_answer, is_correct


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<think>x</think> <answer>5</answer>", "5"),
        ("<think>x</think> <answer>The answer is \\boxed{12}</answer>", "12"),
        ("so \\boxed{1} then \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("\\boxed{4} and \\boxed{ unclosed", "4"),
        ("We add them. Thus, the answer is 7.", "7"),
        ("reasoning\nAnswer: green", "green"),
        ("red: 2. blue: 1. The final answer is no.", "no"),
        ('{"answer": "yellow"}', "yellow"),
        ("(B)", "B"),
        ("B) red", "B"),
        ("I see 3 and then 4 more", "4"),
        ("-2.5 is it", "-2.5"),
        ("nothing here", None),
        ("", None),
    ],
)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    "pred, gold, kind, choices, ok",
    [
        ("B", "B", "mc", None, True),
        ("(B)", "B", "auto", None, True),
        ("B.", "B", "mc", None, True),
        ("B) green", "B", "mc", ["red", "green"], True),
        ("green", "B", "mc", ["red", "green", "blue", "yellow"], True),
        ("red", "B", "mc", ["red", "green", "blue", "yellow"], False),
        ("C", "B", "mc", None, False),
        (" Yes. ", "yes", "yesno", None, True),
        ("no", "yes", "auto", None, False),
        ("Light  Blue", "light blue", "word", None, True),
        ("5", "5", "integer", None, True),
        ("5.0", "5", "auto", None, True),
        ("6", "5", "integer", None, False),
        ("\\frac{1}{2}", "0.5", "number", None, True),
        ("1/2", "0.5", "auto", None, True),
        ("2x+1", "1+2x", "expression", None, True),
        (None, "5", "auto", None, False),
        ("", "5", "auto", None, False),
    ],
)
def test_is_correct(pred, gold, kind, choices, ok):
    assert is_correct(pred, gold, kind, choices) is ok
