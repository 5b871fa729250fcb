"""Which engine generates: HF `generate` (always there) or vLLM (when installed and a GPU is present).

The choice is a config value, `backend: auto | hf | vllm`, and every run
logs the engine it actually used. `auto` takes vLLM only when it can run;
`vllm` asked for explicitly fails clearly when it cannot. vLLM needs a model
*path* (it loads its own copy), so in-memory models (the GF-curve callback)
always use HF.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specs_vl.models.sampling import chat_prompts
from specs_vl.util.errors import ConfigError
from specs_vl.util.progress import say


def vllm_available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    return torch.cuda.is_available()


def resolve_backend(choice: str, where: str) -> str:
    """'hf' or 'vllm' for `choice`, logged once per call site."""
    if choice not in ("auto", "hf", "vllm"):
        raise ConfigError(f"{where}: backend must be auto, hf or vllm, got {choice!r}")
    if choice == "vllm" and not vllm_available():
        raise ConfigError(f"{where}: backend 'vllm' needs `pip install vllm` and a CUDA GPU; use 'hf' or 'auto'")
    used = "vllm" if choice == "vllm" or (choice == "auto" and vllm_available()) else "hf"
    say(f"{where}: generation backend {used}" + (" (auto)" if choice == "auto" else ""))
    return used


def generate_vllm(model_path: str | Path, processor: Any, examples: Sequence[dict[str, Any]], cfg: Any,
                  gpu_memory_utilization: float = 0.85) -> list[list[str]]:
    """`cfg.n` responses per example with vLLM, in example order (same prompts as `sampling.generate`)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from vllm import LLM, SamplingParams

    llm = LLM(model=str(model_path), limit_mm_per_prompt={"image": 1}, seed=cfg.seed,
              gpu_memory_utilization=gpu_memory_utilization)
    params = SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p if cfg.temperature > 0 else 1.0,
                            max_tokens=cfg.max_new_tokens, seed=cfg.seed)
    requests = [{"prompt": text, "multi_modal_data": {"image": ex["image"].convert("RGB")}}
                for text, ex in zip(chat_prompts(processor, examples), examples)]
    outs = llm.generate(requests, params)
    return [[o.text for o in out.outputs] for out in outs]
