"""Rewards and answer checking never raise and stay fast on adversarial model output."""

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs_vl.answers import extract_answer, is_correct
from specs_vl.format import corrupt, parse
from specs_vl.rewards import accuracy_reward, format_reward

ADVERSARIAL = [
    "x" * 1_000_000,
    "<think>" * 5000 + "</answer>" * 5000,
    "<think><answer>" * 3000 + "</think>" * 2000,
    "9" * 100_000,
    "\\boxed{" * 20_000,
    "\\boxed{",
    "\\frac{" * 2000 + "1" + "}" * 2000,
    "x^{x^{x^{x^{x^{x^{x^{x^{x^{x}}}}}}}}}",
    "(" * 10_000,
    "10^{10^{10^{10^{10}}}}",
    "\x00" * 1000 + "5",
    "\ud800\udfff\ud800 answer is 5",
    "<answer>" + "{" * 5000 + "</answer>",
    "The answer is " + "\\sqrt{" * 500,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_under_one_second_each(text):
    for call in (
        lambda: parse(text),
        lambda: extract_answer(text),
        lambda: is_correct(text, "5"),
        lambda: is_correct(extract_answer(text), "5", "auto"),
        lambda: is_correct(text, "B", "mc", ["a", "b"]),
        lambda: format_reward([text]),
        lambda: accuracy_reward([text], answer=["5"]),
    ):
        t = time.perf_counter()
        call()
        assert time.perf_counter() - t < 1.0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=20))
def test_never_raises(text, gold):
    parse(text)
    extract_answer(text)
    assert isinstance(is_correct(text, gold), bool)
    assert format_reward([text]) in ([0.0], [0.5])
    assert accuracy_reward([[{"role": "assistant", "content": text}]], answer=[gold]) in ([0.0], [1.0])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=80),
       st.text(alphabet="0123456789abc", min_size=1, max_size=8), st.integers(1, 5))
def test_corruption_of_valid_text_is_invalid(think, answer, kind):
    valid = f"<think>{think}</think> <answer>{answer}</answer>"
    assert parse(valid).valid
    assert not parse(corrupt(valid, kind)).valid
