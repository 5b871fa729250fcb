"""Images from rows of any source (PIL, an HF Image dict, a path), checked before they are decoded.

Shared by the pairs loader and the benchmark loaders, so both name the file,
the row and the field when an image is missing, unreadable or too large.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from specs_vl.util.errors import DataError

MAX_PIXELS = 89_478_485  # PIL's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS default)


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
