"""Real benchmarks in their published Hugging Face schemas, mapped to the example schema.

Each benchmark loads through `datasets` from the hub or from a local copy
(a parquet, JSON or JSONL file, or a snapshot directory of the hub repo) and
every row becomes an example: id, image (PIL, RGB), question (the benchmark's
own prompt, options included), answer, answer_type, choices, family,
instruction_style ("native"), split, and `meta` (str -> str | None) with the
fields the benchmark's own scoring needs. Multiple-choice golds are option
letters, as in the rest of the project.

Schemas checked against the dataset cards' `dataset_info` and the code that
loads them:

- mathvista (AI4Math/MathVista, testmini 1000 / test 5141): pid, question,
  image (path string), decoded_image (Image), choices (list of str), unit,
  precision (float64), answer (str; the option *text* for multi_choice),
  question_type (multi_choice | free_form), answer_type (text | integer |
  float | list), metadata (struct: category, context, grade, img_height,
  img_width, language, skills, source, split, task), query (question with the
  official hint). Scored with the official normalisation (mathvista_score).
- mathverse (AI4Math/MathVerse, config and split "testmini", 3940 rows):
  sample_index, problem_index, problem_version, question, image (Image),
  answer, question_type (multi-choice | free-form), metadata (struct: split,
  source, subject, subfield), query_wo, query_cot, question_for_eval.
  Options are only inside the question text ("Choices:\\nA:40°\\nB:..."), and
  are empty for the vision-only version. The official score is a GPT judge
  (extraction and scoring) with no per-item verdicts published; here the
  project's answer checker gives a rule-based estimate of that number.
- mathvision (MathLLMs/MathVision, test 3040 / testmini 304): id, question,
  options (list of str, five or none), image (path string), decoded_image
  (Image), answer (letter for multiple choice), solution, level (int64),
  subject. The prompt is the one of the MATH-V repo's model scripts; options
  that are just A-E (the real options are in the image) are not listed.
  Scored by MATH-V's own evaluation code (mathvision_score).
- mmmu (MMMU/MMMU, one config per subject, 30 of them; dev / validation /
  test): id ("validation_Art_Theory_12"), question (with "<image 1>"
  placeholders, kept), options (a Python list literal in a string, parsed
  with ast.literal_eval), explanation, image_1..image_7 (Image), img_type,
  answer, topic_difficulty, question_type (multiple-choice | open), subfield.
  Only image_1 is given to the model; meta["n_images"] counts the images a
  row has. The prompt follows MMMU's eval `construct_prompt`. Scored by
  MMMU's own rule-based evaluation (mmmu_score).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specs_vl.data.images import RowContext, RowDataError
from specs_vl.evaluation.benchmarks.common import (
    BenchmarkSpec,
    check_required,
    classify_answer,
    looks_local,
    rows_from_dir,
    rows_from_file,
    rows_from_hub,
    score_with_checker,
)
from specs_vl.evaluation.benchmarks.mathverse import (
    mathverse_example,
    parse_inline_choices,
)
from specs_vl.evaluation.benchmarks.mathvision import mathvision_example
from specs_vl.evaluation.benchmarks.mathvision_score import score_mathvision_example
from specs_vl.evaluation.benchmarks.mathvista import (
    mathvista_example,
    score_mathvista_example,
)
from specs_vl.evaluation.benchmarks.mmmu import MMMU_SUBJECTS, mmmu_example
from specs_vl.evaluation.benchmarks.mmmu_run import score_mmmu_example, score_mmmu_run

BenchmarkDataError = RowDataError  # the name benchmark callers catch

__all__ = [
    "BENCHMARKS",
    "BenchmarkDataError",
    "classify_answer",
    "get_benchmark",
    "load_benchmark",
    "parse_inline_choices",
    "score_example",
    "score_run",
]

BENCHMARKS: dict[str, BenchmarkSpec] = {
    "mathvista": BenchmarkSpec(
        "mathvista",
        "AI4Math/MathVista",
        "testmini",
        ("pid", "query", "answer", "question_type", "answer_type"),
        mathvista_example,
        score_mathvista_example,
    ),
    "mathverse": BenchmarkSpec(
        "mathverse",
        "AI4Math/MathVerse",
        "testmini",
        ("sample_index", "query_cot", "answer", "question_type"),
        mathverse_example,
        score_with_checker,
        hub_configs=("testmini",),
    ),
    "mathvision": BenchmarkSpec(
        "mathvision",
        "MathLLMs/MathVision",
        "test",
        ("id", "question", "answer"),
        mathvision_example,
        score_mathvision_example,
    ),
    "mmmu": BenchmarkSpec(
        "mmmu",
        "MMMU/MMMU",
        "validation",
        ("id", "question", "options", "answer", "question_type"),
        mmmu_example,
        score_mmmu_example,
        hub_configs=MMMU_SUBJECTS,
        score_run=score_mmmu_run,
    ),
}


def get_benchmark(name: str) -> BenchmarkSpec:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def load_benchmark(
    name: str, path_or_id: str | None = None, split: str | None = None, n: int | None = None
) -> list[dict[str, Any]]:
    """Load `name` from a local file or directory, or from the hub, as a list of examples.

    `path_or_id` defaults to the benchmark's hub id and `split` to its usual
    evaluation split. A local file has no splits: all its rows are used and
    `split` only labels them. `n` keeps the first n rows.
    """
    spec = get_benchmark(name)
    split = split or spec.split
    target = str(path_or_id) if path_or_id is not None else spec.hub_id
    local = Path(target).expanduser()
    if local.is_file():
        rows, source, base_dir = rows_from_file(local, n), local.name, local.parent
    elif local.is_dir():
        rows, source, base_dir = rows_from_dir(local, spec, split, n), local.name, local
    elif path_or_id is not None and looks_local(target):
        raise FileNotFoundError(f"{name}: no such file or directory: {target}")
    else:
        rows, source, base_dir = rows_from_hub(spec, target, split, n), f"{target}[{split}]", None
    examples = []
    for i, row in enumerate(rows):
        if n is not None and i >= n:
            break
        ctx = RowContext(source, i, base_dir, split)
        check_required(row, spec.required, ctx)
        examples.append(spec.to_example(row, ctx))
    return examples


def score_example(name: str, response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """(extracted answer, correct) by the benchmark's scoring rule."""
    return get_benchmark(name).score(response, example)


def score_run(name: str, records: list[dict[str, Any]], examples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Rescore a whole run where the benchmark's rules need it (MMMU); None for any other suite."""
    spec = BENCHMARKS.get(name)
    if spec is None or spec.score_run is None:
        return None
    return spec.score_run(records, examples)
