"""DistillConfig: how zero and base answer the same questions and how pairs are built, beside distill.py."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from specs_vl.models.requests import greedy_n_problem
from specs_vl.models.vllm_settings import VLLMEngineSettings


class DistillConfig(VLLMEngineSettings):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    samples: int = Field(4, ge=1)
    """responses per question from each model"""
    temperature: float = Field(1.0, ge=0)
    """sampling temperature"""
    top_p: float = Field(1.0, gt=0, le=1)
    """nucleus sampling top-p"""
    max_new_tokens: int = Field(64, ge=1)
    """response length limit (tokens)"""
    batch_size: int = Field(64, ge=1)
    """prompts per sampling batch"""
    pairs_per_question: int = Field(1, ge=1)
    """pairs kept per question"""
    mode: str = Field("decoupled", pattern="^(decoupled|coupled)$")
    """decoupled (both sides correct, differ in format) or coupled (rejected side wrong)"""
    rejected_source: str = Field("corrupt", pattern="^(corrupt|natural|mixed)$")
    """rejected sides: corrupt (a correct base response, corrupted; the paper), natural (a mis-formatted base response)
    or mixed"""
    judge: str = Field("rule", pattern="^(rule|http|none)$")
    """reasoning/answer consistency judge: rule, http (OpenAI-compatible) or none"""
    judge_url: str | None = None
    """OpenAI-style base URL, http://host:port/v1, for judge=http"""
    judge_model: str = "judge"
    """model name sent to the http judge"""
    judge_api_key_env: str = "SPECS_JUDGE_API_KEY"
    """the key itself is never in a config"""
    judge_timeout: float = Field(30.0, gt=0)
    """seconds per judge request"""
    judge_retries: int = Field(3, ge=0)
    """retries with backoff per judge request (HTTP 408/409/429/5xx, timeouts, bad replies)"""
    judge_concurrency: int = Field(8, ge=1)
    """judge requests in flight"""
    judge_gpus: int = Field(0, ge=0)
    """GPUs of this node the http judge is served on (0: served elsewhere); `specs plan` counts them beside the
    sampling workers, which take the GPUs CUDA_VISIBLE_DEVICES leaves them (docs/gpus.md)"""
    backend: str = Field("auto", pattern="^(auto|hf|vllm)$")
    """sampling engine; vllm needs a GPU"""
    chosen_model: str | None = None
    """default: the zero model"""
    rejected_model: str | None = None
    """default: the base model"""
    train_size: int | None = Field(None, ge=1)
    """use only the first N training examples (None: all)"""
    data: str | None = None
    """questions in the example schema (.jsonl/.json/.parquet, save_to_disk folder or hub id); None: the world's train
    split"""
    seed: int = 0
    """sampling seed of both sides"""
    data_parallel_size: int = Field(1, ge=1)
    """sampling processes, one GPU each, each with its share of the questions (recipe/distill_sampling.py)"""

    @model_validator(mode="after")
    def _not_greedy_with_samples(self) -> DistillConfig:
        problem = greedy_n_problem(self.temperature, self.samples)
        if problem:
            raise ValueError(problem)
        return self
