"""The HTTP judge against a real server process on 127.0.0.1 (tests/judge_server.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specs_vl.judge.http import HttpJudge, JudgeError

OK = "<think>red: 3. blue: 2. So yes.</think> <answer>yes</answer>"
BAD = "<think>red: 3. blue: 2. So yes.</think> <answer>no</answer>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(request):
    port = free_port()
    args = [sys.executable, str(Path(__file__).with_name("judge_server.py")), "--port", str(port)]
    args += getattr(request, "param", [])
    proc = subprocess.Popen(args)
    url = f"http://127.0.0.1:{port}"
    while True:  # until it answers, however long a busy machine takes to start it; fails if it exits
        assert proc.poll() is None, f"the judge server exited with {proc.returncode}"
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=60).read()  # hang guard only
            break
        except OSError:
            time.sleep(0.05)  # paces the polling; decides nothing
    yield url
    proc.kill()
    proc.wait()


def stats(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url + "/stats", timeout=60).read())


def test_verdicts_cache_and_api_key(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-secret-123")
    cache = tmp_path / "cache.jsonl"
    judge = HttpJudge(server, api_key_env="MY_JUDGE_KEY", cache=cache, concurrency=4)
    verdicts = judge.judge_many([("q1", OK), ("q2", BAD), ("q3", OK)])
    assert [v.ok for v in verdicts] == [True, False, True]
    assert "INCONSISTENT" in verdicts[1].reason
    s = stats(server)
    assert s["requests"] == 3 and set(s["auth"]) == {"Bearer sk-secret-123"}
    assert "sk-secret" not in cache.read_text()
    again = HttpJudge(server, api_key_env="MY_JUDGE_KEY", cache=cache)
    assert [v.ok for v in again.judge_many([("q2", BAD), ("q1", OK)])] == [False, True]
    assert stats(server)["requests"] == 3  # a rerun does not ask again


@pytest.mark.parametrize("server", [["--fail-first", "2"]], indirect=True)
def test_retries_with_backoff(server):
    judge = HttpJudge(server, retries=3, backoff=0.01)
    assert judge("q", OK).ok
    assert stats(server)["requests"] == 3


def test_unreachable_judge_is_a_clear_error(tmp_path, tiny_base_dir):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(JudgeError, match="unreachable"):
        HttpJudge(url, timeout=1).check()
    with pytest.raises(JudgeError, match="failed after 2 tries"):
        HttpJudge(url, timeout=1, retries=1, backoff=0.01)("q", OK)
    from specs_vl.cli.app import app

    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"distill:\n  judge: http\n  judge_url: {url}\n  train_size: 4\n")
    out = tmp_path / "pairs"
    res = CliRunner().invoke(
        app, ["distill", "-c", str(cfg), "--zero", str(tiny_base_dir), "--base", str(tiny_base_dir), "--out", str(out)]
    )
    assert res.exit_code == 2 and "unreachable" in res.output
    assert not out.exists()


def test_the_api_key_is_never_written_by_a_pipeline_that_uses_it(server, tmp_path, tiny_base_dir, monkeypatch):
    """Through zero, distill (judged over HTTP) and the report: no file of the run holds the key."""
    from specs_vl.config import RunConfig
    from specs_vl.orchestration.pipeline import run_pipeline

    secret = "sk-never-written-4242"
    monkeypatch.setenv("SPECS_JUDGE_API_KEY", secret)
    cfg = RunConfig.model_validate(
        {
            "name": "keyed",
            "base_model": str(tiny_base_dir),
            "methods": [],
            "rl_from_base": False,
            "world": {"train_size": 24, "id_test_size": 4, "ood_test_size": 4},
            "zero": {"steps": 2, "num_generations": 2, "prompts_per_step": 2, "max_completion_length": 16},
            "distill": {"samples": 8, "max_new_tokens": 32, "judge": "http", "judge_url": server},
            "eval": {"samples": 1, "ks": [1], "max_new_tokens": 8, "suites": ["world-id"]},
        }
    )
    try:
        run_dir = run_pipeline(cfg, tmp_path / "runs")
    except ValueError as e:  # a tiny model may find no pairs; the files written so far must still be clean
        assert "no pairs" in str(e)
        run_dir = tmp_path / "runs" / "keyed"
    assert stats(server)["requests"] > 0 and set(stats(server)["auth"]) == {f"Bearer {secret}"}
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "judge_cache.jsonl" for p in files) and any(p.name == "pipeline.log" for p in files)
    for p in files:
        assert secret.encode() not in p.read_bytes(), p
