"""The `specs` command: one subcommand per stage; a thin layer over the stage functions."""

from __future__ import annotations

import typer

from specs_vl.cli import compare_cmds, eval_cmds, recipe
from specs_vl.cli.export_cmds import export_app
from specs_vl.cli.world_cmds import world_app

app = typer.Typer(add_completion=False, no_args_is_help=True, help="SPECS: self-distilled preference cold start for VLM RL.")
app.add_typer(world_app, name="world")
app.add_typer(export_app, name="export")
app.command("base")(recipe.base)
app.command("eval")(eval_cmds.eval_cmd)
app.command("compare")(compare_cmds.compare_cmd)
for _name in ("zero", "distill", "coldstart", "rl", "pipeline", "demo", "report"):
    app.command(_name)(getattr(recipe, _name))
