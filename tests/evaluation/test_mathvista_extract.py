"""The MathVista rule extractor, one test per failure category, on responses written for these tests."""

from __future__ import annotations

import pytest

from specs_vl.evaluation.benchmarks.mathvista_score import (
    extract_response_answer,
    score_mathvista,
)

YES_NO = ["Yes", "No"]
FOUR = ["Solution A", "Solution B", "Solution C", "neither"]


def mc(response, choices=FOUR):
    return extract_response_answer(response, "multi_choice", "text", choices)


def ff(response, answer_type="integer", query=""):
    return extract_response_answer(response, "free_form", answer_type, [], query)


def row(answer, choices=None, answer_type="text", precision=None, query=""):
    return {
        "question_type": "multi_choice" if choices else "free_form",
        "answer_type": answer_type,
        "answer": answer,
        "choices": choices,
        "precision": precision,
        "query": query,
    }


# 1. yes/no inside a sentence maps to the option
@pytest.mark.parametrize(
    "response,expected",
    [
        ("No, there are not more red cubes than blue spheres in the picture.", "No"),
        ("Yes. The left bar is taller than the right one, so it is larger.", "Yes"),
        ("After counting carefully, the answer is no, there are fewer cylinders.", "No"),
        ("Based on the image, Web Purple does not have the maximum area under the curve.", "No"),
        ("Based on the graph, the function is increasing between 1 and 2.", "Yes"),
        ("A: No, Light Slate is not less than Saddle Brown in the chart.", "No"),  # a dialogue label, not option A
    ],
)
def test_yes_no_in_a_sentence(response, expected):
    assert mc(response, YES_NO) == expected


# 2. an option letter not on the last line, and the phrasings of an option statement
@pytest.mark.parametrize(
    "response",
    [
        "The correct choice is (B).\n\nI hope this helps!",
        "Let me think. Solution B has more particles per volume.\nThe correct option is B.\nLet me know if you need more.",  # noqa: E501
        "Comparing the two jars, the answer is option B because it holds more solute.",
        "Answer: B",
        "Therefore the answer is (B) Solution B.\n\nChoice (A) is incorrect because it holds fewer particles.",
    ],
)
def test_option_statements(response):
    assert mc(response) == "B"


def test_answer_is_needs_a_word_boundary():
    # "answer is" inside "the short-answer issue" is no statement; the option text is the answer
    assert mc("This is a short-answer issue; clearly it is neither of them.") == "neither"


# 3. the last number of a short free-form answer
def test_short_answer_number_is_not_one_from_the_question():
    query = "How many bars have values below 40?"
    assert ff("There are 3 bars with values below 40.", query=query) == "3"
    assert ff("There are three bars below 40 in the chart.", query=query) == "3"
    assert ff("These two people have a 10-year age gap; the younger is 30 and the older is 40.") == "10"


def test_chain_of_thought_takes_the_concluding_number():
    text = (
        "The first shelf holds 12 books and the second 15.\nAdding them: 12 + 15 = 27.\nTherefore, there are 27 books."
    )
    assert ff(text, query="How many books are on the shelves?") == "27"


def test_a_time_stated_for_multiple_choice_is_matched_as_an_option():
    assert mc("The clock shows 5:30.", ["5:00", "5:30", "6:30"]) == "5:30"


# 4. an explicit "(X)" beats a trailing capital; unit letters are not options on free-form questions
def test_explicit_letter_beats_a_trailing_capital():
    assert mc("The correct option is (C) Solution B.") == "C"


@pytest.mark.parametrize(
    "response,answer_type,expected",
    [
        ("The net force on the block is 100.0 N.", "float", "100.0"),
        ("The work done is 45 J", "integer", "45"),
        ("So the potential difference is 12 V.", "integer", "12"),
        ("The temperature rises to 300 K.", "integer", "300"),
    ],
)
def test_units_are_not_options(response, answer_type, expected):
    assert ff(response, answer_type) == expected


def test_unit_answer_scores():
    assert score_mathvista("The net force on the block is 100.0 N.", row("100.0", answer_type="float", precision=1))[1]


# 5. hyphens in ranges are not minus signs
@pytest.mark.parametrize(
    "response,expected",
    [
        ("The share grew from 45.2%-65.6% over the decade, so the answer is 65.6", "65.6"),
        ("The youngest children are aged 0-5", "0"),
        ("The temperature dropped to -5 degrees.", "-5"),
    ],
)
def test_ranges_are_not_negative(response, expected):
    assert ff(response, "float") == expected


# 6. list answers outside tags or \boxed{}
def test_list_answer():
    assert ff("The line peaks between the years: [2007, 2008]", "list") == "[2007, 2008]"
    assert score_mathvista("The values are [0, 2, 4, 6]", row("[0, 2, 4, 6]", answer_type="list"))[1]


# 7. refusals: as the official pipeline, a refusal is an extraction like any other text
def test_refusals_go_to_the_official_normaliser():
    assert mc("I cannot say from this picture.", YES_NO) == "I cannot say from this picture."  # GPT copies a short one
    long = ("As an AI, I don't have the ability to see images. " * 3) + "Please describe the chart in words."
    assert mc(long, YES_NO) == "N/A"  # and writes N/A for a longer one
    # free-form: never a number; multiple choice: the option nearest by edit distance, as upstream
    assert score_mathvista("I'm sorry, I cannot determine this from the image.", row("7", answer_type="integer")) == (
        None,
        False,
    )
    assert score_mathvista(long, row("Yes", YES_NO))[0] == "No"  # "N/A" is nearest to "No"


def test_answer_tags_and_boxed_still_win():
    assert mc("<think>(A) looks wrong, (C) too.</think><answer>B</answer>") == "B"
    assert ff("We get \\boxed{12} apples, not 13.") == "12"
    assert ff("42") == "42"  # upstream's own first rule: the whole response is the integer


# 8. refusals GPT sums up as "N/A": an outright decline, or one that concludes it is impossible to answer
@pytest.mark.parametrize(
    "response",
    [
        "The solution cannot be provided because the chart the question refers to is missing.",
        "I can't process this file.",
        "As an AI, I am not able to look at the figure, so I will not guess.",
        "The picture does not show counts for the red trucks or the small spheres. Therefore, it is impossible to answer the question.",  # noqa: E501
        "Nothing in the text tells us how tall either tree is.\n\nThus, it is impossible to determine which one is taller.",  # noqa: E501
    ],
)
def test_refusals_gpt_writes_as_na(response):
    assert mc(response, YES_NO) == "N/A"
    assert score_mathvista(response, row("No", YES_NO))[0] == "No"  # "N/A" is nearest to "No", as upstream


def test_a_short_statement_of_what_is_missing_is_still_copied():
    text = "The question does not provide enough information to determine whether the bus is red."
    assert mc(text, YES_NO) == text


# 9. the prompt's format examples ("e.g., 1, 2, 3, at the end") are no numbers the question gives
def test_hint_examples_are_not_given_numbers():
    hint = "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end."  # noqa: E501
    query = hint + "\nQuestion: How many bars have a value below 40?"
    assert ff("There are 3 bars below 40: the ones for 2014, 2015 and 2016.", query=query) == "3"
    assert ff("Counting the short ones, there are **2** groups under 40 in total.", query=query) == "2"
    assert ff("Thus the answer is 40 bars", query="Question: Is 40 the largest value? e.g., 40") == "40"


# 10. runaway few-shot continuations: as the official GPT extraction, the last block that states an answer
def test_continuation_takes_the_last_answered_block():
    text = (
        "Solution B holds six particles in the same volume, so it is more concentrated.\nThe answer is B.\n\n"
        "Question: Which planet is closest to the sun?\nChoices:\n(A) Venus\n(B) Earth\n(C) Mars\n(D) Mercury\n"
        "Solution: Mercury orbits nearest to the sun.\nThe answer is D.\n\n"
        "Question: Name a prime number above 10.\nSolution:"
    )
    assert mc(text) == "D"  # the unanswered last block is skipped
    counting = (
        "I count 7 apples in the basket.\n\nQuestion: How many legs does a spider have?\n"
        "Solution: Spiders are arachnids, so they have 8 legs. Therefore, the answer is 8."
    )
    assert ff(counting) == "8"


def test_continuation_that_only_repeats_the_prompt_keeps_the_first_answer():
    repeat = (
        "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n"
        "Question: Which solution is more concentrated?\nChoices:\n(A) Solution A\n(B) Solution B\n"
    )
    assert mc("The answer is (C) Solution C.\n\n" + repeat * 3) == "C"
    assert ff("Question: How many apples are there?\nAnswer: 5") == "5"  # a restated question is no continuation


# 11. a refusal that concludes what cannot be done: GPT writes it in its own short words
@pytest.mark.parametrize(
    "response,expected",
    [
        ("The chart labels only two of its sectors. Therefore, the question cannot be answered.", "Cannot be answered"),  # noqa: E501
        (
            "Nothing in the figure gives the heights of the two towers.\n\nThus, the answer cannot be determined from the given data.",  # noqa: E501
            "Cannot be determined",
        ),
        (
            "The legend is cut off in the picture. Hence, the answer cannot be definitively determined.",
            "Cannot be determined",
        ),  # noqa: E501
        ("The picture does not show a clock. Therefore, a solution cannot be provided.", "N/A"),  # no such verb: N/A
    ],
)
def test_refusal_conclusion_in_gpts_words(response, expected):
    assert mc(response, YES_NO) == expected
    # the official normaliser then takes the nearest option: "Cannot be answered" is nearer "Yes" than "No"
    if expected == "Cannot be answered":
        assert score_mathvista(response, row("Yes", YES_NO))[0] == "Yes"


# 12. a multiple-choice result the response finds among none of the options: GPT writes "None"
@pytest.mark.parametrize(
    "response",
    [
        "The angle at the centre doubles 35°, so it is 70°.\n\nHowever, this is not an option in the choices given.",
        "So x = 14 / 4 = 3.5. This value is not available in the options; the figure may be mislabelled.",
        "Adding the two arcs gives 200°. None of the given options match this result. Please check the question.",
    ],
)
def test_result_outside_the_options_is_none(response):
    assert mc(response, ["35°", "70°", "110°", "140°"]) == "None"


def test_an_option_stated_outright_still_wins_over_a_no_option_remark():
    text = "None of the options match my first estimate of 12, but rechecking, the answer is (B) 70°."
    assert mc(text, ["35°", "70°", "110°", "140°"]) == "B"


# 13. a worked solution with no concluding word states its result last, not its first operand
@pytest.mark.parametrize(
    "response,expected",
    [
        ("Add the cost of the pen and the notebook.\n\n$4 + $7 = $11\n\nMaya needs $11.", "11"),
        ("The taller bar is 64 and the shorter is 19.\n64 - 19 = 45\nThe taller bar is 45 more than the other.", "45"),
        ("Each step adds 3: 2, 5, 8, 11.\nContinuing, the next number should be 11 + 3 = 14.", "14"),
    ],
)
def test_worked_solution_reads_its_last_statement(response, expected):
    assert ff(response) == expected


def test_a_direct_answer_without_working_keeps_its_first_number():
    assert ff("There are 4 cups on the table, next to 2 plates.") == "4"
