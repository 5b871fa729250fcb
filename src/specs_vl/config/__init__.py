"""Run configs: the RunConfig every stage reads (run.py), read from YAML with overrides (load.py), documented
key by key (doc.py, imported on its own: `specs config --doc`)."""

from __future__ import annotations

from specs_vl.config.loader import (
    apply_overrides,
    demo_config_path,
    is_named,
    load_run_config,
    load_yaml_model,
    override,
    parse_overrides,
    read_yaml,
    validate_model,
)
from specs_vl.config.run import EvalSettings, LauncherSettings, RunConfig

__all__ = [
    "EvalSettings",
    "LauncherSettings",
    "RunConfig",
    "apply_overrides",
    "demo_config_path",
    "is_named",
    "load_run_config",
    "load_yaml_model",
    "override",
    "parse_overrides",
    "read_yaml",
    "validate_model",
]
