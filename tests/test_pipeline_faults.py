"""SIGKILL `specs pipeline` at a random point inside each stage, rerun it, and check nothing was lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from test_pipeline import mini_config

STAGES = ["zero", "distill", "coldstart-dpo-sft", "rl-dpo-sft", "eval-rl-dpo-sft"]


def _manifest(run: Path) -> dict:
    try:
        return json.loads((run / "manifest.json").read_text())["stages"]
    except (OSError, ValueError, KeyError):
        return {}


@pytest.mark.parametrize("stage", STAGES)
def test_killed_inside_a_stage_the_rerun_completes_and_loses_nothing(stage, tiny_base_dir, tmp_path):
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm

    cfg = mini_config(tiny_base_dir, methods=["dpo-sft"], rl_from_base=False,
                      zero={"steps": 6, "save_steps": 2}, coldstart={"max_steps": 6, "save_steps": 2},
                      rl={"steps": 6, "save_steps": 2})
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    run = tmp_path / "runs" / "mini"
    cmd = [sys.executable, "-m", "specs_vl.cli", "pipeline", str(path), "--runs", str(tmp_path / "runs"), "-q"]
    env = {**os.environ, "SPECS_QUIET": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.time()
    while _manifest(run).get(stage, {}).get("status") != "running":
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.time() - t0 < 300
        time.sleep(0.02)
    time.sleep(random.Random(stage).uniform(0.0, 1.5))  # a random point inside the stage
    out_dir = run / {"distill": "pairs"}.get(stage, stage.replace("eval-", "eval/"))
    ckpts_at_kill = sorted(int(p.name.split("-")[1]) for p in (out_dir / "checkpoints").glob("checkpoint-*")
                           if (p / "trainer_state.json").exists())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _manifest(run)
    done_before = {k: v["finished"] for k, v in before.items() if v.get("status") == "complete" and k != "report"}

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = _manifest(run)
    assert all(v["status"] == "complete" for v in after.values()), after
    for k, finished in done_before.items():
        assert after[k]["finished"] == finished, f"{k} was redone"
    if ckpts_at_kill and after[stage]["finished"] != before.get(stage, {}).get("finished"):
        result = json.loads((out_dir / "result.json").read_text())
        assert result["resumed_from"] is not None  # lost at most one checkpoint interval
        assert int(result["resumed_from"].rsplit("-", 1)[1]) >= ckpts_at_kill[-1] - 2
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

    from typer.testing import CliRunner

    import specs_vl.util.atomic as atomic
    from specs_vl.cli.app import app
    from test_report import make_run

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
