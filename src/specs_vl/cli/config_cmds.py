"""`specs config show|doc`, `specs env`: what a run will use, and what it runs on."""

from __future__ import annotations

import json
import platform
from typing import Annotated

import typer
import yaml

from specs_vl.cli.shared import CATCH, ConfigOpt, Overrides, fail
from specs_vl.util.meta import VERSION, library_versions

config_app = typer.Typer(no_args_is_help=True, help="Show the resolved config; write the config reference.")


@config_app.command("show")
def show(overrides: Overrides = None, config: ConfigOpt = None) -> None:
    """Print the config a stage would run with: the file (or the defaults) plus section.key=value overrides."""
    try:
        # deferred: pulls in pydantic models of every stage; `specs --help` stays fast
        from specs_vl.config import load_run_config

        cfg = load_run_config(config, tuple(overrides or ()))
    except CATCH as e:
        fail(e)
    typer.echo(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False).rstrip())


@config_app.command("doc")
def doc() -> None:
    """Print the config reference (docs/config.md is this output)."""
    # deferred: pulls in pydantic models of every stage; `specs --help` stays fast
    from specs_vl.config.doc import render

    typer.echo(render(), nl=False)


def env(json_out: Annotated[bool | None, typer.Option("--json", help="As JSON.")] = False) -> None:
    """Versions of specs-vl, Python, torch, transformers, trl, vllm, and the CUDA devices seen."""
    # deferred: torch is heavy; only this command needs it
    import torch

    info = {
        "specs-vl": VERSION,
        "python": platform.python_version(),
        **library_versions(),
        "cuda (torch build)": torch.version.cuda,
        "cuda available": torch.cuda.is_available(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
    }
    if json_out:
        typer.echo(json.dumps(info, indent=2))
        return
    for k, v in info.items():
        typer.echo(f"{k:20s} {v if v not in (None, []) else 'not installed' if v is None else 'none'}")
