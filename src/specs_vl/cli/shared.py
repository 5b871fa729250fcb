"""What every command shares: the quiet flag, one-line errors with exit 2, and the default base model."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from specs_vl.util.errors import SpecsError

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
# One name per idea across commands; the old names stay accepted (--base, --max-steps, --lambda, --no-resume).
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Run config YAML (default: the world).")]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", "--base", help="Model to start from (default: the config's base_model, else the world's tiny base)."
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Output dir (default runs/NAME/STAGE with -c; a fresh runs/STAGE-TIME without)."),
]
DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        help="Training data in the example schema: .jsonl/.json/.parquet, a save_to_disk folder or a hub id (docs/data.md).",  # noqa: E501
    ),
]
Overrides = Annotated[
    list[str] | None,
    typer.Argument(help="Config overrides, section.key=value (e.g. coldstart.learning_rate=1e-6).", show_default=False),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue the output dir's run even though its config changed.")
]
RestartOpt = Annotated[bool, typer.Option("--restart", "--no-resume", help="Clear the output dir and start over.")]


def flag_overrides(section: str, **values: object) -> list[str]:
    """Command-line flags as `section.key=value` overrides, so they are validated like the file."""
    return [f"{section}.{k}={json.dumps(v)}" for k, v in values.items() if v is not None]


CATCH = (SpecsError, ValueError, OSError)


def fail(err: Exception) -> None:
    """Errors a user can act on: one line, exit 2. Outputs are written by rename, so the last
    complete output of a stage that failed while saving (disk full, permissions) is still there."""
    if isinstance(err, OSError) and not isinstance(err, SpecsError) and err.strerror:
        where = f" {err.filename}" if err.filename else ""
        err = f"could not read or write{where}: {err.strerror}; the previous complete output is unchanged"
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def setup(quiet: bool) -> None:
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.util.progress import hush_libraries

    if quiet:
        os.environ["SPECS_QUIET"] = "1"
    hush_libraries()


def load_world(path: Path | None):
    """The `world` section of a run config (defaults without one)."""
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import load_run_config

    return load_run_config(path).world
