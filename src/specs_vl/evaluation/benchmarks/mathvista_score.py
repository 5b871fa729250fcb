"""MathVista's official answer normalisation and equality, ported line by line.

Upstream: lupantech/MathVista, `evaluation/calculate_score.py` (the version
that loads `AI4Math/MathVista` and takes `--ignore_empty_extractions`):
`get_most_similar`, `normalize_extracted_answer` and `safe_equal`. Reported
MathVista numbers are only comparable when these rules are used unchanged:

- multi_choice: strip; optionally give up on an empty extraction; "(B) text"
  becomes "B"; a letter within range maps to its option (A -> choices[0]);
  anything else becomes the option with the smallest Levenshtein distance.
- otherwise by answer_type: integer -> str(int(float(x))) (so "2.7" -> "2",
  truncation as upstream), float -> str(round(float(x), int(precision))),
  list -> str(x); a failure gives None.
- safe_equal: plain `==` against the gold string; an exception means False.

Two deliberate differences, both outside the upstream rules: the upstream
function leaves free-form `text` answers unbound (an UnboundLocalError), here
they are returned as is and compared as text; and a multi_choice question
with no choices raises ValueError instead of failing inside `min()`.

The official pipeline extracts the answer from a response with GPT-4;
`score_mathvista` uses a rule-based extractor instead (`mathvista_extract`),
so its accuracy is an estimate of the official one, with the same
normalisation and equality.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from specs_vl.evaluation.benchmarks.mathvista_extract import extract_response_answer

__all__ = [
    "extract_response_answer",
    "get_most_similar",
    "levenshtein",
    "normalize_extracted_answer",
    "safe_equal",
    "score_mathvista",
]


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute cost 1), as python-Levenshtein's `distance`."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def get_most_similar(prediction: str, choices: Sequence[str]) -> str:
    """The choice closest to `prediction` by edit distance; the first one on a tie."""
    distances = [levenshtein(prediction, choice) for choice in choices]
    ind = distances.index(min(distances))
    return choices[ind]


def normalize_extracted_answer(
    extraction: Any,
    choices: Sequence[str] | None,
    question_type: str,
    answer_type: str,
    precision: Any,
    ignore_empty_extractions: bool = False,
) -> str | None:
    """Bring an extracted answer to the form of MathVista's gold answer (see module docstring)."""
    if question_type == "multi_choice":
        choices = list(choices or [])
        # make sure the extraction is a string
        if isinstance(extraction, str):
            extraction = extraction.strip()
        else:
            try:
                extraction = str(extraction)
            except Exception:
                extraction = ""

        # if the extraction is empty, return None
        if ignore_empty_extractions and not extraction:
            return None

        # extract "A" from "(A) text"
        letter = re.findall(r"\(([a-zA-Z])\)", extraction)
        if len(letter) > 0:
            extraction = letter[0].upper()

        sequential_characters = [chr(ord("A") + i) for i in range(len(choices))]

        # if model output a character, use it as index of available choices
        if extraction in sequential_characters:
            option_index = sequential_characters.index(extraction)
            normalized_extraction = choices[option_index]
        else:
            if not choices:
                raise ValueError("a multi_choice question needs choices")
            # select the most similar option
            normalized_extraction = get_most_similar(extraction, choices)
        assert normalized_extraction in choices

    elif answer_type == "integer":
        try:
            normalized_extraction = str(int(float(extraction)))
        except Exception:
            normalized_extraction = None

    elif answer_type == "float":
        try:
            normalized_extraction = str(round(float(extraction), int(precision)))
        except Exception:
            normalized_extraction = None

    elif answer_type == "list":
        try:
            normalized_extraction = str(extraction)
        except Exception:
            normalized_extraction = None

    else:  # free-form text: upstream leaves this case unbound; compare the text as is
        normalized_extraction = extraction

    return normalized_extraction


def safe_equal(prediction: Any, answer: Any) -> bool:
    """`prediction == answer`, with an exception counting as not equal."""
    try:
        if prediction == answer:
            return True
        return False
    except Exception:
        return False


def _precision(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def score_mathvista(
    response: str, row: dict[str, Any], ignore_empty_extractions: bool = True
) -> tuple[str | None, bool]:
    """Extract, normalise with the official rules, compare to `row["answer"]`.

    `row` needs MathVista's `choices`, `question_type`, `answer_type`,
    `precision` and `answer`; `query` (optional) lets the extractor skip
    numbers the question itself gives. An empty response scores False by default (the
    official `--ignore_empty_extractions`), so a blank answer is never given
    the shortest option by edit distance. Returns (normalised prediction, correct).
    """
    question_type, answer_type = row["question_type"], row["answer_type"]
    choices = list(row.get("choices") or [])
    extraction = extract_response_answer(response, question_type, answer_type, choices, str(row.get("query") or ""))
    if extraction is None:
        extraction = ""
    prediction = normalize_extracted_answer(
        extraction,
        choices,
        question_type,
        answer_type,
        _precision(row.get("precision")),
        ignore_empty_extractions=ignore_empty_extractions,
    )
    return prediction, safe_equal(prediction, row["answer"])
