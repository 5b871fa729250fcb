"""Load any Hugging Face VLM with its processor, and fail clearly when it is not one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from specs_vl.errors import ModelError


def _read_config(path: Path) -> dict[str, Any]:
    cfg = path / "config.json"
    if not cfg.exists():
        raise ModelError(f"{path}: no config.json; not a model directory")
    try:
        return json.loads(cfg.read_text())
    except json.JSONDecodeError as e:
        raise ModelError(f"{cfg}: not valid JSON ({e})") from None


def check_vlm_dir(path: str | Path) -> dict[str, Any]:
    """A local model directory must hold a model with a vision tower."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: model directory does not exist")
    config = _read_config(p)
    if "vision_config" not in config:
        kind = config.get("model_type", "unknown")
        raise ModelError(f"{p}: model_type '{kind}' is a text-only model; a vision-language model is needed")
    return config


def load_vlm(
    path: str | Path,
    dtype: torch.dtype | str = "float32",
    device: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[Any, Any]:
    """(model, processor) from a local directory or a hub id."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    if Path(path).exists() or str(path).startswith((".", "/")):
        check_vlm_dir(path)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    try:
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype, trust_remote_code=trust_remote_code)
        processor = AutoProcessor.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, RuntimeError) as e:
        raise ModelError(f"{path}: could not load as a vision-language model: {e}") from None
    # Trainers save `use_cache: false` (they train without a KV cache); generation
    # without one is ~5x slower on the tiny model, so turn it back on for inference.
    model.config.use_cache = True
    if device:
        model.to(device)
    model.eval()
    return model, processor
