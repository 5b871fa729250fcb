"""vLLM's memory settings, apart from the engine: run configs validate them without importing torch."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class VLLMSettings(BaseModel):
    """vLLM memory settings. Defaults are TRL 1.16's colocate defaults (GRPOConfig.vllm_*)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    # Context window = prompt (with image tokens) + max completion. None: vLLM infers it from the model
    # config, 128,000 for Qwen2.5-VL-7B, whose KV cache then does not fit beside training on one GPU.
    vllm_max_model_length: int | None = Field(None, ge=1)
    """vLLM context: prompt (image tokens included) + max completion; None: inferred"""
    # Fraction of each GPU vLLM takes for weights + KV cache (TRL colocate default 0.3).
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1)
    """share of each GPU for vLLM's weights and KV cache"""
    # Offload vLLM weights and KV cache while the trainer steps (TRL: LLM(enable_sleep_mode=True)).
    vllm_enable_sleep_mode: bool = False
    """offload vLLM while the trainer steps"""
    # GPUs one vLLM engine spans; TRL 1.16 needs it to divide the world size.
    vllm_tensor_parallel_size: int = Field(1, ge=1)
    """GPUs one vLLM engine spans"""

    @model_validator(mode="after")
    def _length_holds_completion(self):
        """vLLM cuts (TRL: drops) a sequence at max_model_len, so it must hold at least one whole completion."""
        completion = getattr(self, "max_completion_length", None) or getattr(self, "max_new_tokens", None)
        if self.vllm_max_model_length is not None and completion and self.vllm_max_model_length <= completion:
            raise ValueError(
                f"vllm_max_model_length {self.vllm_max_model_length} must exceed the completion "
                f"length {completion}: it counts the prompt (with its image tokens) plus the completion"
            )
        return self


class VLLMEngineSettings(VLLMSettings):
    """The same keys for a generation-only engine (distill, eval): no trainer shares the GPU, so 0.85."""

    vllm_gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    """share of each GPU for vLLM's weights and KV cache"""
