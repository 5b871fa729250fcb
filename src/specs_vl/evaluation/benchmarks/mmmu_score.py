"""MMMU's official rule-based evaluation, ported line by line (MMMU has no GPT step).

Upstream: MMMU-Benchmark/MMMU, `mmmu/utils/eval_utils.py` at commit
bb0b95a945998d91dfef37e969e07d49d1139438 (file last changed in aa9b70d):
`parse_multi_choice_response`, `check_is_number`, `normalize_str`,
`extract_numbers`, `parse_open_response`, `eval_multi_choice`, `eval_open`;
the run order and aggregation of `mmmu/main_parse_and_eval.py` and
`mmmu/main_eval_only.py` (`calculate_ins_level_acc`).

- multiple choice: strip , . ! ? ; : ' from the ends; candidates are "(X)"
  in the response, else " X " (space-padded), else, when the response has
  more than 5 words, the option texts found in it (case-insensitive); the
  last-occurring candidate wins; with none, `random.choice(all_choices)`.
- open: key sub-responses after "could be / so / is / thus / therefore /
  final / answer / result" (and "=" in the last one), plus every number in
  them; numbers rounded to 2 decimals, strings lowercased (a one-letter
  string is padded with a space); correct when a gold number equals a
  predicted number or a gold string is a substring of a predicted string.
- a gold with several accepted answers is a list (in the dataset, a Python
  list literal in a string, parsed here with `ast.literal_eval`).

The fallback: upstream seeds the `random` module with 42 at import and
evaluates subject by subject (`CAT_SHORT2LONG` order), items in file order,
drawing only when no option is found. `evaluate_mmmu` replays that with its
own `random.Random(42)` (the same sequence as the seeded module) and counts
the fallbacks. `score_mmmu` scores one response alone: it cannot know the
generator's state, so a fallback is reported as extracted None, correct
False, and `evaluate_mmmu` settles it when the run is rescored as a whole.

One deliberate addition: a response in our `<think>…</think><answer>…</answer>`
format is scored on its answer span, because a chain of thought mentions
other options; every other response is scored whole, as upstream.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# mmmu/utils/data_utils.py CAT_SHORT2LONG, in its order (the order `--subject ALL` evaluates)
MMMU_SUBJECT_ORDER: tuple[str, ...] = (
    "Accounting",
    "Agriculture",
    "Architecture_and_Engineering",
    "Art",
    "Art_Theory",
    "Basic_Medical_Science",
    "Biology",
    "Chemistry",
    "Clinical_Medicine",
    "Computer_Science",
    "Design",
    "Diagnostics_and_Laboratory_Medicine",
    "Economics",
    "Electronics",
    "Energy_and_Power",
    "Finance",
    "Geography",
    "History",
    "Literature",
    "Manage",
    "Marketing",
    "Materials",
    "Math",
    "Mechanical_Engineering",
    "Music",
    "Pharmacy",
    "Physics",
    "Psychology",
    "Public_Health",
    "Sociology",
)

# mmmu/utils/data_utils.py DOMAIN_CAT2SUB_CAT
MMMU_DOMAINS: dict[str, tuple[str, ...]] = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": (
        "Basic_Medical_Science",
        "Clinical_Medicine",
        "Diagnostics_and_Laboratory_Medicine",
        "Pharmacy",
        "Public_Health",
    ),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": (
        "Agriculture",
        "Architecture_and_Engineering",
        "Computer_Science",
        "Electronics",
        "Energy_and_Power",
        "Materials",
        "Mechanical_Engineering",
    ),
}

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)


class NoOption(Exception):
    """Raised by `parse_multi_choice_response` without a generator when upstream would draw at random."""


def answer_span(response: str) -> str:
    """The last non-empty <answer> span of our format, else the response unchanged."""
    spans = [s for s in _ANSWER_TAG.findall(response or "") if s.strip()]
    return spans[-1].strip() if spans else (response or "")


# ----------- Process Multi-choice ------------- (upstream, verbatim but for `rng`)
def parse_multi_choice_response(
    response: str, all_choices: Sequence[str], index2ans: dict[str, str], rng: random.Random | None = None
) -> str:
    """The predicted option letter; `rng=None` raises NoOption where upstream calls `random.choice`."""
    for char in [",", ".", "!", "?", ";", ":", "'"]:
        response = response.strip(char)
    response = " " + response + " "  # add space to avoid partial match

    index_ans = True
    ans_with_brack = False
    candidates = []
    for choice in all_choices:  # e.g., (A) (B) (C) (D)
        if f"({choice})" in response:
            candidates.append(choice)
            ans_with_brack = True

    if len(candidates) == 0:
        for choice in all_choices:  # e.g., A B C D
            if f" {choice} " in response:
                candidates.append(choice)

    # if all above doesn't get candidates, check if the content is larger than 5 tokens and try to parse the example
    if len(candidates) == 0 and len(response.split()) > 5:
        for index, ans in index2ans.items():
            if ans.lower() in response.lower():
                candidates.append(index)
                index_ans = False  # it's content ans.

    if len(candidates) == 0:  # still not get answer, randomly choose one.
        if rng is None:
            raise NoOption
        pred_index = rng.choice(list(all_choices))
    elif len(candidates) > 1:
        start_indexes = []
        if index_ans:
            if ans_with_brack:
                for can in candidates:
                    start_indexes.append(response.rfind(f"({can})"))
            else:
                for can in candidates:
                    start_indexes.append(response.rfind(f" {can} "))
        else:
            for can in candidates:
                start_indexes.append(response.lower().rfind(index2ans[can].lower()))
        # get the last one
        pred_index = candidates[np.argmax(start_indexes)]
    else:  # if only one candidate, use it.
        pred_index = candidates[0]
    return pred_index


# ----------- Process Open -------------
def check_is_number(string: str) -> bool:
    try:
        float(string.replace(",", ""))
        return True
    except ValueError:
        return False


def normalize_str(string: str) -> list[Any]:
    """A number rounded to 2 decimals, or the lowercased string (one letter padded with a space)."""
    string = string.strip()
    if check_is_number(string):
        return [round(float(string.replace(",", "")), 2)]
    string = string.lower()
    if len(string) == 1:
        return [" " + string, string + " "]  # avoid trivial matches
    return [string]


def extract_numbers(string: str) -> list[str]:
    pattern_commas = r"-?\b\d{1,3}(?:,\d{3})+\b"
    pattern_scientific = r"-?\d+(?:\.\d+)?[eE][+-]?\d+"
    pattern_simple = r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])"
    return (
        re.findall(pattern_commas, string) + re.findall(pattern_scientific, string) + re.findall(pattern_simple, string)
    )


def _key_subresponses(response: str) -> list[str]:
    response = response.strip().strip(".").lower()
    sub_responses = re.split(r"\.\s(?=[A-Z])|\n", response)
    indicators_of_keys = ["could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result "]
    key_responses = []
    for index, resp in enumerate(sub_responses):
        # if last one, accept it's an equation (the entire response can be just one sentence with equation)
        if index == len(sub_responses) - 1:
            indicators_of_keys.extend(["="])
        shortest_key_response = None
        for indicator in indicators_of_keys:
            if indicator in resp:
                tail = resp.split(indicator)[-1].strip()
                if not shortest_key_response or len(tail) < len(shortest_key_response):
                    shortest_key_response = tail
        if shortest_key_response and shortest_key_response.strip() not in [":", ",", ".", "!", "?", ";", ":", "'"]:
            key_responses.append(shortest_key_response)
    if len(key_responses) == 0:
        return [response]
    return key_responses


def parse_open_response(response: str) -> list[Any]:
    """Normalised candidate answers (numbers and lowercased strings), deduplicated."""
    key_responses = _key_subresponses(response)
    pred_list = key_responses.copy()
    for resp in key_responses:
        pred_list.extend(extract_numbers(resp))
    tmp_pred_list = []
    for p in pred_list:
        tmp_pred_list.extend(normalize_str(p))
    # upstream: list(set(...)); the order does not change a verdict
    return list(set(tmp_pred_list))


# ----------- Evaluation -------------
def eval_multi_choice(gold_i: str | list[str], pred_i: str) -> bool:
    if isinstance(gold_i, list):
        return any(answer == pred_i for answer in gold_i)
    return gold_i == pred_i


def eval_open(gold_i: str | list[str], pred_i: list[Any]) -> bool:
    if isinstance(gold_i, list):
        norm_answers = []
        for answer in gold_i:
            norm_answers.extend(normalize_str(answer))
    else:
        norm_answers = normalize_str(gold_i)
    for pred in pred_i:
        if isinstance(pred, str):
            for norm_ans in norm_answers:
                if isinstance(norm_ans, str) and norm_ans in pred:
                    return True
        elif pred in norm_answers:
            return True
    return False


def parse_gold(answer: Any) -> str | list[str]:
    """The dataset writes several accepted answers as a list literal ("['24/7', '3.429']")."""
    if isinstance(answer, list):
        return [str(a) for a in answer]
    text = str(answer)
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text
        if isinstance(parsed, list) and parsed:
            return [str(a) for a in parsed]
    return text


def _mc_info(choices: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """data_utils.get_multi_choice_info: letters from A, and letter -> option text."""
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    return letters, dict(zip(letters, (str(c) for c in choices)))


def _is_mc(item: dict[str, Any]) -> bool:
    return item["question_type"] == "multiple-choice"


def score_mmmu(response: str, item: dict[str, Any], rng: random.Random | None = None) -> tuple[str | None, bool]:
    """(prediction, correct) for one response; `item` has question_type, answer, choices.

    Without `rng`, a multiple-choice response naming no option gives (None, False): see the module docstring.
    """
    text = answer_span(response)
    gold = parse_gold(item["answer"])
    if _is_mc(item):
        letters, index2ans = _mc_info(item.get("choices") or [])
        try:
            pred = parse_multi_choice_response(text, letters, index2ans, rng)
        except NoOption:
            return None, False
        return pred, eval_multi_choice(gold, pred)
    preds = parse_open_response(text)
    return ", ".join(sorted(str(p) for p in preds)), eval_open(gold, preds)
