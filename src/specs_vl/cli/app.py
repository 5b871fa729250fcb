"""The `specs` command: one subcommand per stage; a thin layer over the stage functions."""

from __future__ import annotations

from typing import Annotated

import typer

from specs_vl.cli import compare_cmds, eval_cmds, recipe, study_cmds
from specs_vl.cli.config_cmds import config_app, env
from specs_vl.cli.export_cmds import export_app
from specs_vl.cli.plan_cmds import plan_cmd
from specs_vl.cli.world_cmds import world_app
from specs_vl.util.meta import VERSION

app = typer.Typer(no_args_is_help=True, help="SPECS: self-distilled preference cold start for VLM RL.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specs-vl {VERSION}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """SPECS: self-distilled preference cold start for VLM RL."""


app.add_typer(world_app, name="world")
app.add_typer(export_app, name="export")
app.add_typer(config_app, name="config")
app.command("env")(env)
app.command("base")(recipe.base)
app.command("eval")(eval_cmds.eval_cmd)
app.command("study")(study_cmds.study)
app.command("plan")(plan_cmd)
app.command("compare")(compare_cmds.compare_cmd)
app.command("tune-rl")(recipe.tune_rl)
for _name in ("zero", "distill", "coldstart", "rl", "pipeline", "demo", "report"):
    app.command(_name)(getattr(recipe, _name))
