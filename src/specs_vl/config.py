"""Run configs: YAML in, validated pydantic models out, errors that name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from specs_vl.errors import ConfigError
from specs_vl.stages.coldstart import ColdstartConfig
from specs_vl.stages.distill import DistillConfig
from specs_vl.stages.rl import RLConfig
from specs_vl.stages.zero import ZeroConfig
from specs_vl.world.base_model import BaseModelConfig
from specs_vl.world.dataset import WorldConfig

M = TypeVar("M", bound=BaseModel)


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
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def load_yaml_model(path: Path, model: type[M]) -> M:
    return validate_model(read_yaml(path), model, str(path))


def load_run_config(path: Path | None) -> RunConfig:
    return load_yaml_model(path, RunConfig) if path else RunConfig()


def demo_config_path() -> Path:
    return Path(__file__).parent / "configs" / "demo.yaml"
