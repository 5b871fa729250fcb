"""`specs plan CONFIG --gpus N`: each training stage's batch split, steps, token budget and memory per GPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, fail


def plan_cmd(
    config: Annotated[Path, typer.Argument(help="Run config YAML.")],
    gpus: Annotated[int, typer.Option("--gpus", min=1, help="GPUs (processes) the run will use.")] = 1,
    gpu_memory: Annotated[float, typer.Option("--gpu-memory", min=1, help="Memory of one GPU, GB.")] = 80,
    pairs: Annotated[int, typer.Option("--pairs", min=1, help="Preference pairs the cold start expects.")] = 9000,
) -> None:
    """A dry run: nothing is loaded or trained. Exit 1 when a stage will not fit, naming the setting to change."""
    try:
        # deferred: pulls in the config models (and through them torch); `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.orchestration.plan import plan_run, render

        cfg = load_run_config(config)
        plans = plan_run(cfg, gpus, gpu_memory, pairs)
    except CATCH as e:
        fail(e)
    typer.echo(render(cfg, plans, gpus, gpu_memory))
    if any(p.warnings for p in plans):
        raise typer.Exit(1)
