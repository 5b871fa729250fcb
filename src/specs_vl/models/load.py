"""Load any Hugging Face VLM with its processor, and fail clearly when it is not one.

The checks here turn what transformers reports in a log (or not at all) into a
ModelError: a missing directory, a text-only model, a directory with a config
but no weights, an unreadable or incomplete safetensors file, tensors whose
shapes do not fit config.json, and tensors missing from the checkpoint. In
transformers 5 the last two never load silently only because we ask for the
loading report: a shape mismatch raises a RuntimeError that names no tensor
(the details go to the log), or, with `ignore_mismatched_sizes`, loads random
weights in its place; a missing tensor is randomly initialised with only a log
line.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import torch

from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.util.errors import ModelError

SAFE_WEIGHTS = "model.safetensors"
SAFE_INDEX = "model.safetensors.index.json"
BIN_WEIGHTS = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"

# name -> (file, shape) for every tensor of a local safetensors checkpoint
TensorIndex = dict[str, tuple[Path, tuple[int, ...]]]


def _read_config(path: Path) -> dict[str, Any]:
    cfg = path / "config.json"
    if not cfg.exists():
        raise ModelError(f"{path}: no config.json; not a model directory")
    try:
        return json.loads(cfg.read_text())
    except json.JSONDecodeError as e:
        raise ModelError(f"{cfg}: not valid JSON ({e})") from None


def weight_files(path: str | Path) -> list[Path]:
    """The files holding a local checkpoint's weights, in the order transformers looks for them.

    Fails on a directory with no weights (an interrupted download or save, a
    LoRA adapter) and on an index that names a shard that is not there.
    """
    p = Path(path)
    if (p / SAFE_WEIGHTS).is_file():
        return [p / SAFE_WEIGHTS]
    for index in (SAFE_INDEX, BIN_INDEX):
        if (p / index).is_file():
            try:
                shards = sorted(set(json.loads((p / index).read_text())["weight_map"].values()))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
                raise ModelError(f"{p / index}: not a valid weight index ({e})") from None
            for shard in shards:
                if not (p / shard).is_file():
                    raise ModelError(f"{p / index}: names shard {shard}, which is missing from {p}")
            return [p / s for s in shards]
    if (p / BIN_WEIGHTS).is_file():
        return [p / BIN_WEIGHTS]  # transformers reads it with torch.load(weights_only=True)
    hint = (
        "; it holds a LoRA adapter, merge it into its base model first"
        if (p / "adapter_config.json").exists()
        else "; an interrupted download or save?"
    )
    raise ModelError(f"{p}: config.json but no weights ({SAFE_WEIGHTS}, {SAFE_INDEX} or {BIN_WEIGHTS}){hint}")


def tensor_index(files: list[Path]) -> TensorIndex:
    """Names and shapes of the tensors in safetensors files, from their headers only (no tensor is read)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from safetensors import SafetensorError, safe_open

    index: TensorIndex = {}
    for f in files:
        if f.suffix != ".safetensors":
            continue
        try:
            with safe_open(str(f), framework="pt") as st:
                for name in st.keys():  # noqa: SIM118 (safe_open is not iterable)
                    index[name] = (f, tuple(st.get_slice(name).get_shape()))
        except (SafetensorError, OSError) as e:
            raise ModelError(f"{f}: not a readable safetensors file ({e}); re-download or re-save the model") from None
    return index


def _check_dir(path: str | Path) -> tuple[dict[str, Any], TensorIndex]:
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: model directory does not exist")
    config = _read_config(p)
    if "vision_config" not in config:
        kind = config.get("model_type", "unknown")
        raise ModelError(f"{p}: model_type '{kind}' is a text-only model; a vision-language model is needed")
    return config, tensor_index(weight_files(p))


def check_vlm_dir(path: str | Path) -> dict[str, Any]:
    """A local model directory must hold a model with a vision tower, and readable weights; its config."""
    return _check_dir(path)[0]


def _suffix_match(a: str, b: str) -> int:
    """How many trailing dotted parts two tensor names share (checkpoint and model names can differ in prefix)."""
    n = 0
    for x, y in zip(reversed(a.split(".")), reversed(b.split("."))):
        if x != y:
            break
        n += 1
    return n


def _checkpoint_name(model_key: str, shape: tuple[int, ...], tensors: TensorIndex) -> tuple[str, Path] | None:
    """The checkpoint tensor that transformers mapped to `model_key` (best suffix match with that shape)."""
    best = max(((_suffix_match(model_key, k), k) for k, (_, s) in tensors.items() if s == shape), default=None)
    return (best[1], tensors[best[1]][0]) if best and best[0] > 0 else None


def _check_loading_info(path: str | Path, model: Any, info: dict[str, Any], tensors: TensorIndex) -> None:
    """Refuse a model whose weights were (partly) random-initialised instead of loaded."""
    order = {k: i for i, k in enumerate(model.state_dict())}
    mismatched = sorted(info.get("mismatched_keys") or (), key=lambda m: order.get(m[0], len(order)))
    if mismatched:
        key, ckpt_shape, model_shape = mismatched[0][0], tuple(mismatched[0][1]), tuple(mismatched[0][2])
        found = _checkpoint_name(key, ckpt_shape, tensors)
        where = f"{found[1]}: tensor '{found[0]}'" if found else f"{path}: tensor '{key}'"
        raise ModelError(
            f"{where} has shape {list(ckpt_shape)} but config.json needs {list(model_shape)} (model parameter "
            f"'{key}'; {len(mismatched)} tensor(s) mismatch in all); the weights do not belong to this config, "
            "so they were not loaded"
        )
    missing = sorted(info.get("missing_keys") or (), key=lambda k: order.get(k, len(order)))
    if missing:
        raise ModelError(
            f"{path}: {len(missing)} tensor(s) the config needs are missing from the checkpoint, first '{missing[0]}'; "
            "they would be randomly initialised"
        )


def _looks_local(path: str) -> bool:
    """A hub id is 'name' or 'owner/name'; a path that starts like one or nests deeper is local."""
    return path.startswith((".", "/", "~")) or path.count("/") > 1 or "\\" in path


def _load_error(path: str | Path, local: bool, e: Exception) -> ModelError:
    where = "" if local else " (not a local directory; tried the Hugging Face hub)"
    return ModelError(f"{path}: could not load as a vision-language model{where}: {e}")


def inference_placement() -> tuple[str, torch.dtype]:
    """Where generation-only stages (distill, eval) put a model: bf16 on CUDA when there is one, else fp32 on CPU.

    A 7B model in fp32 on the CPU would take hours per batch of 10k-token
    samples; bf16 halves the weights and is what vLLM and TRL sample in.
    GPUs without bf16 (pre-Ampere) get fp16.
    """
    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


def free_gpu_cache() -> None:
    """Give the CUDA caching allocator's blocks back once a model is deleted: `del model` alone leaves them
    reserved, so the next process on the GPU (the cold start after distill) finds the card full."""

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def load_for_inference(path: str | Path, loading: Loading = DEFAULT_LOADING) -> tuple[Any, Any]:
    """`load_vlm` placed by `inference_placement` (the HF backend of distill and eval)."""
    device, dtype = inference_placement()
    return load_vlm(path, dtype=dtype, device=device, loading=loading)


def load_vlm(
    path: str | Path,
    dtype: torch.dtype | str = "float32",
    device: str | None = None,
    loading: Loading = DEFAULT_LOADING,
) -> tuple[Any, Any]:
    """(model, processor) from a local directory or a hub id, loaded as the run config says (`loading`).

    `trust_remote_code` is off unless the run config says `trust_remote_code: true` (every stage takes
    `loading` as an argument, so nothing reads it from the environment); the processor gets the run's
    image-token bound (`images.min_pixels` / `max_pixels`), else the checkpoint's own.
    """
    trust_remote_code = loading.trust_remote_code
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import AutoModelForImageTextToText

    local = Path(path).exists() or _looks_local(str(path))
    tensors = _check_dir(path)[1] if local else {}
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    try:
        # ignore_mismatched_sizes + the loading report: we raise our own error naming the tensor
        # rather than transformers' RuntimeError, which names none.
        model, info = AutoModelForImageTextToText.from_pretrained(
            path,
            dtype=dtype,
            trust_remote_code=trust_remote_code,
            ignore_mismatched_sizes=True,
            output_loading_info=True,
            weights_only=True,
        )
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        raise _load_error(path, local, e) from None
    _check_loading_info(path, model, info, tensors)
    try:
        processor = load_processor(path, loading)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        raise _load_error(path, local, e) from None
    # Trainers save `use_cache: false` (they train without a KV cache); generation
    # without one is ~5x slower on the tiny model, so turn it back on for inference.
    model.config.use_cache = True
    if device:
        model.to(device)
    model.eval()
    return model, processor


def load_processor(path: str | Path, loading: Loading = DEFAULT_LOADING) -> Any:
    """The checkpoint's processor with the run's image-token bound. The bound is set on the image processor's
    `size` (shortest_edge / longest_edge, in pixels: transformers 5 deprecates min_pixels / max_pixels kwargs),
    so a checkpoint saved from it keeps the bound in its preprocessor_config.json."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path, trust_remote_code=loading.trust_remote_code)
    if loading.pixel_kwargs():
        ip = getattr(processor, "image_processor", None)
        size = getattr(ip, "size", None)
        if size is None or getattr(size, "longest_edge", None) is None:
            raise ModelError(f"{path}: images.min_pixels/max_pixels need a Qwen-VL-style image processor")
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from transformers.image_utils import SizeDict

        hi = loading.max_pixels or size.longest_edge
        ip.size = SizeDict(shortest_edge=min(loading.min_pixels or size.shortest_edge, hi), longest_edge=hi)
    return processor
