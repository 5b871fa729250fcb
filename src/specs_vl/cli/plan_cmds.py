"""`specs plan CONFIG --gpus N`: each training stage's batch split, steps, token budget and memory per GPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, fail


def plan_cmd(
    config: Annotated[Path | None, typer.Argument(help="Run config YAML (or -c).")] = None,
    config_opt: Annotated[Path | None, typer.Option("--config", "-c", help="Run config YAML.")] = None,
    gpus: Annotated[
        int | None,
        typer.Option("--gpus", min=1, help="GPUs (processes) of the run [default: launcher.num_processes, else 1]."),
    ] = None,
    gpu_memory: Annotated[float, typer.Option("--gpu-memory", min=1, help="Memory of one GPU, GB.")] = 80,
    pairs: Annotated[int, typer.Option("--pairs", min=1, help="Preference pairs the cold start expects.")] = 9000,
) -> None:
    """A dry run: nothing is loaded or trained. Exit 1 when a stage will not fit, naming the setting to change."""
    try:
        # deferred: pulls in the config models (and through them torch); `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.orchestration.plan import plan_run, render
        from specs_vl.util.errors import ConfigError

        path = config_opt or config
        if path is None:
            raise ConfigError("specs plan needs a run config: `specs plan CONFIG.yaml` or `-c CONFIG.yaml`")
        cfg = load_run_config(path)
        gpus = gpus or cfg.launcher.num_processes or 1  # the launcher's processes: what the run will get
        plans = plan_run(cfg, gpus, gpu_memory, pairs)
    except CATCH as e:
        fail(e)
    typer.echo(render(cfg, plans, gpus, gpu_memory))
    if any(p.warnings for p in plans):
        raise typer.Exit(1)
