"""`specs study`: the powered replication (specs_vl/study.py); prints the power calculation and the verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, Quiet, fail, setup


def study(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Study YAML (default: the packaged configs/study.yaml).")
    ] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Directory that holds run directories.")] = Path("runs"),
    pilot: Annotated[
        Path | None,
        typer.Option(
            "--pilot",
            help="An earlier run dir: size the eval sets from its "
            "measured per-prompt and seed SDs instead of the config's bound.",
        ),
    ] = None,
    plan_only: Annotated[bool, typer.Option("--plan-only", help="Print the power calculation and stop.")] = False,
    quiet: Quiet = False,
) -> None:
    """The whole recipe over several seeds, eval sets sized by a printed power calculation, verdicts with intervals."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.orchestration.study import load_study, run_study, study_config_path, verdict_lines

        cfg = load_study(config or study_config_path())
        if pilot is not None and not pilot.is_dir():
            raise ValueError(f"{pilot}: pilot run directory does not exist")
        doc = run_study(cfg, runs, pilot, plan_only)
    except CATCH as e:
        fail(e)
    p = doc["power"]
    typer.echo(f"power: {p['statement']} (per-prompt SD {p['sd_prompt']}, seed SD {p['seed_sd']}, {p['source']})")
    if plan_only:
        return
    typer.echo("\n".join(verdict_lines(doc["findings"])))
    typer.echo(
        f"study wall time: {doc['seconds']:.0f} s (budget {doc['budget_seconds']:.0f} s); "
        f"report: {runs / cfg.run.name / 'report' / 'index.html'}"
    )
