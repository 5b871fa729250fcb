"""Reading a run config: YAML in, overrides applied, a validated RunConfig out, errors that name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from specs_vl.config.run import RunConfig
from specs_vl.util.errors import ConfigError
from specs_vl.util.yamlio import load_yaml

M = TypeVar("M", bound=BaseModel)


def override(section: M, source: str, **updates: Any) -> M:
    """A config section with command-line overrides, validated like the file was."""
    updates = {k: v for k, v in updates.items() if v is not None}
    return validate_model(section.model_dump() | updates, type(section), source)


def _describe(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{source}: {key}: {msg}" if key else f"{source}: {msg}")
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


def parse_overrides(items: list[str] | tuple[str, ...]) -> list[tuple[list[str], Any]]:
    """`section.key=value` pairs; values are read as YAML (1e-6, true, [a, b], null)."""
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
            raise ConfigError(
                f"command line: {item!r}: an override is KEY=VALUE with a dotted key, e.g. coldstart.learning_rate=1e-6"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw  # not YAML: the literal text (e.g. data:my/file.jsonl inside brackets)
        out.append((key.strip().split("."), value))
    return out


def apply_overrides(data: dict[str, Any], items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The config mapping with dotted overrides set in it; unknown keys fail in validation, naming them."""
    data = dict(data)
    for path, value in parse_overrides(items):
        node = data
        for i, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, dict):
                raise ConfigError(
                    f"command line: {'.'.join(path[: i + 1])} is not a section; cannot set {'.'.join(path)}"
                )
            node[part] = child = dict(child)
            node = child
        node[path[-1]] = value
    return data


def load_run_config(path: Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """The run config from `path` (defaults without one) with `section.key=value` overrides, validated once."""
    data = read_yaml(path) if path else {}
    source = str(path) if path else "defaults"
    if overrides:
        data = apply_overrides(data, overrides)
        source += " + command-line overrides"
    if path and "name" not in data:
        data = {**data, "name": Path(path).stem}  # a run is named after its config, never silently "demo"
    cfg = validate_model(data, RunConfig, source)
    cfg._source = str(path) if path else None
    return cfg


def is_named(cfg: RunConfig) -> bool:
    """Read from a file, or given a name: its stages go under runs/NAME. Else each stage gets a fresh dir."""
    return cfg._source is not None or "name" in cfg.model_fields_set


def demo_config_path() -> Path:
    return Path(__file__).parents[1] / "configs" / "demo.yaml"
