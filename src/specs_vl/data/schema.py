"""Example schema, conversational prompts, and checks that name file, row and field.

An example is a dict with the fields of `EXAMPLE_FIELDS`. The world produces
them, and any user dataset with the same fields (from `datasets`) works in
every stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PIL import Image

from specs_vl.util.errors import DataError
from specs_vl.world.dataset import prompt_text

EXAMPLE_FIELDS: tuple[str, ...] = (
    "id",
    "image",
    "question",
    "answer",
    "answer_type",
    "choices",
    "family",
    "instruction_style",
    "split",
)
REQUIRED_FIELDS: tuple[str, ...] = ("image", "question", "answer")


def user_message(example: dict[str, Any]) -> list[dict[str, Any]]:
    """TRL's conversational prompt: one user turn with the image first."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt_text(example)}]}]


def validate_examples(rows: Iterable[dict[str, Any]], source: str, required: Sequence[str] = REQUIRED_FIELDS) -> None:
    """Fail on the first bad row with a message naming source, row and field."""
    for i, row in enumerate(rows):
        for f in required:
            if f not in row or row[f] is None or (isinstance(row[f], str) and not row[f].strip()):
                what = "missing" if f not in row or row[f] is None else "empty"
                raise DataError(source, i, f, f"{what} required field")
        img = row["image"] if "image" in required else None
        if img is not None and not isinstance(img, Image.Image):
            raise DataError(source, i, "image", f"expected a decoded image, got {type(img).__name__}")


def fill_defaults(row: dict[str, Any], index: int, split: str = "external") -> dict[str, Any]:
    """Give an external row the optional fields of the example schema."""
    out = dict(row)
    out.setdefault("id", f"{split}-{index:06d}")
    out.setdefault("answer_type", "auto")
    out.setdefault("choices", [])
    out.setdefault("family", "default")
    out.setdefault("instruction_style", "format")
    out.setdefault("split", split)
    out["answer"] = str(out["answer"])
    out["choices"] = list(out["choices"] or [])
    return out
