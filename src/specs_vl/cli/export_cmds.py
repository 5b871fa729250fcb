"""`specs export ...`: hand our data to other trainers (verl) for runs beyond one machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, fail
from specs_vl.util.errors import ConfigError

export_app = typer.Typer(no_args_is_help=True, help="Export data for other trainers (verl).")


@export_app.callback()
def _export() -> None:
    """Export data for other trainers (verl). A callback keeps `verl` a subcommand even when it is the only one."""


def _default_model(cfg, runs: Path) -> Path:
    """The first cold start's model in the run directory: what the RL stage starts from."""
    return runs / cfg.name / f"coldstart-{cfg.methods[0]}" / "model"


@export_app.command("verl")
def export_verl_cmd(
    out: Annotated[Path, typer.Argument(help="Parquet file to write (verl's data.train_files).")],
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="Preference pairs (what `specs distill` writes).")
    ] = None,
    rl_data: Annotated[
        Path | None, typer.Option("--rl-data", help="Examples dir (datasets.save_to_disk, our schema).")
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="World (or DatasetDict) split: train, or id_test for verl's data.val_files.")
    ] = "train",
    n: Annotated[
        int | None, typer.Option("--n", help="At most this many rows (default: all; the world: its split size).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config YAML (its world and rl sections).")
    ] = None,
    data_source: Annotated[str, typer.Option("--data-source", help="verl's data_source column.")] = "specs_vl",
    print_command: Annotated[
        bool,
        typer.Option(
            "--print-command",
            help="Print the whole verl command for the run config's rl section (OUT is the train file; reused when it exists).",  # noqa: E501
        ),
    ] = False,
    val: Annotated[
        Path | None,
        typer.Option("--val", help="With --print-command: the val parquet (export one with --split id_test)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="With --print-command: the model RL starts from (default: the run's first cold start)."
        ),
    ] = None,
    gpus: Annotated[int, typer.Option("--gpus", help="With --print-command: GPUs per node.")] = 8,
    nnodes: Annotated[int, typer.Option("--nnodes", help="With --print-command: nodes.")] = 1,
    max_prompt_length: Annotated[
        int | None,
        typer.Option(
            "--max-prompt-length",
            help="With --print-command: prompt tokens, images included (default: rl.max_prompt_length, else 2048).",
        ),
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Runs root (for the default --model).")] = Path("runs"),
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write RL prompts as verl parquet (neither --pairs nor --rl-data: a world split); --print-command: verl's command."""  # noqa: E501
    if quiet:
        os.environ["SPECS_QUIET"] = "1"
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.util.progress import hush_libraries

    hush_libraries()
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.export.verl import export_verl
        from specs_vl.export.verl_command import image_patch_size, verl_command, verl_overrides

        cfg = load_run_config(config)
        if print_command:  # every check before anything is written
            if val is None or not val.is_file():
                raise ConfigError(
                    f"--print-command needs --val, an existing val parquet ({val or 'not given'}): "
                    "verl's default data.val_files is a gsm8k path; export one with --split id_test"
                )
            if val.resolve() == out.resolve():
                raise ConfigError(f"--val {val} is OUT itself; the val prompts must be held out")
        summary = None
        if not (print_command and out.is_file() and not force):
            summary = export_verl(
                out,
                rl_data=rl_data,
                pairs=pairs,
                n=n,
                world=cfg.world,
                data_source=data_source,
                overwrite=force,
                split=split,
                loading=cfg.loading(),  # images over the run's images.max_pixels resized, as on the TRL path
                patch=image_patch_size(model or cfg.base_model or ""),
            )
        if print_command:
            overrides = verl_overrides(
                cfg, out, val, model or _default_model(cfg, runs), gpus, nnodes, max_prompt_length
            )
    except CATCH as e:  # OSError too: an output that is a directory, under a file, or read-only
        fail(e)
    if summary:
        typer.echo(
            f"wrote {summary['rows']} rows from {summary['source']} to {summary['path']}", err=print_command
        )  # stdout stays the command alone
    if print_command:
        typer.echo(verl_command(overrides))
