"""Which engine generates: HF `generate` (always there) or vLLM (when installed and a GPU is present).

The choice is a config value, `backend: auto | hf | vllm`, and every run
logs the engine it actually used. `auto` takes vLLM only when it can run;
`vllm` asked for explicitly fails clearly when it cannot. vLLM needs a model
*path* (it loads its own copy), so in-memory models (the GF-curve callback)
always use HF.

Memory: one `VLLMEngine` per model, reused for every request on it (both
suites of an eval, all samples of a distill side) and closed before the next
model loads; vLLM's own issues report out-of-memory for a second `LLM` in a
process that did not release the first. The four `vllm_*` settings below are
the same keys for TRL's GRPO rollouts (zero, rl) and for our engine (distill,
eval); `specs plan` reads them.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specs_vl.data.images import decode_image
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.models.sampling import SampleConfig, chat_prompts
from specs_vl.models.vllm_settings import VLLMEngineSettings, VLLMSettings
from specs_vl.util.errors import ConfigError
from specs_vl.util.progress import say


def trl_vllm_kwargs(cfg: VLLMSettings) -> dict[str, Any]:
    """GRPOConfig's vllm_* fields from ours (TRL 1.16 passes them to `LLM(...)` in colocate mode)."""
    return {
        "vllm_max_model_length": cfg.vllm_max_model_length,
        "vllm_gpu_memory_utilization": cfg.vllm_gpu_memory_utilization,
        "vllm_enable_sleep_mode": cfg.vllm_enable_sleep_mode,
        "vllm_tensor_parallel_size": cfg.vllm_tensor_parallel_size,
    }


def trl_sampling_kwargs(cfg: SampleConfig | None = None) -> dict[str, Any]:
    """GRPOConfig's sampling fields, set explicitly (TRL 1.16 hands them to HF generate and to vLLM alike)."""
    s = cfg or SampleConfig()
    return {"top_p": s.top_p, "top_k": s.top_k, "min_p": s.min_p or None, "repetition_penalty": s.repetition_penalty}


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


def engine_kwargs(
    model_path: str | Path, settings: VLLMSettings, seed: int = 0, loading: Loading = DEFAULT_LOADING
) -> dict[str, Any]:
    """`vllm.LLM(...)` arguments for one model."""
    return {
        "model": str(model_path),
        "seed": seed,
        "trust_remote_code": loading.trust_remote_code,
        # vLLM passes mm_processor_kwargs to the HF processor: the same image-token bound as ours
        "mm_processor_kwargs": loading.pixel_kwargs() or None,
        "limit_mm_per_prompt": {"image": 1},  # our prompts carry one image
        "gpu_memory_utilization": settings.vllm_gpu_memory_utilization,
        "max_model_len": settings.vllm_max_model_length,
        "tensor_parallel_size": settings.vllm_tensor_parallel_size,
        "enable_sleep_mode": settings.vllm_enable_sleep_mode,
        # vLLM ModelConfig.generation_config: "auto" loads the checkpoint's generation_config.json as default
        # sampling params; "vllm" ignores it, so only what `sampling_params` says is used.
        "generation_config": "vllm",
    }


def sampling_params_kwargs(cfg: SampleConfig) -> dict[str, Any]:
    """`vllm.SamplingParams(...)` arguments: every knob that shapes the distribution, set."""
    greedy = cfg.temperature == 0
    return {
        "n": cfg.n,
        "temperature": cfg.temperature,
        "top_p": 1.0 if greedy else cfg.top_p,
        "top_k": 0 if greedy else cfg.top_k,  # vLLM: 0 (or -1) = all tokens
        "min_p": 0.0 if greedy else cfg.min_p,
        "repetition_penalty": cfg.repetition_penalty,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "max_tokens": cfg.max_new_tokens,
        "seed": cfg.seed,
    }


class VLLMEngine:
    """One vLLM `LLM` for one model, built on first use, reused, and freed by `close()` (or `with`)."""

    def __init__(
        self,
        model_path: str | Path,
        settings: VLLMSettings | None = None,
        seed: int = 0,
        loading: Loading = DEFAULT_LOADING,
    ) -> None:
        self.model_path = Path(model_path)
        self.loading = loading
        self.kwargs = engine_kwargs(model_path, settings or VLLMEngineSettings(), seed, loading)
        self.llm: Any = None
        self.builds = 0  # how many LLMs this engine made (1 for its whole life)

    def _engine(self) -> Any:
        if self.llm is None:
            # deferred: heavy import, kept off the start-up path of the CLI and of config validation
            from vllm import LLM

            self.llm = LLM(**self.kwargs)
            self.builds += 1
        return self.llm

    def generate(self, processor: Any, examples: Sequence[dict[str, Any]], cfg: SampleConfig) -> list[list[str]]:
        """`cfg.n` responses per example, in example order (same prompts as `sampling.generate`)."""
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from vllm import SamplingParams

        llm = self._engine()
        requests = [
            {"prompt": text, "multi_modal_data": {"image": decode_image(ex["image"])}}
            for text, ex in zip(chat_prompts(processor, examples), examples)
        ]
        outs = llm.generate(requests, SamplingParams(**sampling_params_kwargs(cfg)))
        return [[o.text for o in out.outputs] for out in outs]

    def close(self) -> None:
        """Free the engine's GPU memory so the next model's engine fits (vLLM's own recipe)."""
        if self.llm is None:
            return
        del self.llm  # our only reference; gc then finalises the LLM and shuts its engine core down
        self.llm = None
        gc.collect()
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        import torch
        from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

        # vLLM 0.22-0.31: destroys the model-parallel groups and the process group vLLM created, then gc
        cleanup_dist_env_and_memory()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def __enter__(self) -> VLLMEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
