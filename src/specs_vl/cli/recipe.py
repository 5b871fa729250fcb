"""The recipe's commands: base, zero, distill, coldstart, rl, pipeline, demo, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from specs_vl.cli.shared import CATCH, Quiet, fail, resolve_base, setup


def base(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML (world + base sections).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when cached.")] = False,
    quiet: Quiet = False,
) -> None:
    """Build (or reuse from cache) the tiny base VLM and print its calibration."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.world.base_model import build_base_model

        cfg = load_run_config(config)
        path = build_base_model(cfg.world, cfg.base, force=force)
    except CATCH as e:
        fail(e)
    typer.echo(path)
    typer.echo((path / "calibration.json").read_text())



def zero(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML.")] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Base model (default: the world's tiny base).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output dir (default runs/NAME/zero).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Override zero.steps.")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="A datasets dir in the example schema.")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the last checkpoint.")] = True,
    quiet: Quiet = False,
) -> None:
    """Stage 1a: a short GRPO run (format + accuracy rewards) gives the zero model."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.stages import checks
        from specs_vl.stages.zero import run_zero

        cfg = load_run_config(config)
        zcfg = cfg.zero.model_copy(update={k: v for k, v in {"steps": steps, "data": data}.items() if v is not None})
        out = out or Path("runs") / cfg.name / "zero"
        checks.zero_inputs(zcfg, cfg.world, base or cfg.base_model, out)  # before the base is built or loaded
        run_zero(zcfg, resolve_base(cfg, base), out, cfg.world, resume)
    except CATCH as e:
        fail(e)


def distill(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML.")] = None,
    zero_model: Annotated[Optional[str], typer.Option("--zero", help="Zero model (default runs/NAME/zero/model).")] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Base model (default: the world's tiny base).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output dir (default runs/NAME/pairs).")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="A datasets dir in the example schema.")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="decoupled (default) or coupled.")] = None,
    chosen_model: Annotated[Optional[str], typer.Option("--chosen-model", help="Ablation: chosen side from this model.")] = None,
    rejected_model: Annotated[Optional[str], typer.Option("--rejected-model", help="Ablation: rejected side from this model.")] = None,
    stats: Annotated[Optional[Path], typer.Option("--stats", help="Print the stats of a pairs dir and exit.")] = None,
    quiet: Quiet = False,
) -> None:
    """Stage 1b: sample zero and base, keep correct pairs that differ only in format."""
    setup(quiet)
    try:
        if stats is not None:
            f = stats / "stats.json"
            if not f.exists():
                raise ValueError(f"{f}: no stats.json; not a pairs directory")
            typer.echo(f.read_text())
            return
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config, override
        from specs_vl.stages import checks
        from specs_vl.stages.distill import run_distill

        cfg = load_run_config(config)
        dcfg = override(cfg.distill, "command line", data=data, mode=mode, chosen_model=chosen_model,
                        rejected_model=rejected_model)
        run_dir = Path("runs") / cfg.name
        zero_model, out = zero_model or str(run_dir / "zero" / "model"), out or run_dir / "pairs"
        checks.distill_inputs(dcfg, cfg.world, zero_model, base or cfg.base_model, out)  # before any sampling
        run_distill(dcfg, zero_model, resolve_base(cfg, base), out, cfg.world)
    except CATCH as e:
        fail(e)


def coldstart(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML.")] = None,
    method: Annotated[Optional[str], typer.Option("--method", "-m", help="dpo-sft (SPECS), dpo or sft.")] = None,
    pairs: Annotated[Optional[str], typer.Option("--pairs", help="Pairs dir or .jsonl/.parquet (default runs/NAME/pairs).")] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Model to start from (default: the base model).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output dir (default runs/NAME/coldstart-METHOD).")] = None,
    sft_weight: Annotated[Optional[float], typer.Option("--lambda", help="Weight of the SFT term (dpo-sft).")] = None,
    beta: Annotated[Optional[float], typer.Option("--beta", help="DPO beta.")] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help="Override coldstart.max_steps.")] = None,
    precompute_ref: Annotated[Optional[bool], typer.Option("--precompute-ref/--no-precompute-ref", help="DPO reference log-probs in one pass first.")] = None,
    lora: Annotated[bool, typer.Option("--lora", help="Train LoRA adapters (peft) and merge them at the end.")] = False,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the last checkpoint.")] = True,
    quiet: Quiet = False,
) -> None:
    """Stage 2: a cold start from the base model on the pairs, with its GF curve."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config, override
        from specs_vl.stages import checks
        from specs_vl.stages.coldstart import run_coldstart

        cfg = load_run_config(config)
        ccfg = override(cfg.coldstart, "command line", method=method, sft_weight=sft_weight, beta=beta,
                        max_steps=max_steps, precompute_ref=precompute_ref, lora={} if lora and not cfg.coldstart.lora else None)
        run_dir = Path("runs") / cfg.name
        pairs, out = pairs or str(run_dir / "pairs"), out or run_dir / f"coldstart-{ccfg.method}"
        checks.coldstart_inputs(ccfg, pairs, base or cfg.base_model, out)  # before the base is built or loaded
        run_coldstart(ccfg, resolve_base(cfg, base), pairs, out, cfg.world, resume)
    except CATCH as e:
        fail(e)


def rl(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML.")] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="Cold-start method (dpo-sft|dpo|sft), a model path, or 'base' for no cold start.")] = "dpo-sft",
    out: Annotated[Optional[Path], typer.Option("--out", help="Output dir (default runs/NAME/rl-FROM).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Override rl.steps.")] = None,
    eval_every: Annotated[Optional[int], typer.Option("--eval-every", help="Evaluate ID/OOD every N steps (0: at the end).")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="A datasets dir in the example schema.")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the last checkpoint.")] = True,
    quiet: Quiet = False,
) -> None:
    """Stage 3: GRPO with verifiable rewards (0.5 format + 1.0 accuracy) from a cold start or the base."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config, override
        from specs_vl.stages import checks
        from specs_vl.stages.rl import run_rl

        cfg = load_run_config(config)
        rcfg = override(cfg.rl, "command line", steps=steps, eval_every=eval_every, data=data)
        path, label = checks.rl_start(start, Path("runs") / cfg.name)
        out = out or Path("runs") / cfg.name / f"rl-{label}"
        checks.rl_inputs(rcfg, cfg.world, path or cfg.base_model, out)  # before the base is built or loaded
        run_rl(rcfg, path or resolve_base(cfg, None), out, cfg.world, resume, label=f"rl {label}")
    except CATCH as e:
        fail(e)


def _pipeline(config: Path, name: Optional[str], seeds: Optional[str], runs: Path) -> None:
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import load_run_config
    from specs_vl.pipeline import run_pipeline
    from specs_vl.stages.checks import ints

    cfg = load_run_config(config)
    if name:
        cfg = cfg.model_copy(update={"name": name})
    seed_list = ints(seeds.split(","), "--seeds") if seeds else None
    run_pipeline(cfg, runs, seed_list)


def pipeline(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Run name (default: the config's name).")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="Comma-separated seeds, e.g. 0,1,2.")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Directory that holds run directories.")] = Path("runs"),
    quiet: Quiet = False,
) -> None:
    """The whole recipe: base, zero, distill, cold starts, RL, eval, report. Resumes; skips what is done."""
    setup(quiet)
    try:
        _pipeline(config, name, seeds, runs)
    except CATCH as e:
        fail(e)


def demo(
    name: Annotated[Optional[str], typer.Option("--name", help="Run name.")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="Comma-separated seeds.")] = None,
    quiet: Quiet = False,
) -> None:
    """`specs pipeline` on the embedded demo: the procedural world and a tiny Qwen2.5-VL, on the CPU."""
    setup(quiet)
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import demo_config_path

    try:
        _pipeline(demo_config_path(), name, seeds, Path("runs"))
    except CATCH as e:
        fail(e)


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    quiet: Quiet = False,
) -> None:
    """Write (or rewrite) a run's report: report/index.html and report.md with plots."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.report import write_report
        from specs_vl.stages.checks import run_dir as check_run_dir

        check_run_dir(run_dir)  # not any folder: report/ is written into it
        typer.echo(f"wrote {write_report(run_dir)}")
    except CATCH as e:
        fail(e)

