"""Every stage as the CLI, the Python API and the pipeline run it: inputs checked, the model resolved, then
the one stage runner (orchestration/stage_runner.py). specs_vl.api re-exports the public functions."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from specs_vl.config import RunConfig, is_named, load_run_config
from specs_vl.evaluation.runner import EvalConfig
from specs_vl.evaluation.standalone import evaluate_path, resolve_suite
from specs_vl.orchestration import checks as _checks
from specs_vl.orchestration.guard import Mode
from specs_vl.orchestration.stage_runner import run_stage
from specs_vl.recipe import coldstart as _coldstart
from specs_vl.recipe import distill as _distill
from specs_vl.recipe import rl as _rl
from specs_vl.recipe import tune_lr as _tune_lr
from specs_vl.recipe import tune_rl as _tune_rl
from specs_vl.recipe import zero as _zero
from specs_vl.recipe.coldstart_config import METHODS
from specs_vl.recipe.tune_lr_config import TuneLRSettings
from specs_vl.recipe.tune_rl_config import TuneRLSettings
from specs_vl.util.errors import ConfigError
from specs_vl.util.outputs import check_output, fresh_dir
from specs_vl.world.base_model import build_base_model

__all__ = [
    "load_config",
    "run_zero",
    "run_distill",
    "run_coldstart",
    "run_rl",
    "run_tune_rl",
    "evaluate",
    "resolve_model",
]

Config = RunConfig | str | Path | None


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """A validated run config: the YAML at `path` (defaults without one) with `section.key=value` overrides."""
    return load_run_config(Path(path) if path else None, tuple(overrides))


def _config(config: Config) -> tuple[RunConfig, bool]:
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    return cfg, is_named(cfg)


def stage_dir(cfg: RunConfig, named: bool, stage: str, out: str | Path | None) -> Path:
    """`out`, else runs/NAME/<stage> for a named config, else a fresh runs/<stage>-<time> (never runs/demo)."""
    if out is not None:
        return Path(out)
    if named:
        return Path("runs") / cfg.name / stage
    return fresh_dir(Path("runs") / f"{stage}-{time.strftime('%Y%m%d-%H%M%S')}")


def _given(cfg: RunConfig, model: str | Path | None) -> str | None:
    """The model a stage was told to start from, or None when it is the world's base (checked once built)."""
    return str(model) if model else cfg.base_model


def resolve_model(cfg: RunConfig, model: str | Path | None) -> str:
    """The model to start from: `model`, the config's base_model, or the world's tiny base (built once, cached)."""
    if model:
        return str(model)
    if cfg.base_model:
        return cfg.base_model
    return str(build_base_model(cfg.world, cfg.base))


def _needs(value: Any, named: bool, what: str, flag: str, default: Path) -> str:
    if value is not None:
        return str(value)
    if not named:
        raise ConfigError(f"no {what} given: pass {flag} (or -c CONFIG to use the run's {default.parent.name})")
    return str(default)


def run_zero(
    config: Config = None,
    *,
    out: str | Path | None = None,
    model: str | Path | None = None,
    data: str | None = None,
    resume: Mode = "auto",
) -> dict[str, Any]:
    """Stage 1a: a short GRPO run from `model` on `data` (default: zero.data, else the world's train split)."""
    cfg, named = _config(config)
    zcfg = cfg.zero.model_copy(update={"data": data}) if data else cfg.zero
    out_dir = stage_dir(cfg, named, "zero", out)
    _checks.zero_inputs(zcfg, cfg.world, _given(cfg, model), out_dir)  # before the base is built or loaded
    base = resolve_model(cfg, model)
    settings = {"zero": zcfg.model_dump(mode="json"), "model": base, "world": cfg.world.model_dump(mode="json")}
    return run_stage(
        "zero",
        out_dir,
        settings,
        resume,
        lambda: _zero.run_zero(zcfg, base, out_dir, cfg.world, True, cfg.loading()),
        (base, zcfg.data or "world train split"),
    )


def run_distill(
    config: Config = None,
    *,
    out: str | Path | None = None,
    model: str | Path | None = None,
    zero: str | Path | None = None,
    data: str | None = None,
    resume: Mode = "auto",
) -> dict[str, Any]:
    """Stage 1b: pairs from `zero` (chosen side) and `model` (rejected side) on `data`."""
    cfg, named = _config(config)
    dcfg = cfg.distill.model_copy(update={"data": data}) if data else cfg.distill
    out_dir = stage_dir(cfg, named, "pairs", out)
    zero_model = _needs(zero, named, "zero model", "--zero PATH", Path("runs") / cfg.name / "zero" / "model")
    _checks.distill_inputs(dcfg, cfg.world, zero_model, _given(cfg, model), out_dir)  # both headers, before sampling
    base = resolve_model(cfg, model)
    settings = {"distill": dcfg.model_dump(mode="json"), "model": base, "zero": zero_model}
    return run_stage(
        "distill",
        out_dir,
        settings,
        resume,
        lambda: _distill.run_distill(dcfg, zero_model, base, out_dir, cfg.world, cfg.loading()),
        None,
    )


def run_coldstart(
    config: Config = None,
    *,
    out: str | Path | None = None,
    model: str | Path | None = None,
    pairs: str | Path | None = None,
    method: str | None = None,
    tune_lr: bool = False,
    resume: Mode = "auto",
) -> dict[str, Any]:
    """Stage 2: a cold start (`method`: dpo-sft, dpo or sft) from `model` on `pairs`, with its GF curve.

    `tune_lr` first picks the learning rate by the run's `tune_lr` rule (the same for every method, on dev).
    """
    cfg, named = _config(config)
    ccfg = cfg.coldstart.model_copy(update={"method": method}) if method else cfg.coldstart
    if ccfg.method not in METHODS:
        raise ConfigError(f"method: {ccfg.method!r} is not one of {', '.join(METHODS)}")
    out_dir = stage_dir(cfg, named, f"coldstart-{ccfg.method}", out)
    pairs_path = _needs(pairs, named, "pairs", "--pairs PATH", Path("runs") / cfg.name / "pairs")
    _checks.coldstart_inputs(ccfg, pairs_path, _given(cfg, model), out_dir)  # before the base is built or loaded
    base = resolve_model(cfg, model)
    if tune_lr:
        picked = _tune_lr.tune_lr(
            ccfg,
            cfg.tune_lr or TuneLRSettings(),
            base,
            pairs_path,
            out_dir.parent / f"tune-lr-{ccfg.method}",
            cfg.world,
            cfg.loading(),
        )
        ccfg = ccfg.model_copy(update={"learning_rate": picked["chosen"]})
    settings = {"coldstart": ccfg.model_dump(mode="json"), "model": base, "pairs": pairs_path}
    return run_stage(
        f"coldstart-{ccfg.method}",
        out_dir,
        settings,
        resume,
        lambda: _coldstart.run_coldstart(ccfg, base, pairs_path, out_dir, cfg.world, True, cfg.loading()),
        (base, f"pairs {pairs_path}"),
    )


def run_rl(
    config: Config = None,
    *,
    out: str | Path | None = None,
    model: str | Path | None = None,
    data: str | None = None,
    label: str | None = None,
    resume: Mode = "auto",
) -> dict[str, Any]:
    """Stage 3: GRPO from `model` (a cold-start method name, 'base', or a path; default: the run's dpo-sft).

    `label` names the run in curves and results (default "rl FROM").
    """
    cfg, named = _config(config)
    rcfg = cfg.rl.model_copy(update={"data": data}) if data else cfg.rl
    choice = str(model) if model is not None else None
    if choice in (None, *METHODS):
        method = choice or "dpo-sft"
        start = _needs(
            None,
            named,
            f"{method} cold start",
            "--model PATH",
            Path("runs") / cfg.name / f"coldstart-{method}" / "model",
        )
        name = method
    elif choice in ("base", "none"):
        start, name = None, "base"  # resolved after the checks: the base may need building
    elif Path(choice).exists():
        start, name = choice, Path(choice).name if Path(choice).name != "model" else Path(choice).parent.name
    else:
        raise ConfigError(
            f"--from {choice!r}: not a cold-start method ({', '.join(METHODS)}), 'base', or an existing model directory"
        )
    out_dir = stage_dir(cfg, named, f"rl-{name}", out)
    _checks.rl_inputs(
        rcfg, cfg.world, start if start is not None else cfg.base_model, out_dir
    )  # before any build or load
    start = start or resolve_model(cfg, None)
    settings = {"rl": rcfg.model_dump(mode="json"), "model": start, "world": cfg.world.model_dump(mode="json")}
    return run_stage(
        f"rl-{name}",
        out_dir,
        settings,
        resume,
        lambda: _rl.run_rl(rcfg, start, out_dir, cfg.world, True, label=label or f"rl {name}", loading=cfg.loading()),
        (start, rcfg.data or "world train split"),
    )


def run_tune_rl(
    config: Config = None, *, out: str | Path | None = None, model: str | Path | None = None, resume: Mode = "auto"
) -> dict[str, Any]:
    """The GRPO settings rule (recipe/tune_rl.py) from `model` (default: the base), judged on dev only."""
    cfg, named = _config(config)
    settings_ = cfg.tune_rl or TuneRLSettings()
    out_dir = stage_dir(cfg, named, "tune-rl", out)
    _checks.rl_inputs(cfg.rl, cfg.world, _given(cfg, model), out_dir)  # before any build or load
    start = resolve_model(cfg, model)
    settings = {
        "tune_rl": settings_.model_dump(mode="json"),
        "rl": cfg.rl.model_dump(mode="json"),
        "model": start,
        "world": cfg.world.model_dump(mode="json"),
    }
    return run_stage(
        "tune-rl",
        out_dir,
        settings,
        resume,
        lambda: _tune_rl.tune_rl(cfg.rl, settings_, start, out_dir, cfg.world, cfg.loading()),
        None,
    )


def evaluate(
    model: str | Path,
    suite: str | None = None,
    *,
    config: Config = None,
    out: str | Path | None = None,
    data: str | None = None,
    n: int | None = None,
    samples: int = 1,
    ks: tuple[int, ...] = (1,),
    temperature: float = 1.0,
    max_new_tokens: int = 64,
    batch_size: int = 32,
    backend: str = "hf",
) -> dict[str, Any]:
    """Evaluate `model` on `suite` (a world suite, a benchmark, "data" with `data=PATH`, or "data:PATH").

    `backend`: hf (HF generate, with RBF), vllm (one vLLM engine with the config's `eval` vLLM settings) or
    auto (vLLM when installed and a GPU is there).

    With no `suite`, `data=PATH` alone scores that file (the data suite), and neither means world-id.

    Writes generations.jsonl and metrics.json to `out` (default: a new runs/eval/<run>_<model>_<suite>)
    and returns the metrics, with `metrics["out"]` the directory written.
    """
    cfg, _ = _config(config)
    ecfg = EvalConfig(
        n=n,
        samples=samples,
        ks=tuple(ks),
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        suite_args={"world": cfg.world},
    )
    spec, path = resolve_suite(suite, data)
    if out is not None:
        check_output(Path(out))
    examples = _checks.eval_examples(
        spec,
        ecfg if not path else replace(ecfg, suite_args={**ecfg.suite_args, "path": path}),
        path or (spec if spec.startswith("data:") else None),
    )  # before the model loads
    _checks.model_header(str(model), "MODEL")
    out_dir, metrics = evaluate_path(
        str(model), suite, ecfg, Path(out) if out else None, data, examples, cfg.loading(), backend, cfg.eval
    )
    return {**metrics, "out": str(out_dir)}
