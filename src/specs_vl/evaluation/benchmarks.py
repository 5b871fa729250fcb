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

import ast
import io
import json
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from specs_vl.errors import DataError

MAX_PIXELS = 89_478_485  # PIL's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS default)
NATIVE = "native"


class BenchmarkDataError(DataError):
    """A benchmark row that cannot be used; the message names the file, the row and the field."""


@dataclass(frozen=True)
class RowContext:
    """Where a row comes from, so that errors name it and image paths resolve."""

    source: str
    index: int
    base_dir: Path | None
    split: str

    def error(self, field: str, problem: str) -> BenchmarkDataError:
        return BenchmarkDataError(self.source, self.index, field, problem)


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    hub_id: str
    split: str
    required: tuple[str, ...]
    to_example: Callable[[dict[str, Any], RowContext], dict[str, Any]]
    score: Callable[[str, dict[str, Any]], tuple[str | None, bool]]
    hub_configs: tuple[str | None, ...] = (None,)


# --- images ---

def load_image(value: Any, ctx: RowContext, field: str) -> Image.Image:
    """Decode an image given as PIL, an HF Image dict or a path; check its size before decoding."""
    opened = not isinstance(value, Image.Image)
    img = _open_image(value, ctx, field) if opened else value
    try:
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ctx.error(field, f"image of {w}x{h} pixels is over the {MAX_PIXELS} pixel limit")
        try:
            return img.convert("RGB")  # a new image, so the opened file can be closed
        except (OSError, ValueError, SyntaxError) as e:
            raise ctx.error(field, f"cannot decode image: {e}") from None
    finally:
        if opened:
            img.close()


def _open_image(value: Any, ctx: RowContext, field: str) -> Image.Image:
    data, path = None, None
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
    elif isinstance(value, (str, Path)):
        path = value
    elif value is not None:
        raise ctx.error(field, f"expected an image, a path or an image dict, got {type(value).__name__}")
    if data:
        fp: Any = io.BytesIO(data)
        where = "embedded bytes"
    elif path:
        p = Path(path).expanduser()
        if not p.is_absolute() and ctx.base_dir is not None:
            p = ctx.base_dir / p
        if not p.is_file():
            raise ctx.error(field, f"image file not found: {p}")
        fp, where = p, str(p)
    else:
        raise ctx.error(field, "missing image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp)  # reads the header only; pixels are decoded later
    except Image.DecompressionBombError as e:
        raise ctx.error(field, f"image over the pixel limit ({e})") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ctx.error(field, f"cannot read image from {where}: {e}") from None


# --- small helpers ---

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


def _letters(n: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(n)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a pandas-written file
        return None
    return str(value)


def _check_required(row: dict[str, Any], required: Iterable[str], ctx: RowContext) -> None:
    for f in required:
        v = row.get(f)
        if v is None or (isinstance(v, float) and v != v):
            raise ctx.error(f, "missing required field")
        if f == "answer" and not str(v).strip():
            raise ctx.error(f, "empty required field")


def _example(ctx: RowContext, **fields: Any) -> dict[str, Any]:
    ex = {"instruction_style": NATIVE, "split": ctx.split}
    ex.update(fields)
    ex["choices"] = [str(c) for c in ex.get("choices") or []]
    ex["meta"] = {k: _text(v) for k, v in ex.get("meta", {}).items()}
    return ex


# --- MathVista ---

_MATHVISTA_TYPES = {"integer": "integer", "float": "number", "list": "expression", "text": "word"}


def mathvista_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = row.get("decoded_image")
    image = load_image(image if image is not None else row.get("image"), ctx,
                       "decoded_image" if image is not None else "image")
    choices = [str(c) for c in row.get("choices") or []]
    answer, qtype = str(row["answer"]), str(row["question_type"])
    if qtype == "multi_choice":
        if not choices:
            raise ctx.error("choices", "a multi_choice question needs choices")
        if answer not in choices:
            raise ctx.error("answer", f"answer {answer!r} is not one of the choices")
        gold, kind = _letters(len(choices))[choices.index(answer)], "mc"
    else:
        gold, kind = answer, _MATHVISTA_TYPES.get(str(row["answer_type"]), classify_answer(answer))
    metadata = row.get("metadata") or {}
    precision = row.get("precision")
    precision = None if precision is None or precision != precision else str(int(float(precision)))
    return _example(
        ctx, id=str(row["pid"]), image=image, question=str(row["query"]), answer=gold, answer_type=kind,
        choices=choices, family=str(metadata.get("task") or "unknown"),
        meta={"question_type": qtype, "answer_type": row["answer_type"], "precision": precision,
              "unit": row.get("unit"), "answer": answer, "source": metadata.get("source"),
              "context": metadata.get("context"), "grade": metadata.get("grade")},
    )


def score_mathvista_example(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """The official normalisation against the official (text) answer kept in meta."""
    from specs_vl.evaluation.mathvista_score import score_mathvista

    meta = example["meta"]
    row = {"choices": example["choices"], "question_type": meta["question_type"],
           "answer_type": meta["answer_type"], "precision": meta["precision"], "answer": meta["answer"]}
    return score_mathvista(response, row)


# --- MathVerse ---

_CHOICE_LINE = re.compile(r"^\s*\(?([A-H])\)?\s*[:.)：]\s*(.*?)\s*$")


def parse_inline_choices(question: str) -> list[str]:
    """Options written after "Choices:" in the question text, one per line ("A:40°")."""
    _, sep, tail = question.partition("Choices:")
    if not sep:
        return []
    choices = []
    for line in tail.strip().splitlines():
        m = _CHOICE_LINE.match(line)
        if not m or ord(m.group(1)) - ord("A") != len(choices):
            break
        choices.append(m.group(2))
    return choices


def mathverse_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = load_image(row.get("image"), ctx, "image")
    answer, qtype = str(row["answer"]).strip(), str(row["question_type"])
    mc = qtype == "multi-choice"
    metadata = row.get("metadata") or {}
    return _example(
        ctx, id=str(row["sample_index"]), image=image, question=str(row["query_cot"]), answer=answer,
        answer_type="mc" if mc else classify_answer(answer),
        choices=parse_inline_choices(str(row.get("question") or "")) if mc else [],
        family=str(metadata.get("subject") or "unknown"),
        meta={"question_type": qtype, "problem_index": row.get("problem_index"),
              "problem_version": row.get("problem_version"), "question_for_eval": row.get("question_for_eval"),
              "source": metadata.get("source"), "subfield": metadata.get("subfield")},
    )


# --- MathVision ---

MATHVISION_PROMPT = (
    'Please solve the problem step by step and put your answer in one "\\boxed{}". '
    'If it is a multiple choice question, only one letter is allowed in the "\\boxed{}".\n'
)


def mathvision_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = row.get("decoded_image")
    image = load_image(image if image is not None else row.get("image"), ctx,
                       "decoded_image" if image is not None else "image")
    options = [str(o) for o in row.get("options") or []]
    listed = "".join(f"({letter}) {o}\n" for letter, o in zip(_letters(len(options)), options))
    if options == _letters(len(options)):
        listed = ""  # the options are drawn in the image
    answer = str(row["answer"]).strip()
    return _example(
        ctx, id=str(row["id"]), image=image, question=f"{MATHVISION_PROMPT}{row['question']}\n{listed}",
        answer=answer, answer_type="mc" if options else classify_answer(answer), choices=options,
        family=str(row.get("subject") or "unknown"),
        meta={"level": row.get("level"), "subject": row.get("subject")},
    )


# --- MMMU ---

MMMU_MC_FORMAT = "{}\n\n{}\n\nAnswer with the option's letter from the given choices directly."
MMMU_OPEN_FORMAT = "{}\n\nAnswer the question using a single word or phrase."


def parse_mmmu_options(value: Any, ctx: RowContext) -> list[str]:
    """MMMU stores options as a Python list literal in a string; parse it without eval."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ctx.error("options", "not a Python list literal") from None
    if not isinstance(parsed, list):
        raise ctx.error("options", f"expected a list, got {type(parsed).__name__}")
    return [str(v) for v in parsed]


def mmmu_subject(id_: str) -> str:
    """'validation_Art_Theory_12' -> 'Art_Theory'."""
    parts = id_.split("_")
    return "_".join(parts[1:-1]) if len(parts) > 2 else "unknown"


def mmmu_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = load_image(row.get("image_1"), ctx, "image_1")
    options = parse_mmmu_options(row["options"], ctx)
    question, answer, qtype = str(row["question"]), str(row["answer"]).strip(), str(row["question_type"])
    if qtype == "multiple-choice":
        listed = "".join(f"({letter}) {o}\n" for letter, o in zip(_letters(len(options)), options))
        prompt, kind = MMMU_MC_FORMAT.format(question, listed), "mc"
    else:
        prompt, kind = MMMU_OPEN_FORMAT.format(question), classify_answer(answer)
    n_images = sum(row.get(f"image_{k}") is not None for k in range(1, 8))
    return _example(
        ctx, id=str(row["id"]), image=image, question=prompt, answer=answer, answer_type=kind,
        choices=options if kind == "mc" else [], family=mmmu_subject(str(row["id"])),
        meta={"question_type": qtype, "subfield": row.get("subfield"), "img_type": _text(row.get("img_type")),
              "topic_difficulty": row.get("topic_difficulty"), "n_images": n_images},
    )


# --- scoring for the benchmarks without an official rule-based scorer ---

def score_with_checker(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """The project's own answer extraction and checker."""
    from specs_vl.answers import extract_answer, is_correct

    pred = extract_answer(response)
    kind, choices = example.get("answer_type", "auto"), example.get("choices") or None
    return pred, bool(is_correct(pred, example["answer"], kind, choices))


# --- registry ---

MMMU_SUBJECTS: tuple[str, ...] = (
    "Accounting", "Agriculture", "Architecture_and_Engineering", "Art", "Art_Theory", "Basic_Medical_Science",
    "Biology", "Chemistry", "Clinical_Medicine", "Computer_Science", "Design",
    "Diagnostics_and_Laboratory_Medicine", "Economics", "Electronics", "Energy_and_Power", "Finance",
    "Geography", "History", "Literature", "Manage", "Marketing", "Materials", "Math",
    "Mechanical_Engineering", "Music", "Pharmacy", "Physics", "Psychology", "Public_Health", "Sociology",
)

BENCHMARKS: dict[str, BenchmarkSpec] = {
    "mathvista": BenchmarkSpec("mathvista", "AI4Math/MathVista", "testmini",
                               ("pid", "query", "answer", "question_type", "answer_type"),
                               mathvista_example, score_mathvista_example),
    "mathverse": BenchmarkSpec("mathverse", "AI4Math/MathVerse", "testmini",
                               ("sample_index", "query_cot", "answer", "question_type"),
                               mathverse_example, score_with_checker, hub_configs=("testmini",)),
    "mathvision": BenchmarkSpec("mathvision", "MathLLMs/MathVision", "test",
                                ("id", "question", "answer"), mathvision_example, score_with_checker),
    "mmmu": BenchmarkSpec("mmmu", "MMMU/MMMU", "validation",
                          ("id", "question", "options", "answer", "question_type"),
                          mmmu_example, score_with_checker, hub_configs=MMMU_SUBJECTS),
}


def get_benchmark(name: str) -> BenchmarkSpec:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


# --- loading ---

_LOCAL_SUFFIXES = (".parquet", ".json", ".jsonl")


def _looks_local(path_or_id: str) -> bool:
    """A hub id is 'owner/name'; anything else that names no existing file is a missing path."""
    s = str(path_or_id)
    return (s.startswith((".", "/", "~")) or "\\" in s or s.count("/") != 1
            or s.lower().endswith(_LOCAL_SUFFIXES))


def _undecoded(ds: Any) -> Any:
    """Turn off `datasets`' image decoding, so every image goes through the size check."""
    from datasets import Image as ImageFeature

    for col, feat in ds.features.items():
        if isinstance(feat, ImageFeature) and feat.decode:
            ds = ds.cast_column(col, ImageFeature(decode=False))
    return ds


def _take(ds: Any, n: int | None) -> Any:
    return ds if n is None else ds.select(range(min(n, len(ds))))


def _rows_from_file(path: Path, n: int | None) -> Iterable[dict[str, Any]]:
    from datasets import load_dataset

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
    return _take(_undecoded(load_dataset(builder, data_files=str(path), split="train")), n)


def _rows_from_dir(path: Path, spec: BenchmarkSpec, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    from datasets import load_dataset

    for config in spec.hub_configs:
        ds = _take(_undecoded(load_dataset(str(path), config, split=split)), n)
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return


def _rows_from_hub(spec: BenchmarkSpec, hub_id: str, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    from datasets import load_dataset

    for config in spec.hub_configs:
        part = split if n is None else f"{split}[:{n}]"
        ds = _undecoded(load_dataset(hub_id, config, split=part))
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return


def load_benchmark(name: str, path_or_id: str | None = None, split: str | None = None,
                   n: int | None = None) -> list[dict[str, Any]]:
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
        rows, source, base_dir = _rows_from_file(local, n), local.name, local.parent
    elif local.is_dir():
        rows, source, base_dir = _rows_from_dir(local, spec, split, n), local.name, local
    elif path_or_id is not None and _looks_local(target):
        raise FileNotFoundError(f"{name}: no such file or directory: {target}")
    else:
        rows, source, base_dir = _rows_from_hub(spec, target, split, n), f"{target}[{split}]", None
    examples = []
    for i, row in enumerate(rows):
        if n is not None and i >= n:
            break
        ctx = RowContext(source, i, base_dir, split)
        _check_required(row, spec.required, ctx)
        examples.append(spec.to_example(row, ctx))
    return examples


def score_example(name: str, response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """(extracted answer, correct) by the benchmark's scoring rule."""
    return get_benchmark(name).score(response, example)
