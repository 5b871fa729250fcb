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
`score_mathvista` uses a rule-based extractor instead (answer tags, \\boxed{},
"answer is", an option letter, a number), so its accuracy is an estimate of
the official one, with the same normalisation and equality.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


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


# --- rule-based extraction (stands in for the official GPT-4 extraction) ---

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
_ANSWER_IS = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*:?\s*(.+)", re.IGNORECASE)
_OPTION_LETTER = re.compile(r"\(([A-Z])\)|(?:^|\s)([A-Z])[.)]?$")
_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
_LEADING_LETTER = re.compile(r"^\(?([A-Z])\)?(?:[.:)]\s*|\s+|$)")


def _last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, with nested braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def _clean(candidate: str) -> str:
    c = candidate.strip()
    boxed = _last_boxed(c)
    if boxed is not None:
        c = boxed.strip()
    c = c.strip("$ ").rstrip(".").strip()
    return c


def extract_response_answer(response: str) -> str | None:
    """The final answer a response states, by the first rule that matches.

    Rules, in order: the last <answer>...</answer>, the last \\boxed{},
    "answer is X" / "Answer: X" (rest of that line), an option letter on the
    last line ("(B)", or a lone "B" ending it), the last number, else the
    whole response. None only for an empty response.
    """
    text = (response or "").strip()
    if not text:
        return None
    tags = _ANSWER_TAG.findall(text)
    if tags and tags[-1].strip():
        return _clean(tags[-1])
    boxed = _last_boxed(text)
    if boxed is not None and boxed.strip():
        return _clean(boxed)
    said = _ANSWER_IS.findall(text)
    if said and said[-1].strip():
        return _clean(said[-1].splitlines()[0])
    last_line = text.splitlines()[-1].strip()
    letters = _OPTION_LETTER.findall(last_line)
    if letters:
        a, b = letters[-1]
        return a or b
    numbers = _NUMBER.findall(text)
    if numbers:
        return numbers[-1].replace(",", "")
    return _clean(text)


def _precision(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _prepare(extraction: str, question_type: str, answer_type: str, choices: list[str]) -> str:
    """What the GPT extraction would have returned: a bare letter, or a bare number."""
    if question_type == "multi_choice":
        if extraction in choices:
            return extraction
        m = _LEADING_LETTER.match(extraction)
        if m and ord(m.group(1)) - ord("A") < len(choices):
            return m.group(1)
        return extraction
    if answer_type in ("integer", "float"):
        try:
            float(extraction)
        except ValueError:
            numbers = _NUMBER.findall(extraction)
            if numbers:
                return numbers[-1].replace(",", "")
    return extraction


def score_mathvista(
    response: str, row: dict[str, Any], ignore_empty_extractions: bool = True
) -> tuple[str | None, bool]:
    """Extract, normalise with the official rules, compare to `row["answer"]`.

    `row` needs MathVista's `choices`, `question_type`, `answer_type`,
    `precision` and `answer`. An empty response scores False by default (the
    official `--ignore_empty_extractions`), so a blank answer is never given
    the shortest option by edit distance. Returns (normalised prediction, correct).
    """
    question_type, answer_type = row["question_type"], row["answer_type"]
    choices = list(row.get("choices") or [])
    extraction = extract_response_answer(response)
    if extraction is None:
        extraction = ""
    else:
        extraction = _prepare(extraction, question_type, answer_type, choices)
    prediction = normalize_extracted_answer(
        extraction, choices, question_type, answer_type, _precision(row.get("precision")),
        ignore_empty_extractions=ignore_empty_extractions,
    )
    return prediction, safe_equal(prediction, row["answer"])
