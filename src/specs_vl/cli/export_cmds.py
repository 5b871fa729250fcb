"""`specs export ...`: hand our data to other trainers (verl) for runs beyond one machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, fail

export_app = typer.Typer(no_args_is_help=True, help="Export data for other trainers (verl).")


@export_app.callback()
def _export() -> None:
    """Export data for other trainers (verl). A callback keeps `verl` a subcommand even when it is the only one."""


@export_app.command("verl")
def export_verl_cmd(
    out: Annotated[Path, typer.Argument(help="Parquet file to write (verl's data.train_files).")],
    pairs: Annotated[Path | None, typer.Option("--pairs", help="Preference pairs (what `specs distill` writes).")] = None,
    rl_data: Annotated[Path | None, typer.Option("--rl-data", help="Examples dir (datasets.save_to_disk, our schema).")] = None,
    n: Annotated[int | None, typer.Option("--n", help="At most this many rows (default: all; the world: its train size).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Run config YAML (its world section).")] = None,
    data_source: Annotated[str, typer.Option("--data-source", help="verl's data_source column.")] = "specs_vl",
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write RL prompts as verl parquet; with neither --pairs nor --rl-data, the world's train split."""
    if quiet:
        os.environ["SPECS_QUIET"] = "1"
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.util.progress import hush_libraries

    hush_libraries()
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.export.verl import export_verl

        world = None
        if config is not None:
            # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
            from specs_vl.config import load_run_config

            world = load_run_config(config).world
        summary = export_verl(out, rl_data=rl_data, pairs=pairs, n=n, world=world,
                              data_source=data_source, overwrite=force)
    except CATCH as e:  # OSError too: an output that is a directory, under a file, or read-only
        fail(e)
    typer.echo(f"wrote {summary['rows']} rows from {summary['source']} to {summary['path']}")
