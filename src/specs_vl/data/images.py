"""Images from rows of any source (PIL, an HF Image dict, a path), checked before they are decoded.

Shared by the pairs loader, the training-set loader and the benchmark loaders, so
all name the file, the row and the field when an image is missing, unreadable or
too large. Training data is checked here but kept as stored (`stored_image`: a
path or the file's own bytes) and decoded batch by batch (`decode_image`), so a
rank never holds the whole training set as RGB pixels (issue 28, item 8).
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from specs_vl.util.errors import DataError

MAX_PIXELS = 89_478_485  # PIL's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS default)
_BYTES_REPR = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error)


class RowDataError(DataError):
    """A row that cannot be used; the message names the file, the row and the field."""


@dataclass(frozen=True)
class RowContext:
    """Where a row comes from, so that errors name it and image paths resolve."""

    source: str
    index: int
    base_dir: Path | None
    split: str

    def error(self, field: str, problem: str) -> RowDataError:
        return RowDataError(self.source, self.index, field, problem)


def load_image(value: Any, ctx: RowContext, field: str) -> Image.Image:
    """Decode an image given as PIL, an HF Image dict or a path; check its size before decoding."""
    opened = not isinstance(value, Image.Image)
    img = open_image(value, ctx, field) if opened else value
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


def open_image(value: Any, ctx: RowContext, field: str) -> Image.Image:
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


def stored_image(value: Any, ctx: RowContext, field: str, max_pixels: int = MAX_PIXELS) -> dict[str, Any]:
    """Check one image (exists, not empty, a real image, not a decompression bomb, decodes) and return it as
    stored, `{"bytes", "path"}`: a path stays a path (resolved), embedded bytes stay those bytes. The pixels
    decoded for the check are dropped, so checking a large training set costs time, not memory."""
    data, path = (value.get("bytes"), value.get("path")) if isinstance(value, dict) else (None, value)
    if data is not None:
        if not data:
            raise ctx.error(field, "image bytes are empty")
        opened: Any = {"bytes": data}
    elif isinstance(path, (str, Path)) and str(path).strip():
        p = Path(path).expanduser()
        if not p.is_absolute() and ctx.base_dir is not None:
            p = ctx.base_dir / p
        if not p.is_file():
            raise ctx.error(field, f"image file not found: {p}")
        if p.stat().st_size == 0:
            raise ctx.error(field, f"image file is empty (0 bytes): {p}")
        opened = str(p.resolve())
    else:
        raise ctx.error(field, f"expected an image path or an image dict, got {type(value).__name__}")
    try:
        img = open_image(opened, ctx, field)  # header only: refuses non-images and huge bombs unallocated
    except DataError as e:  # PIL names embedded bytes by their BytesIO's address; say what they are
        raise ctx.error(field, _BYTES_REPR.sub(f"<{len(data or b'')} embedded bytes>", e.problem)) from None
    try:
        w, h = img.size
        if w * h > max_pixels:
            raise ctx.error(
                field,
                f"image of {w}x{h} pixels is over the {max_pixels:,} pixel limit "
                "(a decompression bomb?); refused before decoding",
            )
        try:
            img.load()
        except _DECODE_ERRORS as e:
            raise ctx.error(field, f"cannot decode image{'' if data else f' {opened}'}: {e}") from None
    finally:
        img.close()
    return {"bytes": data, "path": None} if data is not None else {"bytes": None, "path": opened}


def _open_stored(value: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(value["bytes"]) if value.get("bytes") else value["path"])


def decode_image(value: Any) -> Image.Image:
    """An RGB image from a decoded one or from `stored_image`'s storage (already checked, so not re-checked)."""
    if isinstance(value, Image.Image):
        return value if value.mode == "RGB" else value.convert("RGB")
    with _open_stored(value) as img:
        return img.convert("RGB")


def image_size(value: Any) -> tuple[int, int]:
    """(width, height) of a decoded or stored image; a stored one is read to its header only."""
    if isinstance(value, Image.Image):
        return value.size
    with _open_stored(value) as img:
        return img.size
