"""Rows from the files users have: a save_to_disk folder, parquet, JSON or JSON lines; errors name the file and row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from specs_vl.util.errors import DataError

FILE_SUFFIXES = (".jsonl", ".json", ".parquet")
CORE_COLUMNS = ("prompt", "chosen", "rejected", "images", "image")


def open_source(p: Path, source: str) -> tuple[Iterable[dict[str, Any]], int, Any, Path]:
    """(rows as plain dicts with raw image storage, row count, thunk giving the extra columns, image base dir)."""
    if not p.exists():
        raise DataError(source, None, None, "no such file or directory")
    if p.is_dir():
        ds = load_dir(p, source)
        return dataset_rows(ds), len(ds), lambda: extra_columns(ds), p
    suffix = p.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise DataError(
            source,
            None,
            None,
            f"unsupported file type {suffix or '(none)'!r}; use a "
            "datasets.save_to_disk directory or a .jsonl, .json or .parquet file",
        )
    if suffix == ".parquet":
        ds = load_parquet(p, source)
        return dataset_rows(ds), len(ds), lambda: extra_columns(ds), p.parent
    rows = load_json(p, source, lines=suffix == ".jsonl")
    return rows, len(rows), lambda: extra_columns_from_rows(rows, source), p.parent


def load_dir(p: Path, source: str) -> Any:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(p))
    except (FileNotFoundError, ValueError, OSError) as e:
        raise DataError(source, None, None, f"not a datasets.save_to_disk directory ({e})") from None
    if isinstance(ds, DatasetDict):
        if "train" in ds:
            return ds["train"]
        if len(ds) == 1:
            return next(iter(ds.values()))
        raise DataError(
            source, None, None, f"a DatasetDict with splits {list(ds)} and no 'train'; pass the directory of one split"
        )
    return ds


def load_parquet(p: Path, source: str) -> Any:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset
    from datasets.table import InMemoryTable

    try:
        return Dataset(InMemoryTable(pq.read_table(p)))
    except (pa.ArrowException, OSError) as e:
        raise DataError(source, None, None, f"not a readable parquet file ({e})") from None


def load_json(p: Path, source: str, lines: bool) -> list[dict[str, Any]]:
    """JSON lines, or a JSON list of rows (JSON lines under a .json name also work)."""
    try:
        text = p.read_text(encoding="utf-8-sig")  # a BOM (Windows editors write one) is dropped
    except UnicodeDecodeError as e:
        raise DataError(source, None, None, f"not UTF-8 text ({e})") from None
    rows: list[Any] | None = None
    if not lines:
        try:
            data = json.loads(text) if text.strip() else []
        except json.JSONDecodeError:
            data = None  # maybe JSON lines
        if data is not None:
            if not isinstance(data, list):
                raise DataError(source, None, None, f"expected a JSON list of rows, got {type(data).__name__}")
            rows = data
    if rows is None:
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataError(source, len(rows), None, f"line {lineno} is not valid JSON ({e.msg})") from None
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(source, i, None, f"expected a JSON object, got {type(row).__name__}")
    return rows


def dataset_rows(ds: Any, batch_size: int = 256) -> Iterator[dict[str, Any]]:
    """Rows with images as raw {bytes, path} storage, so every image goes through the checks here."""
    for batch in ds.with_format("arrow").iter(batch_size=batch_size):
        yield from batch.to_pylist()


def extra_columns(ds: Any) -> Any:
    extra = [c for c in ds.column_names if c not in CORE_COLUMNS]
    return ds.select_columns(extra) if extra else None


def extra_columns_from_rows(rows: list[dict[str, Any]], source: str) -> Any:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import pyarrow as pa
    from datasets import Dataset

    names = list(dict.fromkeys(k for r in rows for k in r if k not in CORE_COLUMNS))
    if not names:
        return None
    data = {c: [r.get(c) for r in rows] for c in names}
    try:
        return Dataset.from_dict(data)
    except (pa.ArrowException, TypeError, ValueError):
        for c in names:  # name the column that cannot be one Arrow type
            try:
                Dataset.from_dict({c: data[c]})
            except (pa.ArrowException, TypeError, ValueError) as e:
                raise DataError(source, None, c, f"values of mixed types cannot form one column ({e})") from None
        raise
