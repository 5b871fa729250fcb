"""What every command shares: the quiet flag, one-line errors with exit 2, and the default base model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from specs_vl.util.errors import SpecsError

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
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


def load_world(path: Optional[Path]):
    """The `world` section of a run config (defaults without one)."""
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.config import load_run_config

    return load_run_config(path).world



def resolve_base(cfg, base: Optional[str]) -> str:
    if base:
        return base
    if cfg.base_model:
        return cfg.base_model
    # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
    from specs_vl.world.base_model import build_base_model

    return str(build_base_model(cfg.world, cfg.base))

