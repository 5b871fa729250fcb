"""SIGKILL `specs pipeline` at a fixed point inside each stage, rerun it, and check nothing was lost."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from kill_points import command, run_until_paused
from test_pipeline import mini_config

# (stage, where it is killed, the checkpoint the rerun must resume from; None: no training stage)
KILLS = [
    ("zero", "saving:zero/checkpoints/checkpoint-4", "checkpoint-2"),  # mid-save: the cut save is dropped
    ("distill", "generate:run_distill:2", None),  # zero side sampled, base side not, no pairs written
    ("coldstart-dpo-sft", "saved:coldstart-dpo-sft/checkpoints/checkpoint-4", "checkpoint-4"),
    ("rl-dpo-sft", "saving:rl-dpo-sft/checkpoints/checkpoint-4", "checkpoint-2"),
    ("eval-base", "generate:evaluate_stage:2", None),  # the first eval stage: first suite written, second not
]


def _manifest(run: Path) -> dict:
    try:
        return json.loads((run / "manifest.json").read_text())["stages"]
    except (OSError, ValueError, KeyError):
        return {}


@pytest.mark.parametrize(("stage", "point", "resume"), KILLS, ids=[k[0] for k in KILLS])
def test_killed_inside_a_stage_the_rerun_completes_and_loses_nothing(stage, point, resume, tiny_base_dir, tmp_path):
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm

    cfg = mini_config(
        tiny_base_dir,
        methods=["dpo-sft"],
        rl_from_base=False,
        zero={"steps": 6, "save_steps": 2},
        coldstart={"max_steps": 6, "save_steps": 2},
        rl={"steps": 6, "save_steps": 2},
    )
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    run = tmp_path / "runs" / "mini"
    cmd = command("pipeline", str(path), "--runs", str(tmp_path / "runs"), "-q")
    run_until_paused(cmd, point, tmp_path / "paused")
    assert _manifest(run)[stage]["status"] == "running"
    out_dir = run / {"distill": "pairs"}.get(stage, stage.replace("eval-", "eval/"))
    if stage.startswith("eval-"):
        assert len(list(out_dir.glob("*/metrics.json"))) == 1 and not (out_dir / "done.json").exists()
    before = _manifest(run)
    done_before = {k: v["finished"] for k, v in before.items() if v.get("status") == "complete" and k != "report"}

    rerun = subprocess.run(cmd, env={**os.environ, "SPECS_QUIET": "1"}, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = _manifest(run)
    assert all(v["status"] == "complete" for v in after.values()), after
    for k, finished in done_before.items():
        assert after[k]["finished"] == finished, f"{k} was redone"
    if resume:
        result = json.loads((out_dir / "result.json").read_text())
        assert result["resumed_from"].endswith(resume), result["resumed_from"]
    for f in run.rglob("*.json"):
        json.loads(f.read_text())  # nothing truncated
    for f in run.rglob("*.jsonl"):
        lines = f.read_text().splitlines()
        for line in lines[:-1]:
            json.loads(line)  # only a last line cut by the kill may be partial
    assert len(load_from_disk(str(run / "pairs"))) > 0
    for model_dir in run.glob("*/model"):
        load_vlm(model_dir)
    assert not list(run.rglob(".*"))  # the rerun swept the killed run's temp files


def test_disk_full_while_saving_is_a_clear_error_and_keeps_the_previous_output(tmp_path, monkeypatch):
    """ENOSPC at the final rename (as on a full disk) while rewriting a report: exit 2, one clear line,
    and the previous complete report is byte-for-byte intact, with no temp dir left over."""
    import errno

    from test_report import make_run
    from typer.testing import CliRunner

    import specs_vl.util.atomic as atomic
    from specs_vl.cli.app import app

    run = make_run(tmp_path / "run", with_pairs=False)
    runner = CliRunner()
    assert runner.invoke(app, ["report", str(run), "-q"]).exit_code == 0
    before = (run / "report" / "index.html").read_bytes()

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(atomic.os, "replace", full)
    res = runner.invoke(app, ["report", str(run), "-q"])
    assert res.exit_code == 2
    assert "No space left on device" in res.output and "previous complete output is unchanged" in res.output
    assert "Traceback" not in res.output
    assert (run / "report" / "index.html").read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".")]
