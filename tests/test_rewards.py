import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from specs_vl.rewards import accuracy_reward, format_reward, make_accuracy_reward, make_format_reward

GOOD = "<think>2 + 1 = 3.</think> <answer>3</answer>"
PLAIN = "2 + 1 = 3. Thus, the answer is 3."
WRONG = "<think>2 + 2 = 4.</think> <answer>4</answer>"


def test_plain_and_conversational_completions():
    plain = [GOOD, PLAIN, WRONG]
    conv = [[{"role": "assistant", "content": t}] for t in plain]
    parts = [[{"role": "assistant", "content": [{"type": "text", "text": t}]}] for t in plain]
    for completions in (plain, conv, parts):
        assert format_reward(completions) == [0.5, 0.0, 0.5]
        assert accuracy_reward(completions, answer=["3", "3", "3"]) == [1.0, 1.0, 0.0]


def test_weights_configurable_and_named_for_trl_logs():
    f, a = make_format_reward(2.0), make_accuracy_reward(0.25)
    assert f([GOOD, PLAIN]) == [2.0, 0.0]
    assert a([GOOD], answer=["3"]) == [0.25]
    assert f.__name__ == "format_reward" and a.__name__ == "accuracy_reward"


def test_answer_type_and_choices_columns_are_used():
    comp = ["<think>x</think> <answer>green</answer>"]
    assert accuracy_reward(comp, answer=["B"], answer_type=["mc"], choices=[["red", "green"]]) == [1.0]
    assert accuracy_reward(comp, answer=["A"], answer_type=["mc"], choices=[["red", "green"]]) == [0.0]


def test_broken_items_score_zero():
    assert format_reward([None, 5, {}]) == [0.0, 0.0, 0.0]
    assert accuracy_reward([None, [], [{"role": "assistant"}]], answer=["1", "1", "1"]) == [0.0, 0.0, 0.0]
