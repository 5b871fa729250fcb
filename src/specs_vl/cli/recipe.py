"""The recipe's commands: base, zero, distill, coldstart, rl, pipeline, demo, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import (
    CATCH,
    ConfigOpt,
    DataOpt,
    ModelOpt,
    OutOpt,
    Overrides,
    Quiet,
    RestartOpt,
    ResumeOpt,
    fail,
    flag_overrides,
    setup,
)
from specs_vl.util.errors import ConfigError


def base(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config YAML (world + base sections).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", "--force", help="Build from the recipe even when shipped or cached.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """The tiny base VLM: the one shipped with the package, else the cache's, else built; prints its calibration.

    With --rebuild it is built from the recipe into the cache (about 10 minutes on 2 cores), and compared with the
    shipped copy when the config is the default one."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.world.base_config import cache_key, find_base
        from specs_vl.world.shipped import file_sha256, shipped_base, shipped_record

        cfg = load_run_config(config)
        path = None if rebuild else find_base(cfg.world, cfg.base)  # no torch import when one is there
        if path is None:
            # deferred: pulls in torch/transformers, needed only to build
            from specs_vl.world.base_model import build_base_model

            path = build_base_model(cfg.world, cfg.base, force=rebuild)
        shipped = shipped_base(cache_key(cfg.world, cfg.base)) if rebuild else None
    except CATCH as e:
        fail(e)
    typer.echo(path)
    typer.echo((path / "calibration.json").read_text())
    if shipped:
        same = file_sha256(path / "model.safetensors") == shipped_record()["model_sha256"]
        typer.echo(f"rebuilt weights {'are identical to' if same else 'DIFFER from'} the shipped ones ({shipped})")


def _mode(resume: bool, restart: bool) -> str:
    if resume and restart:
        raise ValueError("--resume and --restart contradict each other; pass one")
    return "restart" if restart else "resume" if resume else "auto"


def zero(
    overrides: Overrides = None,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    out: OutOpt = None,
    steps: Annotated[int | None, typer.Option("--steps", "--max-steps", help="Override zero.steps.")] = None,
    data: DataOpt = None,
    resume: ResumeOpt = False,
    restart: RestartOpt = False,
    quiet: Quiet = False,
) -> None:
    """Stage 1a: a short GRPO run (format + accuracy rewards) gives the zero model."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl import api

        cfg = api.load_config(config, [*(overrides or []), *flag_overrides("zero", steps=steps)])
        api.run_zero(cfg, out=out, model=model, data=data, resume=_mode(resume, restart))
    except CATCH as e:
        fail(e)


def distill(
    overrides: Overrides = None,
    config: ConfigOpt = None,
    zero_model: Annotated[str | None, typer.Option("--zero", help="Zero model (default runs/NAME/zero/model).")] = None,
    model: ModelOpt = None,
    out: OutOpt = None,
    data: DataOpt = None,
    mode: Annotated[str | None, typer.Option("--mode", help="decoupled (default) or coupled.")] = None,
    chosen_model: Annotated[
        str | None, typer.Option("--chosen-model", help="Ablation: chosen side from this model.")
    ] = None,
    rejected_model: Annotated[
        str | None, typer.Option("--rejected-model", help="Ablation: rejected side from this model.")
    ] = None,
    stats: Annotated[Path | None, typer.Option("--stats", help="Print the stats of a pairs dir and exit.")] = None,
    restart: RestartOpt = False,
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
        from specs_vl import api

        flags = flag_overrides("distill", mode=mode, chosen_model=chosen_model, rejected_model=rejected_model)
        cfg = api.load_config(config, [*(overrides or []), *flags])
        api.run_distill(cfg, out=out, model=model, zero=zero_model, data=data, resume=_mode(False, restart))
    except CATCH as e:
        fail(e)


def coldstart(
    overrides: Overrides = None,
    config: ConfigOpt = None,
    method: Annotated[str | None, typer.Option("--method", "-m", help="dpo-sft (SPECS), dpo or sft.")] = None,
    pairs: Annotated[
        str | None, typer.Option("--pairs", help="Pairs dir or .jsonl/.parquet (default runs/NAME/pairs).")
    ] = None,
    model: ModelOpt = None,
    out: OutOpt = None,
    sft_weight: Annotated[
        float | None, typer.Option("--sft-weight", "--lambda", help="Weight of the SFT term (dpo-sft).")
    ] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="DPO beta.")] = None,
    steps: Annotated[int | None, typer.Option("--steps", "--max-steps", help="Override coldstart.max_steps.")] = None,
    precompute_ref: Annotated[
        bool | None,
        typer.Option("--precompute-ref/--no-precompute-ref", help="DPO reference log-probs in one pass first."),
    ] = None,
    lora: Annotated[bool, typer.Option("--lora", help="Train LoRA adapters (peft) and merge them at the end.")] = False,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune-lr",
            help="First pick the learning rate by the rule (config "
            "tune_lr section): the smallest grid rate reaching the dev format target.",
        ),
    ] = False,
    resume: ResumeOpt = False,
    restart: RestartOpt = False,
    quiet: Quiet = False,
) -> None:
    """Stage 2: a cold start from the base model on the pairs, with its GF curve."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl import api

        flags = flag_overrides(
            "coldstart", method=method, sft_weight=sft_weight, beta=beta, max_steps=steps, precompute_ref=precompute_ref
        )
        cfg = api.load_config(config, [*(overrides or []), *flags])
        if lora and cfg.coldstart.lora is None:
            cfg = api.load_config(config, [*(overrides or []), *flags, "coldstart.lora={}"])
        api.run_coldstart(cfg, out=out, model=model, pairs=pairs, tune_lr=tune, resume=_mode(resume, restart))
    except CATCH as e:
        fail(e)


def rl(
    overrides: Overrides = None,
    config: ConfigOpt = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", "--model", help="Cold-start method (dpo-sft|dpo|sft), a model path, or 'base' for no cold start."
        ),
    ] = None,
    out: OutOpt = None,
    steps: Annotated[int | None, typer.Option("--steps", "--max-steps", help="Override rl.steps.")] = None,
    eval_every: Annotated[
        int | None, typer.Option("--eval-every", help="Evaluate ID/OOD every N steps (0: at the end).")
    ] = None,
    data: DataOpt = None,
    resume: ResumeOpt = False,
    restart: RestartOpt = False,
    label: Annotated[
        str | None, typer.Option("--label", help="Run label in curves and results (default: rl FROM).")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Stage 3: GRPO with verifiable rewards (0.5 format + 1.0 accuracy) from a cold start or the base."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl import api

        cfg = api.load_config(config, [*(overrides or []), *flag_overrides("rl", steps=steps, eval_every=eval_every)])
        api.run_rl(cfg, out=out, model=start, data=data, label=label, resume=_mode(resume, restart))
    except CATCH as e:
        fail(e)


def tune_rl(
    overrides: Overrides = None,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    out: OutOpt = None,
    resume: ResumeOpt = False,
    restart: RestartOpt = False,
    quiet: Quiet = False,
) -> None:
    """The GRPO settings rule: a grid of RL runs, each against its random-reward control, judged on dev."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl import api

        cfg = api.load_config(config, list(overrides or []))
        api.run_tune_rl(cfg, out=out, model=model, resume=_mode(resume, restart))
    except CATCH as e:
        fail(e)


def _pipeline(config: Path, name: str | None, seeds: str | None, runs: Path, overrides: tuple = ()) -> Path:
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import load_run_config
    from specs_vl.orchestration.checks import ints
    from specs_vl.orchestration.pipeline import run_pipeline

    cfg = load_run_config(config, tuple(overrides or ()))
    if name:
        cfg = cfg.model_copy(update={"name": name})
    seed_list = ints(seeds.split(","), "--seeds") if seeds else None
    return run_pipeline(cfg, runs, seed_list)


def pipeline(
    config: Annotated[Path | None, typer.Argument(help="Run config YAML (or -c, as every other command).")] = None,
    overrides: Overrides = None,
    config_opt: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config YAML, instead of the first argument.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Run name (default: the config's name).")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Comma-separated seeds, e.g. 0,1,2.")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Directory that holds run directories.")] = Path("runs"),
    quiet: Quiet = False,
) -> None:
    """The whole recipe: base, zero, distill, cold starts, RL, eval, report. Resumes; skips what is done."""
    setup(quiet)
    overrides = list(overrides or ())
    if config_opt is not None:
        if config is not None:  # with -c, the first positional word is an override
            overrides.insert(0, str(config))
        config = config_opt
    if config is None:
        fail(ConfigError("specs pipeline needs a run config: `specs pipeline CONFIG.yaml` or `-c CONFIG.yaml`"))
    try:
        _pipeline(config, name, seeds, runs, tuple(overrides))
    except CATCH as e:
        fail(e)


def demo(
    name: Annotated[str | None, typer.Option("--name", help="Run name.")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Comma-separated seeds.")] = None,
    quiet: Quiet = False,
) -> None:
    """`specs pipeline` on the embedded demo: the procedural world and a tiny Qwen2.5-VL, on the CPU."""
    setup(quiet)
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import demo_config_path

    try:
        run_dir = _pipeline(demo_config_path(), name, seeds, Path("runs"))
    except CATCH as e:
        fail(e)
    typer.echo(demo_next_steps(run_dir))


def demo_next_steps(run_dir: Path) -> str:
    """What `specs demo` prints last: where its report is and the commands a user runs next."""
    homes = [run_dir, *sorted(run_dir.glob("seed-*"))]  # one seed: the run dir; several: seed-N/
    home = next((d for d in homes if (d / "rl-dpo-sft" / "model").is_dir()), run_dir)
    steps = [
        ("source .venv/bin/activate", "puts `specs` on your PATH (or call .venv/bin/specs)"),
        (f"specs eval {home / 'rl-dpo-sft' / 'model'} --data mine.jsonl", "score it on your own file (docs/data.md)"),
        ("specs study", "the 5-seed study the README reports (about an hour on 2 cores)"),
    ]
    width = max(len(c) for c, _ in steps)
    return "\n".join(
        [f"report: {run_dir / 'report' / 'index.html'} (open it in a browser)", "next:"]
        + [f"  {c:<{width}}  # {why}" for c, why in steps]
    )


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    quiet: Quiet = False,
) -> None:
    """Write (or rewrite) a run's report: report/index.html and report.md with plots."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.orchestration.checks import run_dir as check_run_dir
        from specs_vl.report import write_report

        check_run_dir(run_dir)  # not any folder: report/ is written into it
        typer.echo(f"wrote {write_report(run_dir)}")
    except CATCH as e:
        fail(e)
