"""What every benchmark shares: its spec, the example it builds, answer classes, loading rows from disk or hub.

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
  are empty for the vision-only version. The official score is a GPT judge;
  here the project's answer checker is used.
- mathvision (MathLLMs/MathVision, test 3040 / testmini 304): id, question,
  options (list of str, five or none), image (path string), decoded_image
  (Image), answer (letter for multiple choice), solution, level (int64),
  subject. The prompt is the one of the MATH-V repo's model scripts; options
  that are just A-E (the real options are in the image) are not listed.
- mmmu (MMMU/MMMU, one config per subject, 30 of them; dev / validation /
  test): id ("validation_Art_Theory_12"), question (with "<image 1>"
  placeholders, kept), options (a Python list literal in a string, parsed
  with ast.literal_eval), explanation, image_1..image_7 (Image), img_type,
  answer, topic_difficulty, question_type (multiple-choice | open), subfield.
  Only image_1 is given to the model; meta["n_images"] counts the images a
  row has. The prompt follows MMMU's eval `construct_prompt`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Image as ImageFeature
from datasets import load_dataset

from specs_vl.data.images import RowContext
from specs_vl.scoring.answers import extract_answer, is_correct

NATIVE = "native"


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    hub_id: str
    split: str
    required: tuple[str, ...]
    to_example: Callable[[dict[str, Any], RowContext], dict[str, Any]]
    score: Callable[[str, dict[str, Any]], tuple[str | None, bool]]
    hub_configs: tuple[str | None, ...] = (None,)
    # a run scored as a whole (MMMU's seeded fallback): updates records in place, returns the official summary
    score_run: Callable[[list[dict[str, Any]], Sequence[dict[str, Any]]], dict[str, Any]] | None = None


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
_WORDS = re.compile(r"^[A-Za-z][A-Za-z '\-]*$")


def classify_answer(answer: str) -> str:
    """The project's answer type of a free-form gold answer."""
    a = answer.strip()
    if _INT.match(a):
        return "integer"
    if _FLOAT.match(a):
        return "number"
    if a.lower() in ("yes", "no"):
        return "yesno"
    if _WORDS.match(a):
        return "word"
    return "expression"


def letters(n: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(n)]


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a pandas-written file
        return None
    return str(value)


def check_required(row: dict[str, Any], required: Iterable[str], ctx: RowContext) -> None:
    for f in required:
        v = row.get(f)
        if v is None or (isinstance(v, float) and v != v):
            raise ctx.error(f, "missing required field")
        if f == "answer" and not str(v).strip():
            raise ctx.error(f, "empty required field")


def bench_example(ctx: RowContext, **fields: Any) -> dict[str, Any]:
    ex = {"instruction_style": NATIVE, "split": ctx.split}
    ex.update(fields)
    ex["choices"] = [str(c) for c in ex.get("choices") or []]
    ex["meta"] = {k: text_or_none(v) for k, v in ex.get("meta", {}).items()}
    return ex


def score_with_checker(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """The project's own answer extraction and checker."""
    pred = extract_answer(response)
    kind, choices = example.get("answer_type", "auto"), example.get("choices") or None
    return pred, bool(is_correct(pred, example["answer"], kind, choices))


_LOCAL_SUFFIXES = (".parquet", ".json", ".jsonl")


def looks_local(path_or_id: str) -> bool:
    """A hub id is 'owner/name'; anything else that names no existing file is a missing path."""
    s = str(path_or_id)
    return (s.startswith((".", "/", "~")) or "\\" in s or s.count("/") != 1
            or s.lower().endswith(_LOCAL_SUFFIXES))


def undecoded(ds: Any) -> Any:
    """Turn off `datasets`' image decoding, so every image goes through the size check."""
    for col, feat in ds.features.items():
        if isinstance(feat, ImageFeature) and feat.decode:
            ds = ds.cast_column(col, ImageFeature(decode=False))
    return ds


def take(ds: Any, n: int | None) -> Any:
    return ds if n is None else ds.select(range(min(n, len(ds))))


def rows_from_file(path: Path, n: int | None) -> Iterable[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError:
                data = None  # JSON lines under a .json name
        if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            # MathVista's own data/testmini.json: {pid: row}
            rows = [{"pid": k, **v} for k, v in data.items()]
            return rows if n is None else rows[:n]
    builder = {".parquet": "parquet", ".json": "json", ".jsonl": "json"}.get(suffix)
    if builder is None:
        raise ValueError(f"{path}: unsupported file type; use .parquet, .json or .jsonl")
    return take(undecoded(load_dataset(builder, data_files=str(path), split="train")), n)


def rows_from_dir(path: Path, spec: BenchmarkSpec, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    for config in spec.hub_configs:
        ds = take(undecoded(load_dataset(str(path), config, split=split)), n)
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return


def rows_from_hub(spec: BenchmarkSpec, hub_id: str, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    for config in spec.hub_configs:
        part = split if n is None else f"{split}[:{n}]"
        ds = undecoded(load_dataset(hub_id, config, split=part))
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return
