"""`specs demo` ends by saying where the report is and what to run next (issue 31: "command not found")."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import specs_vl.cli.recipe as recipe
from specs_vl.cli.app import app


def test_demo_ends_with_the_report_and_the_next_commands(tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "demo"
    (run_dir / "rl-dpo-sft" / "model").mkdir(parents=True)
    calls = []

    def fake_pipeline(config, name, seeds, runs, overrides=()):
        calls.append((Path(config).name, runs))
        return run_dir

    monkeypatch.setattr(recipe, "_pipeline", fake_pipeline)  # the real demo takes minutes
    res = CliRunner().invoke(app, ["demo"])
    assert res.exit_code == 0, res.output
    assert calls == [("demo.yaml", Path("runs"))]
    lines = res.output.strip().splitlines()
    assert lines[0] == f"report: {run_dir / 'report' / 'index.html'} (open it in a browser)"
    assert lines[1] == "next:"
    assert lines[2].split("#")[0].strip() == "source .venv/bin/activate" and ".venv/bin/specs" in lines[2]
    assert lines[3].split("#")[0].strip() == f"specs eval {run_dir / 'rl-dpo-sft' / 'model'} --data mine.jsonl"
    assert lines[4].split("#")[0].strip() == "specs study"


def test_with_seeds_the_model_to_evaluate_is_a_seeds(tmp_path):
    run_dir = tmp_path / "demo"
    (run_dir / "seed-1" / "rl-dpo-sft" / "model").mkdir(parents=True)
    assert f"specs eval {run_dir / 'seed-1' / 'rl-dpo-sft' / 'model'} --data" in recipe.demo_next_steps(run_dir)
