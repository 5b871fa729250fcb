"""The paper's stated settings (../shared/SPECS_METHOD.md), for the line of `specs plan` that says whether a config
runs them and, if not, which keys differ."""

from __future__ import annotations

from specs_vl.config import RunConfig

PAPER: dict[str, dict[str, float | int]] = {
    "rl": {
        "prompts_per_step": 128,
        "num_generations": 8,
        "max_completion_length": 10240,
        "learning_rate": 1e-6,
        "beta": 0.0,
        "steps": 800,
    },
    "coldstart": {"batch_size": 64, "max_length": 16384, "learning_rate": 1e-6, "sft_weight": 1.0},
}


def paper_differences(cfg: RunConfig) -> list[str]:
    return [
        f"{sec}.{k} {getattr(getattr(cfg, sec), k)} (paper {v})"
        for sec, vals in PAPER.items()
        for k, v in vals.items()
        if getattr(getattr(cfg, sec), k) != v
    ]
