"""What every benchmark shares: its spec, the example it builds, answer classes, and loading rows
from a file, a snapshot directory or the hub (the schemas are in the package docstring)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return s.startswith((".", "/", "~")) or "\\" in s or s.count("/") != 1 or s.lower().endswith(_LOCAL_SUFFIXES)


def undecoded(ds: Any) -> Any:
    """Turn off `datasets`' image decoding, so every image goes through the size check."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Image as ImageFeature

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
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import load_dataset

    if builder is None:
        raise ValueError(f"{path}: unsupported file type; use .parquet, .json or .jsonl")
    return take(undecoded(load_dataset(builder, data_files=str(path), split="train")), n)


def rows_from_dir(path: Path, spec: BenchmarkSpec, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import load_dataset

    for config in spec.hub_configs:
        ds = take(undecoded(load_dataset(str(path), config, split=split)), n)
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return


def rows_from_hub(spec: BenchmarkSpec, hub_id: str, split: str, n: int | None) -> Iterable[dict[str, Any]]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import load_dataset

    for config in spec.hub_configs:
        part = split if n is None else f"{split}[:{n}]"
        ds = undecoded(load_dataset(hub_id, config, split=part))
        yield from ds
        if n is not None:
            n -= len(ds)
            if n <= 0:
                return
