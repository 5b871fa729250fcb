"""The Python API: one function per stage, one argument order, the same safety as the CLI.

    from specs_vl import load_config, run_zero, run_distill, run_coldstart, run_rl, evaluate
    cfg = load_config("my.yaml", ["zero.steps=20"])
    run_zero(cfg, out="runs/mine/zero")

Every stage takes `(config, *, out, model, <its inputs>, resume)`:
- `config`: a RunConfig, a YAML path, or None (the defaults: the world);
- `out`: the stage's output dir (default `runs/NAME/<stage>` with a config,
  a fresh `runs/<stage>-<time>` without one);
- `model`: the model to start from (default: the config's `base_model`, else
  the world's tiny base; for rl, the dpo-sft cold start of the run);
- `resume`: "auto" (resume when the config is unchanged, refuse when it
  changed), "resume" (continue anyway) or "restart" (clear `out` first).
Each returns the stage's result dict and writes a model card into `out/model`.
"""

from __future__ import annotations

from specs_vl.orchestration.pipeline import run_pipeline
from specs_vl.orchestration.stages import (
    evaluate,
    load_config,
    resolve_model,
    run_coldstart,
    run_distill,
    run_rl,
    run_tune_rl,
    run_zero,
    stage_dir,
)

__all__ = [
    "load_config",
    "run_zero",
    "run_distill",
    "run_coldstart",
    "run_rl",
    "run_tune_rl",
    "run_pipeline",
    "evaluate",
    "resolve_model",
    "stage_dir",
]
