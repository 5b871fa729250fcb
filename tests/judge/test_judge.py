import pytest

from specs_vl.judge import get_judge
from specs_vl.judge.rule import conclusion, rule_judge


@pytest.mark.parametrize(
    "response, ok",
    [
        ("<think>red: 3. blue: 2. 3 is more than 2, so yes.</think> <answer>yes</answer>", True),
        ("<think>red: 3. blue: 2. 3 is more than 2, so yes.</think> <answer>no</answer>", False),
        ("<think>circles: 2. squares: 1. 2 + 1 = 3.</think> <answer>3</answer>", True),
        ("<think>circles: 2. squares: 1. 2 + 1 = 3.</think> <answer>4</answer>", False),
        ("<think>In the top row, column 2 there is a red circle.</think> <answer>red</answer>", True),
        ("<think>In the top row, column 2 there is a red circle.</think> <answer>blue</answer>", False),
        ("<think>red: 1. green: 4. The tallest is green, option B.</think> <answer>B</answer>", True),
        ("<think>red: 1. green: 4. The tallest is green, option B.</think> <answer>A</answer>", False),
        ("<think>so the answer is 1/2</think> <answer>0.5</answer>", True),
        ("no tags, the answer is 3", False),
    ],
)
def test_rule_judge_on_hand_made_cases(response, ok):
    v = rule_judge("q", response)
    assert v.ok is ok and v.reason


def test_conclusion_is_the_last_sentence():
    assert conclusion("a: 1. b: 2.\nSo it is 3.") == "So it is 3"


def test_unknown_judge_is_named():
    with pytest.raises(ValueError, match="oracle"):
        get_judge("oracle")
