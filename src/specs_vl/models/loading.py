"""How every stage loads a model and its processor, from the run config: remote code, and the image-token bound.

Qwen2.5-VL-7B's preprocessor_config.json allows 12,845,056 pixels, up to
16,384 tokens for one image. Nothing in TRL 1.16 cuts a prompt, and vLLM
raises once a prompt reaches `max_model_len`, so one large image would stop
a rollout mid-run. `images.max_pixels` bounds it in two places, so every
backend sees the same tokens:
- the HF processor, through `AutoProcessor.from_pretrained(..., min_pixels, max_pixels)`
  (transformers 5 maps them onto the image processor's `size`);
- the images themselves, resized to the size that bounded processor picks
  (`smart_resize`, as qwen_vl_utils.fetch_image does for verl), before TRL
  hands them to a vLLM engine that loads the checkpoint's unbounded processor
  (TRL 1.16 `VLLMGeneration` builds `LLM(model=...)` with no mm_processor_kwargs);
  our own engines also get `mm_processor_kwargs`.
Import-light (no torch), so configs validate fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

PATCH_AREA = 28 * 28  # one merged Qwen2.5-VL image token: a 14-pixel patch, merged 2 x 2


class ImageSettings(BaseModel):
    """The image-token bound of every processor and vLLM engine in a run (None = the checkpoint's own)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    min_pixels: int | None = Field(None, ge=PATCH_AREA)
    """smallest image area after resizing (pixels); None = the checkpoint's"""
    max_pixels: int | None = Field(None, ge=PATCH_AREA)
    """largest image area after resizing (pixels); Qwen2.5-VL: 28 x 28 per image token, so 1,003,520 = 1,280
    tokens; None = the checkpoint's (12,845,056 for Qwen2.5-VL-7B, 16,384 tokens)"""

    @model_validator(mode="after")
    def _order(self) -> ImageSettings:
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels {self.min_pixels} is above max_pixels {self.max_pixels}")
        return self


@dataclass(frozen=True)
class Loading:
    """What a stage needs to load a model the way the run config says (RunConfig.loading())."""

    trust_remote_code: bool = False
    min_pixels: int | None = None
    max_pixels: int | None = None

    def pixel_kwargs(self) -> dict[str, int]:
        """The bound as processor kwargs (`AutoProcessor.from_pretrained`, vLLM's `mm_processor_kwargs`)."""
        out = {"min_pixels": self.min_pixels, "max_pixels": self.max_pixels}
        return {k: v for k, v in out.items() if v is not None}


DEFAULT_LOADING = Loading()


def processor_bounds(processor: Any) -> tuple[int, int, int] | None:
    """(factor, min_pixels, max_pixels) of a Qwen-VL-style image processor; None for any other kind."""
    ip = getattr(processor, "image_processor", None)
    size = getattr(ip, "size", None)
    patch, merge = getattr(ip, "patch_size", None), getattr(ip, "merge_size", None)
    lo = getattr(size, "shortest_edge", None) if size is not None else None
    hi = getattr(size, "longest_edge", None) if size is not None else None
    if isinstance(size, dict):
        lo, hi = size.get("shortest_edge"), size.get("longest_edge")
    if not all(isinstance(v, int) for v in (patch, merge, lo, hi)):
        return None
    return patch * merge, lo, hi


def fitted_size(size: tuple[int, int], factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) Qwen-VL's smart_resize picks for `size` (multiples of `factor`, area within the bounds)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    w, h = size
    new_h, new_w = smart_resize(h, w, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    return new_w, new_h


def resized(image: Any, size: tuple[int, int]) -> Any:
    """`image` at `size` (itself when it has it already), resampled as the Qwen2-VL processor does."""
    if image.size == tuple(size):
        return image
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from PIL import Image

    return image.convert("RGB").resize(tuple(size), Image.Resampling.BICUBIC)


def bounded_size(size: tuple[int, int], processor: Any) -> tuple[int, int]:
    """(width, height) the processor resizes an image of `size` to (`size` itself for another processor kind)."""
    bounds = processor_bounds(processor)
    return size if bounds is None else fitted_size(size, *bounds)


def bound_image(image: Any, processor: Any) -> Any:
    """`image` resized to the size the processor would pick (a no-op when it already has it)."""
    return resized(image, bounded_size(image.size, processor))
