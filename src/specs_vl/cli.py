"""The `specs` command: one subcommand per stage; a thin layer over the stage functions."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from specs_vl.errors import SpecsError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="SPECS: self-distilled preference cold start for VLM RL.")
world_app = typer.Typer(no_args_is_help=True, help="The embedded procedural world.")
app.add_typer(world_app, name="world")
from specs_vl.cli_export import export_app  # noqa: E402

app.add_typer(export_app, name="export")

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _fail(err: Exception) -> None:
    """Errors a user can act on: one line, exit 2. Outputs are written by rename, so the last
    complete output of a stage that failed while saving (disk full, permissions) is still there."""
    if isinstance(err, OSError) and not isinstance(err, SpecsError) and err.strerror:
        where = f" {err.filename}" if err.filename else ""
        err = f"could not read or write{where}: {err.strerror}; the previous complete output is unchanged"
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _setup(quiet: bool) -> None:
    from specs_vl.progress import hush_libraries

    if quiet:
        os.environ["SPECS_QUIET"] = "1"
    hush_libraries()


def _load_world(path: Optional[Path]):
    """The `world` section of a run config (defaults without one)."""
    from specs_vl.config import load_run_config

    return load_run_config(path).world


@world_app.command("export")
def world_export(
    out: Annotated[Path, typer.Argument(help="Directory to write the dataset to (datasets.save_to_disk).")],
    split: Annotated[str, typer.Option("--split", "-s")] = "train",
    n: Annotated[Optional[int], typer.Option("--n", help="Number of examples (default: the split's size).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML (its world section).")] = None,
    quiet: Quiet = False,
) -> None:
    """Write one split of the world as a Hugging Face dataset with the Image feature."""
    _setup(quiet)
    try:
        from specs_vl.world.export import export_split

        cfg = _load_world(config)
        path = export_split(cfg, split, out, n)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)
    typer.echo(f"wrote {path}")


@world_app.command("show")
def world_show(
    split: Annotated[str, typer.Option("--split", "-s")] = "train",
    n: Annotated[int, typer.Option("--n")] = 5,
    config: Annotated[Optional[Path], typer.Option("--config", "-c")] = None,
) -> None:
    """Print a few examples of a split."""
    try:
        from specs_vl.world import build_split, prompt_text

        for ex in build_split(_load_world(config), split, n):
            typer.echo(json.dumps({k: v for k, v in ex.items() if k != "image"} | {"prompt": prompt_text(ex)}))
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("base")
def base(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config YAML (world + base sections).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when cached.")] = False,
    quiet: Quiet = False,
) -> None:
    """Build (or reuse from cache) the tiny base VLM and print its calibration."""
    _setup(quiet)
    try:
        from specs_vl.config import load_run_config
        from specs_vl.world.base_model import build_base_model

        cfg = load_run_config(config)
        path = build_base_model(cfg.world, cfg.base, force=force)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)
    typer.echo(path)
    typer.echo((path / "calibration.json").read_text())


@app.command("eval")
def eval_cmd(
    model: Annotated[str, typer.Argument(help="Model directory or hub id.")],
    suite: Annotated[str, typer.Option("--suite", help="world-id, world-ood, mathvista, mathverse, mathvision, mmmu.")] = "world-id",
    n: Annotated[Optional[int], typer.Option("--n", help="Number of prompts (default: all).")] = None,
    samples: Annotated[int, typer.Option("--samples", help="Responses per prompt.")] = 1,
    k: Annotated[str, typer.Option("--k", help="Comma-separated k for pass@k.")] = "1",
    out: Annotated[Optional[Path], typer.Option("--out", help="Output directory.")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="Benchmark file (parquet/JSON) or hub id.")] = None,
    temperature: Annotated[float, typer.Option("--temperature")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 64,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config (its world section).")] = None,
    quiet: Quiet = False,
) -> None:
    """Evaluate a model on a suite: writes generations.jsonl and metrics.json."""
    _setup(quiet)
    try:
        from specs_vl.config import load_run_config
        from specs_vl.evaluation.runner import EvalConfig, evaluate_model, write_outputs
        from specs_vl.evaluation.suites import get_suite
        from specs_vl.models import load_vlm

        ks = tuple(int(x) for x in k.split(",") if x.strip())
        get_suite(suite)
        cfg = EvalConfig(n=n, samples=samples, ks=ks, temperature=temperature, max_new_tokens=max_new_tokens,
                         batch_size=batch_size, suite_args={"world": load_run_config(config).world, "path": data})
        m, proc = load_vlm(model)
        records, metrics = evaluate_model(m, proc, suite, cfg)
        out_dir = out or Path("runs") / "eval" / f"{Path(model).name}-{suite}"
        write_outputs(out_dir, records, metrics)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)
    o = metrics["overall"]
    passes = " ".join(f"pass@{x}={o[f'pass@{x}']:.3f}" for x in ks if o.get(f"pass@{x}") is not None)
    say_line = (f"{suite}: accuracy {o['accuracy']:.3f}, format-valid {o['format_valid_rate']:.3f}, "
                f"strict {o['strict_success']:.3f}, length {o['mean_length']:.1f}, RBF {o['rbf'] or 0:.2f} {passes}")
    typer.echo(say_line)
    typer.echo(f"wrote {out_dir}/metrics.json")


def _resolve_base(cfg, base: Optional[str]) -> str:
    if base:
        return base
    if cfg.base_model:
        return cfg.base_model
    from specs_vl.world.base_model import build_base_model

    return str(build_base_model(cfg.world, cfg.base))


@app.command("zero")
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
    _setup(quiet)
    try:
        from specs_vl.config import load_run_config
        from specs_vl.stages.zero import run_zero

        cfg = load_run_config(config)
        zcfg = cfg.zero.model_copy(update={k: v for k, v in {"steps": steps, "data": data}.items() if v is not None})
        run_zero(zcfg, _resolve_base(cfg, base), out or Path("runs") / cfg.name / "zero", cfg.world, resume)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("distill")
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
    _setup(quiet)
    try:
        if stats is not None:
            f = stats / "stats.json"
            if not f.exists():
                raise ValueError(f"{f}: no stats.json; not a pairs directory")
            typer.echo(f.read_text())
            return
        from specs_vl.config import load_run_config
        from specs_vl.stages.distill import run_distill

        cfg = load_run_config(config)
        overrides = {"data": data, "mode": mode, "chosen_model": chosen_model, "rejected_model": rejected_model}
        overrides = {k: v for k, v in overrides.items() if v is not None}
        dcfg = type(cfg.distill).model_validate(cfg.distill.model_dump() | overrides)
        run_dir = Path("runs") / cfg.name
        run_distill(dcfg, zero_model or str(run_dir / "zero" / "model"), _resolve_base(cfg, base),
                    out or run_dir / "pairs", cfg.world)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("coldstart")
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
    _setup(quiet)
    try:
        from specs_vl.config import load_run_config, override
        from specs_vl.stages.coldstart import run_coldstart

        cfg = load_run_config(config)
        ccfg = override(cfg.coldstart, "command line", method=method, sft_weight=sft_weight, beta=beta,
                        max_steps=max_steps, precompute_ref=precompute_ref, lora={} if lora and not cfg.coldstart.lora else None)
        run_dir = Path("runs") / cfg.name
        run_coldstart(ccfg, _resolve_base(cfg, base), pairs or str(run_dir / "pairs"),
                      out or run_dir / f"coldstart-{ccfg.method}", cfg.world, resume)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("rl")
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
    _setup(quiet)
    try:
        from specs_vl.config import load_run_config, override
        from specs_vl.stages.coldstart import METHODS
        from specs_vl.stages.rl import run_rl

        cfg = load_run_config(config)
        rcfg = override(cfg.rl, "command line", steps=steps, eval_every=eval_every, data=data)
        run_dir = Path("runs") / cfg.name
        if start in ("base", "none"):
            path, label = _resolve_base(cfg, None), "base"
        elif start in METHODS:
            path, label = str(run_dir / f"coldstart-{start}" / "model"), start
        else:
            path, label = start, Path(start).name
        run_rl(rcfg, path, out or run_dir / f"rl-{label}", cfg.world, resume, label=f"rl {label}")
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


def _pipeline(config: Path, name: Optional[str], seeds: Optional[str], runs: Path) -> None:
    from specs_vl.config import load_run_config
    from specs_vl.pipeline import run_pipeline

    cfg = load_run_config(config)
    if name:
        cfg = cfg.model_copy(update={"name": name})
    seed_list = [int(x) for x in seeds.split(",") if x.strip()] if seeds else None
    run_pipeline(cfg, runs, seed_list)


@app.command("pipeline")
def pipeline(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Run name (default: the config's name).")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="Comma-separated seeds, e.g. 0,1,2.")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Directory that holds run directories.")] = Path("runs"),
    quiet: Quiet = False,
) -> None:
    """The whole recipe: base, zero, distill, cold starts, RL, eval, report. Resumes; skips what is done."""
    _setup(quiet)
    try:
        _pipeline(config, name, seeds, runs)
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("demo")
def demo(
    name: Annotated[Optional[str], typer.Option("--name", help="Run name.")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="Comma-separated seeds.")] = None,
    quiet: Quiet = False,
) -> None:
    """`specs pipeline` on the embedded demo: the procedural world and a tiny Qwen2.5-VL, on the CPU."""
    _setup(quiet)
    from specs_vl.config import demo_config_path

    try:
        _pipeline(demo_config_path(), name, seeds, Path("runs"))
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


@app.command("report")
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    quiet: Quiet = False,
) -> None:
    """Write (or rewrite) a run's report: report/index.html and report.md with plots."""
    _setup(quiet)
    try:
        from specs_vl.report import write_report

        if not run_dir.exists():
            raise ValueError(f"{run_dir}: run directory does not exist")
        typer.echo(f"wrote {write_report(run_dir)}")
    except (SpecsError, ValueError, OSError) as e:
        _fail(e)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
