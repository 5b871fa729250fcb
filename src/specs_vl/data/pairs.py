"""Preference pairs for the cold start: our distill output or a user's file, checked row by row.

`load_pairs` is what `specs coldstart --pairs` reads. It accepts

- a `datasets.save_to_disk` directory (what `specs distill` writes), or
- a `.jsonl`, `.json` or `.parquet` file whose rows have `prompt`, `chosen`,
  `rejected` and `images` (a list of image paths, relative to the file or
  absolute, or HF image dicts) or `image` (one path).

`prompt` may be a plain string with one `<image>` placeholder per image, or a
conversational list of messages whose content holds `{"type": "image"}` parts;
`chosen` and `rejected` may be strings or one-message assistant lists.

Every row is checked, and every image opened and decoded, before the function
returns, so a bad pair stops the stage before a model is loaded or anything is
written or trained; the DataError names the file, the 0-based row and the
field. Images are kept as their original encoded bytes (not re-encoded) and
decode to RGB PIL images on access.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from specs_vl.data.images import RowContext, stored_image
from specs_vl.data.sources import open_source
from specs_vl.util.errors import DataError

MAX_PIXELS = 16_000_000  # per image; far above what a VLM processor keeps, far below a decompression bomb
IMAGE_PLACEHOLDER = "<image>"
ROLES = ("system", "user", "assistant")

_PLACEHOLDER = re.compile(re.escape(IMAGE_PLACEHOLDER))


def pair_features() -> Any:
    """The schema of the four columns TRL's DPOTrainer reads (conversational, with images)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Features, List, Value
    from datasets import Image as ImageFeature

    message = List({"role": Value("string"), "content": Value("string")})
    return Features(
        {
            "prompt": List(
                {"role": Value("string"), "content": List({"type": Value("string"), "text": Value("string")})}
            ),
            "chosen": message,
            "rejected": message,
            "images": List(ImageFeature(mode="RGB")),
        }
    )


def load_pairs(path: str | Path, image_token_check: bool = True, *, max_pixels: int = MAX_PIXELS) -> Any:
    """Read and check preference pairs; a `datasets.Dataset` in TRL's conversational format with images.

    Columns: `prompt` (messages with one `{"type": "image"}` part per image),
    `chosen` and `rejected` (one assistant message each), `images` (RGB PIL
    images on access), then any extra columns of the input (id, answer,
    family, corruption, ...). With `image_token_check=False` a prompt without
    any image placeholder gets its images put first in its first user message
    instead of failing; a prompt with placeholders must still match its images.
    Raises DataError naming file, row and field on the first bad row.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import concatenate_datasets

    p = Path(path).expanduser()
    source = str(path)
    rows, n, extras, base_dir = open_source(p, source)
    if n == 0:
        raise DataError(source, None, None, "no pairs; the dataset is empty")
    cols: dict[str, list[Any]] = {"prompt": [], "chosen": [], "rejected": [], "images": []}
    for i, row in enumerate(rows):
        pair = _check_row(row, RowContext(source, i, base_dir, "pairs"), image_token_check, max_pixels)
        for k, v in pair.items():
            cols[k].append(v)
    core = _in_memory(cols, pair_features())
    extra = extras()
    return core if extra is None else concatenate_datasets([core, extra], axis=1)


def _in_memory(cols: dict[str, list[Any]], features: Any) -> Any:
    """`Dataset.from_dict` without its fingerprint, which pickles and hashes every image byte (~1 ms a row)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import pyarrow as pa
    from datasets import Dataset, DatasetInfo
    from datasets.fingerprint import generate_random_fingerprint
    from datasets.table import InMemoryTable

    table = pa.Table.from_pydict(features.encode_batch(cols), schema=features.arrow_schema)
    return Dataset(InMemoryTable(table), info=DatasetInfo(features=features), fingerprint=generate_random_fingerprint())


# --- rows ---


def _check_row(row: dict[str, Any], ctx: RowContext, image_token_check: bool, max_pixels: int) -> dict[str, Any]:
    prompt = _prompt(row.get("prompt"), ctx)
    chosen = _response(row, "chosen", ctx)
    rejected = _response(row, "rejected", ctx)
    if chosen.strip() == rejected.strip():
        raise ctx.error("rejected", "same text as 'chosen'; a pair needs two different responses")
    field, values = _image_values(row, ctx)
    n_slots = sum(part["type"] == "image" for m in prompt for part in m["content"])
    if n_slots != len(values):
        if n_slots == 0 and not image_token_check:
            _put_images_first(prompt, len(values))
        elif n_slots < len(values):
            raise ctx.error(
                "prompt",
                f"{n_slots} image placeholder(s) for {len(values)} image(s); put one "
                f"{IMAGE_PLACEHOLDER} (or a {{'type': 'image'}} part) in the prompt per image",
            )
        else:
            raise ctx.error(
                field,
                f"{len(values)} image(s) for {n_slots} image placeholder(s) in the prompt; "
                "give one image per placeholder",
            )
    images = [_image(v, ctx, f"{field}[{k}]", max_pixels) for k, v in enumerate(values)]
    return {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "images": images,
    }


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))  # NaN from pandas


def _split_text(text: str) -> list[dict[str, Any]]:
    """'<image>\\nWhat is x?' -> an image part and a text part."""
    parts: list[dict[str, Any]] = []
    for k, seg in enumerate(_PLACEHOLDER.split(text)):
        if k:
            parts.append({"type": "image"})
        if seg.strip():
            parts.append({"type": "text", "text": seg.strip()})
    return parts


def _prompt(value: Any, ctx: RowContext) -> list[dict[str, Any]]:
    """Normalise a string or conversational prompt to messages whose content is a list of parts."""
    if _missing(value):
        raise ctx.error("prompt", "missing required field")
    if isinstance(value, str):
        if not value.strip():
            raise ctx.error("prompt", "empty required field")
        return [{"role": "user", "content": _split_text(value)}]
    if not isinstance(value, list) or not value:
        raise ctx.error("prompt", f"expected a string or a non-empty list of messages, got {_kind(value)}")
    messages = []
    for m in value:
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise ctx.error("prompt", f"each message needs a role in {ROLES}, got {_kind(m)}")
        content = m.get("content")
        if isinstance(content, str):
            parts = _split_text(content)
        elif isinstance(content, list):
            parts = []
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "image":
                    parts.append({"type": "image"})
                elif kind == "text" and isinstance(part.get("text"), str):
                    parts.extend(_split_text(part["text"]))
                else:
                    raise ctx.error(
                        "prompt",
                        "content parts must be {'type': 'image'} or "
                        f"{{'type': 'text', 'text': str}}, got {_kind(part)}",
                    )
        else:
            raise ctx.error("prompt", f"message content must be a string or a list of parts, got {_kind(content)}")
        messages.append({"role": m["role"], "content": parts})
    if not any(m["content"] for m in messages):
        raise ctx.error("prompt", "empty required field")
    if not any(m["role"] == "user" for m in messages):
        raise ctx.error("prompt", "no user message")
    return messages


def _response(row: dict[str, Any], field: str, ctx: RowContext) -> str:
    """The text of `chosen` / `rejected`, given as a string or as one assistant message."""
    value = row.get(field)
    if _missing(value):
        raise ctx.error(field, "missing required field")
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        if len(value) != 1 or not isinstance(value[0], dict) or value[0].get("role") != "assistant":
            raise ctx.error(field, "expected a string or a list with exactly one assistant message")
        content = value[0].get("content")
        if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
            content = "".join(str(p.get("text") or "") for p in content)
        value = content
    if not isinstance(value, str):
        raise ctx.error(field, f"expected text, got {_kind(value)}")
    if not value.strip():
        raise ctx.error(field, "empty required field")
    return value


def _image_values(row: dict[str, Any], ctx: RowContext) -> tuple[str, list[Any]]:
    images, image = row.get("images"), row.get("image")
    if not _missing(images) and not _missing(image):
        raise ctx.error("image", "both 'image' and 'images' are given; use one")
    field, value = ("images", images) if not _missing(images) else ("image", image)
    if _missing(value):
        raise ctx.error("images", "no image; a vision-language pair needs at least one image")
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ctx.error(field, "no image; a vision-language pair needs at least one image")
    return field, values


def _image(value: Any, ctx: RowContext, field: str, max_pixels: int) -> dict[str, Any]:
    """One image checked (data/images.stored_image), as its encoded bytes: a pairs dataset is self-contained."""
    stored = stored_image(value, ctx, field, max_pixels)
    return {"bytes": stored["bytes"] or Path(stored["path"]).read_bytes(), "path": None}


def _put_images_first(prompt: list[dict[str, Any]], n: int) -> None:
    """Images first in the first user message, as the project's own prompts have them."""
    user = next(m for m in prompt if m["role"] == "user")
    user["content"][:0] = [{"type": "image"} for _ in range(n)]


def _kind(value: Any) -> str:
    return type(value).__name__
