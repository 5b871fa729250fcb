"""`trainer_kwargs`: any other field of TRL's config for a stage, passed through unchanged.

The stage's own keys (learning rate, steps, batch size, ...) set the TRL config
first; `trainer_kwargs` then adds or replaces fields (gradient_checkpointing,
lr_scheduler_type, weight_decay, optim, ...). A key that is no field of the TRL
config class is refused with the class and TRL version named, before any work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from specs_vl.util.errors import ConfigError

# stage section -> the TRL config classes its trainer may use
TRL_CONFIGS = {"zero": ("GRPOConfig",), "rl": ("GRPOConfig",), "coldstart": ("DPOConfig", "SFTConfig")}


def trl_fields(class_name: str) -> set[str]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import trl

    return {f.name for f in dataclasses.fields(getattr(trl, class_name))}


def check_trainer_kwargs(kwargs: dict[str, Any], section: str, class_names: tuple[str, ...] | None = None) -> None:
    """Refuse keys that none of (all of, at build time) the section's TRL config classes know."""
    if not kwargs:
        return
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import trl

    for name in class_names or TRL_CONFIGS[section]:
        unknown = sorted(set(kwargs) - trl_fields(name))
        if unknown:
            raise ConfigError(
                f"{section}.trainer_kwargs: {', '.join(unknown)}: not a field of TRL's {name} "
                f"(trl {trl.__version__}); see its documentation for the fields it takes"
            )


def with_trainer_kwargs(args: dict[str, Any], kwargs: dict[str, Any], section: str, class_name: str) -> dict[str, Any]:
    """The TRL config arguments with `trainer_kwargs` laid over them (checked against `class_name`)."""
    check_trainer_kwargs(kwargs, section, (class_name,))
    return {**args, **kwargs}
