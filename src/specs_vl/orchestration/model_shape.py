"""A model's shape for `specs plan`: from the world's base section, a local checkpoint's files, or a known hub name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from specs_vl.config import RunConfig
from specs_vl.models.loading import PATCH_AREA
from specs_vl.util.errors import ConfigError


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know about a model."""

    name: str
    params: float
    layers: int
    hidden: int
    kv_heads: int
    head_dim: int
    vocab: int
    image_tokens: int  # per image at most, at the checkpoint's own max_pixels (its preprocessor_config.json)
    prompt_tokens: int = 4096  # assumed prompt + image budget where the config sets none


# Hub models we can plan offline (their config.json values); a local model directory is read instead.
KNOWN = {
    # image tokens: max_pixels 12,845,056 / (28 x 28) = 16,384 in every Qwen2.5-VL preprocessor_config.json
    "qwen2.5-vl-3b": Shape("Qwen2.5-VL-3B", 3.75e9, 36, 2048, 2, 128, 151936, 16384),
    "qwen2.5-vl-7b": Shape("Qwen2.5-VL-7B", 8.29e9, 28, 3584, 4, 128, 152064, 16384),
    "qwen2.5-vl-32b": Shape("Qwen2.5-VL-32B", 33.5e9, 64, 5120, 8, 128, 152064, 16384),
    "qwen2.5-vl-72b": Shape("Qwen2.5-VL-72B", 73.4e9, 80, 8192, 8, 128, 152064, 16384),
}


def model_shape(cfg: RunConfig) -> Shape:
    if cfg.base_model is None:  # the world's tiny base model, from its config section
        b = cfg.base
        params = (
            2 * b.vocab_size * b.hidden_size
            + b.num_layers * (4 * b.hidden_size**2 + 3 * b.hidden_size * b.intermediate_size)
            + b.vision_depth * 12 * b.vision_hidden_size**2
        )
        return Shape(
            "tiny world base",
            params,
            b.num_layers,
            b.hidden_size,
            b.num_kv_heads,
            b.hidden_size // b.num_heads,
            b.vocab_size,
            16,
            256,
        )
    path = Path(cfg.base_model)
    if (path / "config.json").exists():
        return _local_shape(path)
    key = next((k for k in KNOWN if k in cfg.base_model.lower()), None)
    if key is None:
        raise ConfigError(
            f"base_model {cfg.base_model!r}: plan knows {sorted(KNOWN)} by name; "
            "give a local model directory to plan another model"
        )
    return KNOWN[key]


def _local_shape(path: Path) -> Shape:
    conf = json.loads((path / "config.json").read_text())
    text = conf.get("text_config", conf)
    files = list(path.glob("*.safetensors"))
    nbytes = sum(f.stat().st_size for f in files)
    width = 2 if str(text.get("dtype", conf.get("torch_dtype", "bfloat16"))) in ("bfloat16", "float16") else 4
    heads = text["num_attention_heads"]
    return Shape(
        path.name,
        nbytes / width,
        text["num_hidden_layers"],
        text["hidden_size"],
        text.get("num_key_value_heads", heads),
        text.get("head_dim", text["hidden_size"] // heads),
        text["vocab_size"],
        _checkpoint_image_tokens(path),
    )


def _checkpoint_image_tokens(path: Path) -> int:
    """One image's token bound in a local checkpoint: preprocessor_config.json's size.longest_edge (transformers
    5) or max_pixels (older saves), over 28 x 28; Qwen2.5-VL's 12,845,056 when the file says neither."""
    pre = path / "preprocessor_config.json"
    conf = json.loads(pre.read_text()) if pre.exists() else {}
    pixels = (conf.get("size") or {}).get("longest_edge") or conf.get("max_pixels") or 12_845_056
    return max(1, int(pixels) // PATCH_AREA)
