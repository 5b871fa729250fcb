"""The one stage runner: the decision is taken once and every rank follows it (issue 26, issue 28 item 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ZERO = {
    "steps": 1,
    "num_generations": 2,
    "prompts_per_step": 2,
    "max_completion_length": 8,
    "save_steps": 10,
    "train_size": 4,
}


def _specs(args: list[str], cwd: Path, procs: int = 1) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(procs)]
        if procs > 1
        else [sys.executable]
    )
    # a rank left waiting on the other would sit in a collective until the process-group timeout (30 min);
    # the subprocess timeout only keeps a broken runner from stalling the suite
    return subprocess.run(
        [*launcher, "-m", "specs_vl.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_complete_stage_rerun_on_two_ranks_exits_0_on_both_and_a_changed_config_exits_2_on_both(
    tiny_world, tiny_base_dir, tmp_path
):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "name": "ranks",
                "world": tiny_world.model_dump(mode="json"),
                "base_model": str(tiny_base_dir),
                "zero": ZERO,
            }
        )
    )
    out = tmp_path / "zero"
    first = _specs(["zero", "-q", "-c", str(cfg), "--out", str(out)], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    record = json.loads((out / "stage.json").read_text())
    assert record["status"] == "complete"

    again = _specs(["zero", "-c", str(cfg), "--out", str(out)], tmp_path, procs=2)
    assert again.returncode == 0, again.stderr[-3000:]
    said = [line for line in (again.stderr + again.stdout).splitlines() if "already complete" in line]
    assert len(said) == 1, said  # decided once, on rank 0 (each rank that decided would say so)
    assert "GRPO rollouts" not in again.stderr + again.stdout  # no rank built a trainer (nor loaded the model)
    assert json.loads((out / "stage.json").read_text()) == record  # nothing rewritten

    changed = _specs(["zero", "-c", str(cfg), "--out", str(out), "zero.learning_rate=0.001"], tmp_path, procs=2)
    assert changed.returncode != 0
    refusals = [
        line for line in (changed.stderr + changed.stdout).splitlines() if "was made with a different config" in line
    ]
    assert len(refusals) == 2, changed.stderr[-3000:]  # the same one line from each rank
    assert "exitcode  : 2" in changed.stderr or "exit code 2" in changed.stderr or "exitcode: 2" in changed.stderr, (
        changed.stderr[-2000:]
    )
    assert json.loads((out / "stage.json").read_text()) == record


def test_the_pipeline_writes_the_same_record_and_card_in_process_and_under_a_launcher(
    monkeypatch, tiny_world, tiny_base_dir, tmp_path
):
    """With a launcher the pipeline starts the `specs` CLI as the child; here the child runs in this process
    (CliRunner) so the test needs no second interpreter; both paths go through the one stage runner."""
    import re

    from typer.testing import CliRunner

    from specs_vl.cli.app import app
    from specs_vl.config import RunConfig
    from specs_vl.orchestration import pipeline, stage_plan

    def child(launcher, argv, name):  # what `accelerate launch -m specs_vl.cli ARGV` runs on each rank
        done = CliRunner().invoke(app, argv)
        assert done.exit_code == 0, done.output

    monkeypatch.setattr(stage_plan, "launch_stage", child)
    rl = {
        "steps": 1,
        "num_generations": 2,
        "prompts_per_step": 2,
        "max_completion_length": 8,
        "train_size": 4,
        "eval_id_n": 2,
        "eval_ood_n": 2,
        "eval_samples": 1,
    }
    common = dict(
        base_model=str(tiny_base_dir),
        world=tiny_world,
        recipe="rl-only",  # rl-base alone: zero and distill take the same path through the stage runner
        methods=[],
        rl=rl,
        eval={"suites": ["world-id"], "n": 2, "samples": 1, "ks": [1]},
    )
    here = pipeline.run_pipeline(RunConfig(name="here", **common), tmp_path, report=False)
    there = pipeline.run_pipeline(
        RunConfig(name="there", launcher={"num_processes": 2}, **common), tmp_path, report=False
    )

    def card(run):
        text = (run / "rl-base" / "model" / "README.md").read_text()
        return re.sub(r"\| (written|steps|seconds) \|[^\n]*", "", text)  # the time it was written

    a, b = (json.loads((r / "rl-base" / "stage.json").read_text()) for r in (here, there))
    assert a == b and a["status"] == "complete"
    assert card(here) == card(there)
    assert not (here / "logs" / "tensorboard").exists() and not (there / "logs" / "tensorboard").exists()
