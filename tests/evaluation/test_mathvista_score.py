"""MathVista's official normalisation rules, case by case, and the rule-based scorer."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from specs_vl.evaluation.benchmarks.mathvista_score import (  # noqa: E402
    extract_response_answer,
    get_most_similar,
    levenshtein,
    normalize_extracted_answer,
    safe_equal,
    score_mathvista,
)

FRACTIONS = ["3/11", "8/11", "6/11", "3/5"]
DERIVATIVE = ["larger than", "equal to", "smaller than"]


def mc(extraction, choices=FRACTIONS, **kw):
    return normalize_extracted_answer(extraction, choices, "multi_choice", "text", None, **kw)


@pytest.mark.parametrize(
    "a,b,d",
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("flaw", "lawn", 2),
        ("same", "same", 0),
        ("8/11", "3/11", 1),
    ],
)
def test_levenshtein(a, b, d):
    assert levenshtein(a, b) == d
    assert levenshtein(b, a) == d


def test_most_similar_takes_the_closest_and_the_first_on_a_tie():
    assert get_most_similar("smaller", DERIVATIVE) == "smaller than"
    assert get_most_similar("xx", ["ab", "cd"]) == "ab"


def test_multi_choice_letter_maps_to_its_option():
    assert mc("B") == "8/11"
    assert mc(" A ") == "3/11"
    assert mc("D") == "3/5"


def test_multi_choice_parenthesised_letter_wins_over_the_text():
    assert mc("(C) 6/11") == "6/11"
    assert mc("(b) whatever") == "8/11"  # upper-cased, as upstream


def test_multi_choice_bare_lowercase_letter_is_not_a_letter():
    # Upstream only upper-cases letters found in "(x)"; a bare "b" goes to edit distance.
    assert mc("b", ["b", "x"]) == "b"  # "B" would have given "x"
    assert mc("B", ["b", "x"]) == "x"


def test_multi_choice_letter_out_of_range_goes_to_edit_distance():
    assert mc("E") == "3/5"  # "E" is 4 edits from every option but "3/5" (3 edits)


def test_multi_choice_unmatched_text_becomes_the_most_similar_option():
    assert mc("8/1") == "8/11"
    assert mc("equal", DERIVATIVE) == "equal to"
    assert mc("The derivative is larger than", DERIVATIVE) == "larger than"


def test_multi_choice_empty_extraction():
    assert mc("") == "3/5"  # upstream default: the option nearest to "", the shortest
    assert mc("", ignore_empty_extractions=True) is None
    assert mc("   ", ignore_empty_extractions=True) is None


def test_multi_choice_non_string_extraction_is_stringified():
    assert mc(2, ["1", "2", "3"]) == "2"


def test_multi_choice_without_choices_raises():
    with pytest.raises(ValueError, match="choices"):
        mc("A", [])


@pytest.mark.parametrize(
    "extraction,expected",
    [
        ("2.0", "2"),
        ("2", "2"),
        ("2.7", "2"),
        ("-3", "-3"),
        (7, "7"),
        ("1e3", "1000"),
        ("two", None),
        ("", None),
        (None, None),
        ("3 cm", None),
    ],
)
def test_integer(extraction, expected):
    assert normalize_extracted_answer(extraction, [], "free_form", "integer", None) == expected


@pytest.mark.parametrize(
    "extraction,precision,expected",
    [
        ("3.14", 1, "3.1"),
        ("3.14", 1.0, "3.1"),
        ("1.456", 2.0, "1.46"),
        ("0.5", 2, "0.5"),
        ("2", 1, "2.0"),
        ("abc", 1, None),
        ("3.14", None, None),
    ],
)
def test_float(extraction, precision, expected):
    assert normalize_extracted_answer(extraction, [], "free_form", "float", precision) == expected


def test_list_is_stringified():
    assert normalize_extracted_answer([2007, 2008], [], "free_form", "list", None) == "[2007, 2008]"
    assert normalize_extracted_answer("[2007, 2008]", [], "free_form", "list", None) == "[2007, 2008]"


def test_free_form_text_is_compared_as_text():
    assert normalize_extracted_answer("Paris", [], "free_form", "text", None) == "Paris"


def test_safe_equal():
    class Boom:
        def __eq__(self, other):
            raise RuntimeError("no")

    assert safe_equal("2", "2") is True
    assert safe_equal(2, "2") is False
    assert safe_equal(None, "2") is False
    assert safe_equal("3.1", "3.10") is False
    assert safe_equal(Boom(), "x") is False


@pytest.mark.parametrize(
    "response,expected",
    [
        ("<think>...</think><answer>B</answer>", "B"),
        ("<answer> \\boxed{\\frac{1}{2}} </answer>", "\\frac{1}{2}"),
        ("So we get \\boxed{12}.", "12"),
        ("Thus the answer is 3.5.", "3.5"),
        ("Answer: (C) 6/11", "(C) 6/11"),
        ("So in total, there are 3 cubes and 4 spheres: 7 objects", "7"),
        ("equal to", "equal to"),
        ("   ", None),
    ],
)
def test_extract_response_answer(response, expected):
    assert extract_response_answer(response, "free_form", "integer" if expected == "7" else "text") == expected


def _row(question_type, answer_type, answer, choices=None, precision=None):
    return {
        "question_type": question_type,
        "answer_type": answer_type,
        "answer": answer,
        "choices": choices,
        "precision": precision,
    }


def test_score_multi_choice():
    row = _row("multi_choice", "text", "8/11", FRACTIONS)
    assert score_mathvista("<answer>B</answer>", row) == ("8/11", True)
    assert score_mathvista("<answer>B. 8/11</answer>", row) == ("8/11", True)
    assert score_mathvista("The answer is 8/11.", row) == ("8/11", True)
    assert score_mathvista("<answer>(A) 3/11</answer>", row) == ("3/11", False)
    assert score_mathvista("<answer>C</answer>", row) == ("6/11", False)


def test_score_empty_response_never_guesses_by_default():
    row = _row("multi_choice", "text", "3/5", FRACTIONS)  # the option nearest to ""
    assert score_mathvista("", row) == (None, False)
    assert score_mathvista("", row, ignore_empty_extractions=False) == ("3/5", True)


def test_score_integer_float_and_list():
    assert score_mathvista("so the total is 12 apples", _row("free_form", "integer", "12")) == ("12", True)
    assert score_mathvista("<answer>12.0 apples</answer>", _row("free_form", "integer", "12")) == ("12", True)
    assert score_mathvista("<answer>13</answer>", _row("free_form", "integer", "12")) == ("13", False)
    assert score_mathvista("\\boxed{3.14}", _row("free_form", "float", "3.1", precision=1.0)) == ("3.1", True)
    assert score_mathvista("\\boxed{3.16}", _row("free_form", "float", "3.1", precision=1.0)) == ("3.2", False)
    money = _row("free_form", "float", "1.45", precision="2")
    assert score_mathvista("<answer>$1.45</answer>", money) == ("1.45", True)
    lst = _row("free_form", "list", "[2007, 2008]")
    assert score_mathvista("<answer>[2007, 2008]</answer>", lst) == ("[2007, 2008]", True)
    assert score_mathvista("<answer>[2007,2008]</answer>", lst)[1] is False  # upstream compares the text
