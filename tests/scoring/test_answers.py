import os
import threading

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs_vl.scoring.answers import extract_answer, is_correct, last_boxed

COLORS = ["red", "green", "blue", "yellow"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # <answer> content first, refined by a box or "the answer is" inside it
        ("<think>x</think> <answer>5</answer>", "5"),
        ("<think>x</think> <answer>The answer is \\boxed{12}</answer>", "12"),
        ("<think>the answer is 4</think> <answer>the answer is 9.</answer>", "9"),
        ("<think>x</think> <answer>2x+1</answer>", "2x+1"),  # not cut down to a number
        ("<think>x</think> <answer>\\frac{1}{2}</answer>", "\\frac{1}{2}"),
        ("<think>\\boxed{3}</think> <answer>4</answer>", "4"),
        ("<answer></answer> so 7", "7"),  # an empty answer falls through
        # then the last complete \boxed{}
        ("so \\boxed{1} then \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("\\boxed{4} and \\boxed{ unclosed", "4"),
        ("\\boxed{\\text{green}} The answer is 3", "green"),
        ("\\boxed{", None),
        # "the answer is" (last), then "Answer:"
        ("We add them. Thus, the answer is 7.", "7"),
        ("the answer is 3. No wait, the answer is 5.", "5"),
        ("The answer is $\\frac{3}{4}$.", "\\frac{3}{4}"),  # braces kept intact
        ("the answer is 6\nAnswer: 2", "6"),
        ("İİİ the answer is 42", "42"),  # lower() would shift indices here
        ("reasoning\nAnswer: green", "green"),
        ("**Answer:** 1,000", "1,000"),
        ('{"answer": "yellow"}', "yellow"),
        ("<think>so the answer is 5</think> <answer>", "5"),
        # a bare option letter
        ("B", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("B) red", "B"),
        ("U.S. Army", None),
        # the last number
        ("I see 3 and then 4 more", "4"),
        ("-2.5 is it", "-2.5"),
        ("pages 3-5", "5"),
        ("nothing here", None),
        ("", None),
    ],
)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


def test_last_boxed_handles_nesting_and_skips_unclosed():
    assert last_boxed("\\boxed{\\frac{a}{b}} x") == "\\frac{a}{b}"
    assert last_boxed("\\boxed{1} \\boxed{2} \\boxed{3") == "2"
    assert last_boxed("{\\boxed{7}") == "7"
    assert last_boxed("no box") is None


@pytest.mark.parametrize(
    "pred, gold, kind, choices, ok",
    [
        # option letters
        ("B", "B", "mc", None, True),
        ("(B)", "B", "auto", None, True),
        ("B.", "B", "mc", None, True),
        ("b", "B", "mc", None, True),
        ("B) green", "B", "mc", ["red", "green"], True),
        ("option B", "B", "auto", None, True),
        ("The option (C)", "C", "auto", None, True),
        ("green", "B", "mc", COLORS, True),
        ("Green.", "B", "auto", COLORS, True),
        ("red", "B", "mc", COLORS, False),
        ("green", "B", "mc", ["A. red", "B. green"], True),  # labelled choices
        ("C", "B", "mc", None, False),
        ("A green apple", "C", "mc", ["red", "blue", "green apple"], False),
        ("5", "C", "mc", ["3", "4", "5"], True),
        ("C", "5", "mc", ["3", "4", "5"], True),  # gold given as the option text
        ("E", "E", "auto", None, True),
        # yes/no and words
        (" Yes. ", "yes", "yesno", None, True),
        ("no", "yes", "auto", None, False),
        ("Yes, it is", "yes", "yesno", None, False),
        ("Light  Blue", "light blue", "word", None, True),
        ("der", "red", "auto", None, False),
        # numbers
        ("5", "5", "integer", None, True),
        ("5.0", "5", "auto", None, True),
        ("6", "5", "integer", None, False),
        ("5.4", "5", "integer", None, False),
        ("1,000", "1000", "auto", None, True),
        ("-3", "3", "auto", None, False),
        ("5 cm", "5", "integer", None, True),
        ("30^\\circ", "30", "auto", None, True),
        ("42 and more", "42", "integer", None, False),
        ("12 apples and 3 pears", "12", "integer", None, False),
        # through math-verify
        ("\\frac{1}{2}", "0.5", "number", None, True),
        ("1/2", "0.5", "auto", None, True),
        ("\\frac{1}{3}", "0.5", "number", None, False),
        ("2\\sqrt{3}", "\\sqrt{12}", "auto", None, True),
        ("2x+1", "1+2x", "auto", None, True),
        ("x^2+2x+1", "(x+1)^2", "expression", None, True),
        ("x^2+1", "(x+1)^2", "expression", None, False),
        # nothing to compare
        (None, "5", "auto", None, False),
        ("", "5", "auto", None, False),
        ("5", "", "auto", None, False),
    ],
)
def test_is_correct(pred, gold, kind, choices, ok):
    assert is_correct(pred, gold, kind, choices) is ok


@pytest.mark.parametrize(
    "alias, pred, gold",
    [("float", "0.50", "0.5"), ("text", "Red", "red"), ("multi_choice", "(A)", "A"), ("nonsense", "7", "7")],
)
def test_answer_type_aliases_and_unknown_types_fall_back(alias, pred, gold):
    assert is_correct(pred, gold, alias)
    assert not is_correct("zzz", gold, alias)


def test_odd_arguments_do_not_raise():
    assert is_correct(5, 5) is True  # type: ignore[arg-type]
    assert is_correct("B", "B", "mc", "red,green") is True  # a string is not a list of choices
    assert is_correct("green", "B", "mc", iter(["red", "green"])) is True
    assert is_correct("x", None) is False  # type: ignore[arg-type]


def test_math_verify_path_works_off_the_main_thread():
    results = []
    t = threading.Thread(
        target=lambda: results.append((is_correct("\\frac{1}{4}", "0.25"), is_correct("\\frac{1}{5}", "0.25")))
    )
    t.start()
    t.join(timeout=30)
    assert results == [(True, False)]


@settings(max_examples=60, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_integers_round_trip(n):
    assert is_correct(extract_answer(f"So the answer is {n}."), str(n))
    assert is_correct(extract_answer(f"<think>...</think> <answer>{n}</answer>"), str(n), "integer")
    assert not is_correct(str(n + 1), str(n))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 25), st.integers(0, 25), st.sampled_from(["{}", "({})", "{}.", "{}) some text", "option {}"]))
def test_letters_match_only_their_own_option(i, j, form):
    letter, other = chr(65 + i), chr(65 + j)
    choices = [f"choice {k}" for k in range(26)]
    assert is_correct(form.format(letter), other, "mc", choices) is (i == j)
    assert is_correct(f"choice {i}", other, "mc", choices) is (i == j)
