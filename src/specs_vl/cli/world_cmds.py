"""`specs world ...`: look at and export the embedded procedural world."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, Quiet, fail, load_world, setup

world_app = typer.Typer(no_args_is_help=True, help="The embedded procedural world.")


@world_app.command("export")
def world_export(
    out: Annotated[Path, typer.Argument(help="Directory to write the dataset to (datasets.save_to_disk).")],
    split: Annotated[
        str,
        typer.Option(
            "--split",
            "-s",
            help="train, dev, id_test, ood_domain, ood_surface, ood_requirement, retention, ood_test (the three OOD sets), pretrain.",  # noqa: E501
        ),
    ] = "train",
    n: Annotated[int | None, typer.Option("--n", help="Number of examples (default: the split's size).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Run config YAML (its world section).")] = None,
    quiet: Quiet = False,
) -> None:
    """Write one split of the world as a Hugging Face dataset with the Image feature."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.world.export import export_split

        cfg = load_world(config)
        path = export_split(cfg, split, out, n)
    except CATCH as e:
        fail(e)
    typer.echo(f"wrote {path}")


@world_app.command("show")
def world_show(
    split: Annotated[
        str,
        typer.Option(
            "--split",
            "-s",
            help="train, dev, id_test, ood_domain, ood_surface, ood_requirement, retention, ood_test (the three OOD sets), pretrain.",  # noqa: E501
        ),
    ] = "train",
    n: Annotated[int, typer.Option("--n")] = 5,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
) -> None:
    """Print a few examples of a split."""
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.world import build_split, prompt_text

        for ex in build_split(load_world(config), split, n):
            typer.echo(json.dumps({k: v for k, v in ex.items() if k != "image"} | {"prompt": prompt_text(ex)}))
    except CATCH as e:
        fail(e)
