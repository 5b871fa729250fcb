"""Run configs: YAML in, validated pydantic models out, errors that name file and key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from specs_vl.evaluation.suites import SUITES
from specs_vl.stages.coldstart import ColdstartConfig
from specs_vl.stages.distill import DistillConfig
from specs_vl.stages.rl import RLConfig
from specs_vl.stages.zero import ZeroConfig
from specs_vl.util.errors import ConfigError
from specs_vl.util.yamlio import load_yaml
from specs_vl.world.base_model import BaseModelConfig
from specs_vl.world.dataset import WorldConfig

M = TypeVar("M", bound=BaseModel)


class EvalSettings(BaseModel):
    """How the pipeline evaluates every model. Sampled (T=1) with several samples, for pass@k and RBF."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suites: list[str] = ["world-id", "world-ood"]
    n: int | None = Field(None, ge=1)  # prompts per suite; None = all
    samples: int = Field(4, ge=1)
    ks: list[int] = [1, 4]
    temperature: float = Field(1.0, ge=0)
    max_new_tokens: int = Field(64, ge=1)
    batch_size: int = Field(64, ge=1)
    seed: int = 0
    backend: Literal["auto", "hf", "vllm"] = "auto"  # vllm: no RBF (it needs the logits)
    suite_args: dict[str, dict[str, Any]] = Field(default_factory=dict)  # e.g. {"mathvista": {"path": ...}}

    @model_validator(mode="after")
    def _check(self) -> "EvalSettings":

        unknown = [s for s in self.suites if s not in SUITES]
        if unknown:
            raise ValueError(f"unknown suite(s) {unknown}; known: {sorted(SUITES)}")
        if any(k < 1 or k > self.samples for k in self.ks):
            raise ValueError(f"every k in ks must be between 1 and samples={self.samples}, got {self.ks}")
        return self


class RunConfig(BaseModel):
    """One SPECS run. Each stage reads its own section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "demo"
    world: WorldConfig = Field(default_factory=WorldConfig)
    base: BaseModelConfig = Field(default_factory=BaseModelConfig)
    base_model: str | None = None  # a model path or hub id; None = the world's tiny base model
    zero: ZeroConfig = Field(default_factory=ZeroConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    coldstart: ColdstartConfig = Field(default_factory=ColdstartConfig)
    rl: RLConfig = Field(default_factory=RLConfig)
    methods: list[Literal["dpo-sft", "dpo", "sft"]] = ["dpo-sft", "sft", "dpo"]  # cold starts to compare
    rl_from_base: bool = True  # the "no cold start" baseline
    eval: EvalSettings = Field(default_factory=EvalSettings)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    trust_remote_code: bool = False  # run model code from the hub; off unless you trust the repository


def apply_run_settings(cfg: RunConfig) -> None:
    """Settings every stage reads, passed on through the environment (see models.load_vlm)."""

    os.environ["SPECS_TRUST_REMOTE_CODE"] = "1" if cfg.trust_remote_code else "0"


def override(section: M, source: str, **updates: Any) -> M:
    """A config section with command-line overrides, validated like the file was."""
    updates = {k: v for k, v in updates.items() if v is not None}
    return validate_model(section.model_dump() | updates, type(section), source)


def _describe(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {key}: {msg}")
    return "\n".join(lines)


def validate_model(data: Any, model: type[M], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_describe(e, source)) from None


def read_yaml(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    data = load_yaml(path) or {}  # one-line errors, duplicate keys refused, BOM accepted
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def load_yaml_model(path: Path, model: type[M]) -> M:
    return validate_model(read_yaml(path), model, str(path))


def load_run_config(path: Path | None) -> RunConfig:
    cfg = load_yaml_model(path, RunConfig) if path else RunConfig()
    apply_run_settings(cfg)
    return cfg


def demo_config_path() -> Path:
    return Path(__file__).parent / "configs" / "demo.yaml"
