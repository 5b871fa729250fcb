import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from specs_vl.scoring.rewards import (
    ACCURACY_WEIGHT,
    FORMAT_WEIGHT,
    accuracy_reward,
    completion_text,
    format_reward,
    make_accuracy_reward,
    make_format_reward,
)

GOOD = "<think>2 + 1 = 3.</think> <answer>3</answer>"
PLAIN = "2 + 1 = 3. Thus, the answer is 3."
WRONG = "<think>2 + 2 = 4.</think> <answer>4</answer>"
TEXTS = [GOOD, PLAIN, WRONG]


def _shapes(texts):
    yield texts
    yield [[{"role": "assistant", "content": t}] for t in texts]
    yield [[{"role": "assistant", "content": [{"type": "text", "text": t}]}] for t in texts]
    half = [
        [{"role": "assistant", "content": [{"type": "text", "text": t[:5]}, {"type": "text", "text": t[5:]}]}]
        for t in texts
    ]
    yield half


@pytest.mark.parametrize("completions", list(_shapes(TEXTS)), ids=["plain", "conv", "parts", "split-parts"])
def test_plain_and_conversational_completions(completions):
    assert format_reward(completions) == [FORMAT_WEIGHT, 0.0, FORMAT_WEIGHT]
    assert accuracy_reward(completions, answer=["3", "3", "3"]) == [ACCURACY_WEIGHT, ACCURACY_WEIGHT, 0.0]


def test_default_weights_match_the_paper():
    assert (FORMAT_WEIGHT, ACCURACY_WEIGHT) == (0.5, 1.0)


def test_completion_text_uses_the_assistant_turn():
    conv = [{"role": "user", "content": "q"}, {"role": "assistant", "content": GOOD}, {"role": "tool", "content": "x"}]
    assert completion_text(conv) == GOOD
    assert completion_text({"role": "assistant", "content": GOOD}) == GOOD
    assert completion_text([{"role": "assistant", "content": None}]) == ""


def test_weights_configurable_and_named_for_trl_logs():
    f, a = make_format_reward(2.0), make_accuracy_reward(0.25)
    assert f([GOOD, PLAIN]) == [2.0, 0.0]
    assert a([GOOD, WRONG], answer=["3", "3"]) == [0.25, 0.0]
    assert (f.__name__, a.__name__) == ("format_reward", "accuracy_reward")
    assert (format_reward.__name__, accuracy_reward.__name__) == ("format_reward", "accuracy_reward")


def test_answer_type_and_choices_columns_are_used():
    comp = ["<think>x</think> <answer>green</answer>"] * 2
    kw = {"answer_type": ["mc", "mc"], "choices": [["red", "green"], ["red", "green"]]}
    assert accuracy_reward(comp, answer=["B", "A"], **kw) == [1.0, 0.0]
    assert accuracy_reward(comp, answer=["B", "B"], answer_type=["mc", None], choices=[["red", "green"], None]) == [
        1.0,
        0.0,
    ]
    assert accuracy_reward(comp, answer=["B", "B"], answer_type="mc", choices=None) == [0.0, 0.0]


def test_trl_extra_kwargs_are_ignored():
    extra = {"prompts": ["p"], "completion_ids": [[1, 2]], "trainer_state": object(), "image": [None]}
    assert format_reward([GOOD], **extra) == [0.5]
    assert accuracy_reward([GOOD], answer=["3"], **extra) == [1.0]


def test_broken_items_score_zero_and_lengths_always_match():
    assert format_reward([None, 5, {}, [object()]]) == [0.0, 0.0, 0.0, 0.0]
    broken = [None, [], [{"role": "assistant"}], [{"role": "assistant", "content": [None, 3]}]]
    assert accuracy_reward(broken, answer=["1"] * 4) == [0.0] * 4
    assert accuracy_reward([GOOD, GOOD], answer=["3"]) == [1.0, 0.0]  # short gold column
    assert accuracy_reward([GOOD], answer=[None]) == [0.0]
    assert accuracy_reward([GOOD], answer=[3]) == [1.0]  # non-string gold


def test_random_reward_keeps_the_batch_distribution_and_ignores_the_completion():
    from specs_vl.scoring.rewards import shuffled_rewards

    good = "<think>t</think> <answer>3</answer>"
    completions = [good] * 4 + ["7"] * 4  # the first half is right and well formed, the second neither
    answer = ["3"] * 8
    real = [make_format_reward(1.0), make_accuracy_reward(1.0)]  # as the GRPO stages build them (zero.grpo_rewards)
    fmt, acc = shuffled_rewards(real, seed=0)
    assert fmt.__name__ == "format_reward" and acc.__name__ == "accuracy_reward"  # TRL's log keys stay
    first_half = []
    for _ in range(300):
        f, a = fmt(completions, answer=answer), acc(completions, answer=answer)
        assert sorted(f) == sorted(real[0](completions, answer=answer))  # the same values: the same distribution
        assert sorted(a) == sorted(real[1](completions, answer=answer))
        assert f == a  # one permutation for both rewards of a batch: the joint draw is kept
        first_half.append(sum(a[:4]) / 4)
    mean = sum(first_half) / len(first_half)
    assert abs(mean - 0.5) < 0.05, mean  # the real reward gives the first half 1.0; the control gives the batch mean


def test_the_grpo_rewards_are_rates_weighted_once_by_trl():
    from specs_vl.recipe.zero_config import ZeroConfig
    from specs_vl.training.grpo import grpo_args, grpo_rewards

    good = "<think>t</think> <answer>3</answer>"
    for reward in ("specs", "random"):
        fmt, acc = grpo_rewards(ZeroConfig(reward=reward))
        assert fmt([good], answer=["3"]) == [1.0] and acc([good], answer=["3"]) == [1.0]
    assert list(grpo_args(ZeroConfig(format_weight=0.5), "/tmp/x").reward_weights) == [0.5, 1.0]
