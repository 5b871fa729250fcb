"""DistillConfig: how zero and base answer the same questions and how pairs are built, beside distill.py."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from specs_vl.models.requests import greedy_n_problem
from specs_vl.models.vllm_settings import VLLMEngineSettings


class DistillConfig(VLLMEngineSettings):
    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int = Field(4, ge=1)  # responses per question from each model
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(64, ge=1)
    batch_size: int = Field(64, ge=1)
    pairs_per_question: int = Field(1, ge=1)
    mode: str = Field("decoupled", pattern="^(decoupled|coupled)$")
    rejected_source: str = Field("corrupt", pattern="^(corrupt|natural|mixed)$")
    judge: str = Field("rule", pattern="^(rule|http|none)$")
    judge_url: str | None = None  # OpenAI-style base URL, http://host:port/v1, for judge=http
    judge_model: str = "judge"
    judge_api_key_env: str = "SPECS_JUDGE_API_KEY"  # the key itself is never in a config
    judge_timeout: float = Field(30.0, gt=0)
    judge_retries: int = Field(3, ge=0)
    judge_concurrency: int = Field(8, ge=1)
    backend: str = Field("auto", pattern="^(auto|hf|vllm)$")  # sampling engine; vllm needs a GPU
    chosen_model: str | None = None  # default: the zero model
    rejected_model: str | None = None  # default: the base model
    train_size: int | None = Field(None, ge=1)
    data: str | None = None
    seed: int = 0

    @model_validator(mode="after")
    def _not_greedy_with_samples(self) -> DistillConfig:
        problem = greedy_n_problem(self.temperature, self.samples)
        if problem:
            raise ValueError(problem)
        return self
