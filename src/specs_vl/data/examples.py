"""Examples in the example schema (docs/data.md) from the places users keep them.

`load_examples_from` reads a `.jsonl`, `.json` or `.parquet` file (image paths
relative to the file, absolute, or HF image dicts), a `datasets.save_to_disk`
folder, or a hub dataset id, and checks every row before it returns: required
fields present and non-empty, `answer_type` one of `ANSWER_TYPES`, `choices` a
list, every image opened and decoded. The first bad row stops it with a
DataError that names the source, the 0-based row and the field. Training
(zero, distill, rl) and the `data:` evaluation suite both read through here:
evaluation keeps the decoded RGB images; training (`decode=False`) keeps each
image as stored (a path or its bytes), decoded batch by batch when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specs_vl.data.images import RowContext, load_image, stored_image
from specs_vl.data.schema import REQUIRED_FIELDS, fill_defaults
from specs_vl.data.sources import dataset_rows, open_source
from specs_vl.scoring.answers import ANSWER_TYPES
from specs_vl.util.errors import DataError

ANSWER_TYPE_ALIASES = (
    "int",
    "float",
    "text",
    "free_form",
    "list",
    "multi_choice",
    "multiple_choice",
    "choice",
    "bool",
    "yes_no",
)  # accepted and mapped by scoring.answers.is_correct


def _hub_rows(spec: str, split: str) -> tuple[Any, Path | None]:
    """A hub dataset id (optionally `id@split`), read with `datasets.load_dataset`."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import load_dataset

    name, _, hub_split = spec.partition("@")
    try:
        ds = load_dataset(name, split=hub_split or split)
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds (offline, no such split, ...)
        raise DataError(spec, None, None, f"no such file or directory, and not a loadable hub dataset ({e})") from None
    return dataset_rows(ds), None


def load_examples_from(
    spec: str | Path, split: str = "external", n: int | None = None, decode: bool = True
) -> list[dict[str, Any]]:
    """Rows of a user dataset as checked examples; `n` keeps the first n. Images decoded to RGB, or with
    `decode=False` checked and kept as stored (data/images.stored_image), so memory holds no pixels."""
    source = str(spec)
    p = Path(spec).expanduser()
    if p.exists():
        rows, _, _, base_dir = open_source(p, source)
    elif p.suffix.lower() in (".jsonl", ".json", ".parquet") or source.startswith((".", "/", "~")):
        raise DataError(source, None, None, "no such file or directory")
    else:
        rows, base_dir = _hub_rows(source, "test" if split != "train" else "train")
    out = []
    for i, row in enumerate(rows):
        if n is not None and i >= n:
            break
        out.append(check_row(row, RowContext(source, i, base_dir, split), decode))
    if not out:
        raise DataError(source, None, None, "dataset is empty")
    return out


def check_row(row: dict[str, Any], ctx: RowContext, decode: bool = True) -> dict[str, Any]:
    """One row checked and completed with the schema's optional fields."""
    for f in REQUIRED_FIELDS:
        v = row.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ctx.error(f, f"{'missing' if v is None else 'empty'} required field")
    kind = row.get("answer_type")
    if kind is not None and str(kind).strip().lower() not in (*ANSWER_TYPES, *ANSWER_TYPE_ALIASES):
        raise ctx.error("answer_type", f"unknown answer_type {kind!r}; one of {', '.join(ANSWER_TYPES)}")
    choices = row.get("choices")
    if choices is not None and not isinstance(choices, (list, tuple)):
        raise ctx.error("choices", f"expected a list of option texts, got {type(choices).__name__}")
    if not isinstance(row["question"], str):
        raise ctx.error("question", f"expected text, got {type(row['question']).__name__}")
    if isinstance(row["answer"], (dict, list)):
        raise ctx.error("answer", f"expected text or a number, got {type(row['answer']).__name__}")
    clean = {k: v for k, v in row.items() if v is not None}
    image = row["image"]
    if decode or not isinstance(image, (dict, str, Path)):  # an in-memory PIL image stays as it is
        clean["image"] = load_image(image, ctx, "image")
    else:
        clean["image"] = stored_image(image, ctx, "image")
    return fill_defaults(clean, ctx.index, ctx.split)
