"""The HTTP judge on the openai client against a real server on 127.0.0.1 (tests/helpers/judge_server.py)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from judge_server import JudgeServer
from typer.testing import CliRunner

from specs_vl.judge.http import HttpJudge, JudgeError, base_url
from specs_vl.recipe import distill, distill_sampling
from specs_vl.recipe.distill import DistillConfig, build_pairs, make_judge
from specs_vl.world import WorldConfig, build_split

OK = "<think>red: 3. blue: 2. So yes.</think> <answer>yes</answer>"
BAD = "<think>red: 3. blue: 2. So yes.</think> <answer>no</answer>"
CHAT = "POST /v1/chat/completions"
SEVEN_B = Path(__file__).parents[2] / "configs" / "qwen2.5-vl-7b.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    with JudgeServer() as s:
        yield s


def test_url_forms_normalise_to_the_base_url():
    for given in ("http://h:8000/v1", "http://h:8000/v1/", "http://h:8000", "http://h:8000/v1/chat/completions"):
        assert base_url(given) == "http://h:8000/v1", given
    assert base_url("https://api.example.com/v1beta/openai/") == "https://api.example.com/v1beta/openai"
    with pytest.raises(JudgeError, match="not an http"):
        base_url("127.0.0.1:8000/v1")


def test_the_7b_configs_url_form_reaches_the_chat_route(server, tmp_path, monkeypatch):
    """distill.judge_url as configs/qwen2.5-vl-7b.yaml writes it (`.../v1`), through distill's make_judge."""
    url = yaml.safe_load(SEVEN_B.read_text())["distill"]["judge_url"]
    assert url == "http://127.0.0.1:8000/v1"
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-secret-123")
    url = url.replace(":8000", f":{urlsplit(server.url).port}")
    cfg = DistillConfig(judge="http", judge_url=url, judge_api_key_env="MY_JUDGE_KEY", judge_concurrency=4)
    cache = tmp_path / "cache.jsonl"
    judge = make_judge(cfg, cache=cache)
    judge.check()
    verdicts = judge.judge_many([("q1", OK), ("q2", BAD), ("q3", OK)])
    assert [v.ok for v in verdicts] == [True, False, True] and "INCONSISTENT" in verdicts[1].reason
    assert server.paths == ["GET /v1/models"] + [CHAT] * 3  # never /v1/v1/...
    assert set(server.auth) == {"Bearer sk-secret-123"} and "sk-secret" not in cache.read_text()
    again = make_judge(cfg, cache=cache)
    assert [v.ok for v in again.judge_many([("q2", BAD), ("q1", OK)])] == [False, True]
    assert server.posts == 3 and again.counts["cached"] == 2  # a rerun does not ask again


def test_no_key_sends_the_placeholder_and_a_wrong_path_is_named(server, monkeypatch):
    monkeypatch.delenv("SPECS_JUDGE_API_KEY", raising=False)
    assert HttpJudge(server.url)("q", OK).ok and server.auth == ["Bearer EMPTY"]
    wrong = server.url.removesuffix("/v1") + "/api"
    with pytest.raises(JudgeError, match=f"judge at {wrong}/models answered HTTP 404.*base URL"):
        HttpJudge(wrong).check()


def test_unreachable_judge_is_a_clear_error(tmp_path, tiny_base_dir):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(JudgeError, match="unreachable"):
        HttpJudge(url, timeout=1).check()
    with pytest.raises(JudgeError, match=f"judge at {url}/chat/completions: 1 of 1 requests failed"):
        HttpJudge(url, timeout=1, retries=0)("q", OK)
    from specs_vl.cli.app import app

    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"distill:\n  judge: http\n  judge_url: {url}\n  train_size: 4\n")
    out = tmp_path / "pairs"
    res = CliRunner().invoke(
        app, ["distill", "-c", str(cfg), "--zero", str(tiny_base_dir), "--base", str(tiny_base_dir), "--out", str(out)]
    )
    assert res.exit_code == 2 and "unreachable" in res.output
    assert not out.exists()


# ---- faults, through distill's build_pairs --------------------------------------------------------------------

N = 10  # questions; each asks the judge two prompts (a consistent and an inconsistent chosen candidate)


def sampled():
    exs = build_split(WorldConfig(), "train", N)
    zero = [
        [f"<think>I look. So it is {e['answer']}.</think> <answer>{e['answer']}</answer>"]
        + [f"<think>So it is zzz.</think> <answer>{e['answer']}</answer>"]
        for e in exs
    ]
    base = [[f"Thus, the answer is {e['answer']}."] for e in exs]
    return exs, zero, base


def judged(srv: JudgeServer, cache: Path, **kw):
    """build_pairs (distill's judging) with the http judge at `srv`; the pairs as comparable tuples."""
    kw = {"retries": 1, "backoff": 0.01, "concurrency": 4, **kw}
    judge = HttpJudge(srv.url, cache=cache, **kw)
    pairs, stats = build_pairs(*sampled(), DistillConfig(judge="http", judge_url=srv.url), judge)
    return [(p["example"]["id"], p["chosen"], p["rejected"]) for p in pairs], stats


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    with JudgeServer() as srv:
        pairs, stats = judged(srv, tmp_path_factory.mktemp("clean") / "c.jsonl")
    assert stats["judge_counts"]["asked"] == 2 * N and stats["judge_counts"]["retries"] == 0
    assert 0 < len(pairs) < 2 * N and stats["judge_rejected"] > 0
    return pairs


def cache_keys(cache: Path) -> list[str]:
    return [r["key"] for r in map(json.loads, cache.read_text().splitlines()) if "key" in r]


RECOVERED = {  # one try goes wrong, the next is answered: one retry, no failure
    "500": ({"faults": ["500"]}, {}),
    "429 Retry-After: 0": ({"faults": ["429"]}, {}),
    "timeout": ({"faults": ["hang"]}, {"timeout": 2.0}),
    "truncated JSON": ({"faults": ["truncated"]}, {}),
    "content null": ({"faults": ["null"]}, {}),
}


@pytest.mark.parametrize("fault", list(RECOVERED))
def test_a_fault_that_clears_costs_one_retry_and_no_pair(fault, clean, tmp_path):
    server_kw, judge_kw = RECOVERED[fault]
    cache = tmp_path / "c.jsonl"
    with JudgeServer(**server_kw) as srv:
        pairs, stats = judged(srv, cache, **judge_kw)
    assert pairs == clean
    c = stats["judge_counts"]
    assert (c["asked"], c["retries"], c["failures"], c["not_asked"]) == (2 * N, 1, 0, 0), c
    assert srv.posts == 2 * N + 1 and sorted(srv.tries.values()) == [1] * (2 * N - 1) + [2]
    assert sorted(cache_keys(cache)) == sorted(set(cache_keys(cache))) and len(cache_keys(cache)) == 2 * N
    with JudgeServer() as again:
        assert judged(again, cache, **judge_kw)[0] == clean
    assert again.posts == 0  # the rerun is answered from the cache


def test_a_verdict_in_reasoning_content_is_read(clean, tmp_path):
    with JudgeServer(faults=["null-reasoning"], victims=3) as srv:
        pairs, stats = judged(srv, tmp_path / "c.jsonl")
    assert pairs == clean and srv.posts == 2 * N
    c = stats["judge_counts"]
    assert (c["retries"], c["failures"], c["reasoning_replies"]) == (0, 0, 3)


STOPPED = {  # fails for good: one JudgeError naming the URL; a rerun on a healthy server asks only the rest
    "500 every try": ({"faults": ["500", "500"]}, {}, "HTTP 500"),
    "429 every try": ({"faults": ["429", "429"]}, {}, "HTTP 429"),
    "timeout every try": ({"faults": ["hang", "hang"]}, {"timeout": 2.0}, "timed out"),
    "truncated every try": ({"faults": ["truncated", "truncated"]}, {}, "unreadable reply"),
    "content null every try": ({"faults": ["null", "null"]}, {}, "empty reply"),
    "reasoning without a verdict": ({"faults": ["null-thinking"] * 2}, {}, "empty reply.*finish_reason length"),
    "server dies after 7 requests": ({"die_after": 7}, {"concurrency": 1}, "connection failed"),
}


@pytest.mark.parametrize("fault", list(STOPPED))
def test_a_fault_that_persists_stops_with_one_error_and_a_rerun_resumes(fault, clean, tmp_path):
    server_kw, judge_kw, why = STOPPED[fault]
    cache = tmp_path / "c.jsonl"
    with JudgeServer(**server_kw) as srv:
        with pytest.raises(JudgeError) as err:
            judged(srv, cache, **judge_kw)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"judge at {srv.url}/chat/completions: 1 of {2 * N} requests failed")
    assert re.search(why, msg), msg
    answered = sum(srv.answered.values())
    assert len(cache_keys(cache)) == answered == len(set(cache_keys(cache)))
    # no new request starts after the failure, so how many were answered first depends on timing; the sum does not
    assert f"{answered} answered and cached, {2 * N - 1 - answered} not asked" in msg
    if "dies" in fault:
        assert answered == 7  # one at a time: exactly the seven before the server died
    else:
        assert srv.tries[srv.chosen[0]] == 2  # bounded: the victim was asked twice, then given up
    with JudgeServer() as again:
        pairs, stats = judged(again, cache, **judge_kw)
    assert pairs == clean and again.posts == 2 * N - answered  # only what was not answered
    assert stats["judge_counts"]["cached"] == answered and stats["judge_counts"]["failures"] == 0
    earlier = stats["judge_counts_earlier_runs"]
    assert earlier["runs"] == 1 and earlier["failures"] == 1 and earlier["asked"] == answered + 1


def test_judge_counts_reach_stats_json(monkeypatch, tmp_path):
    """run_distill with sampling stubbed (no model): the judge's counts land in the pairs' stats.json."""
    sides = iter(sampled()[1:])
    monkeypatch.setattr(distill_sampling, "load_for_inference", lambda path, loading=None: (None, None))
    monkeypatch.setattr(
        distill_sampling, "generate", lambda model, proc, examples, scfg, on_batch=None, source=None: next(sides)
    )
    with JudgeServer(faults=["500"]) as srv:
        cfg = DistillConfig(judge="http", judge_url=srv.url, judge_retries=1, train_size=N, backend="hf")
        distill.run_distill(cfg, "zero", "base", tmp_path / "pairs")
    stats = json.loads((tmp_path / "pairs" / "stats.json").read_text())
    assert stats["judge_counts"]["asked"] == 2 * N and stats["judge_counts"]["retries"] == 1
    assert stats["judge_counts"]["failures"] == 0 and stats["judge_counts_earlier_runs"] == {}


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
            "distill": {"samples": 8, "max_new_tokens": 32, "judge": "http", "judge_url": server.url},
            "eval": {"samples": 1, "ks": [1], "max_new_tokens": 8, "suites": ["world-id"]},
        }
    )
    try:
        run_dir = run_pipeline(cfg, tmp_path / "runs")
    except ValueError as e:  # a tiny model may find no pairs; the files written so far must still be clean
        assert "no pairs" in str(e)
        run_dir = tmp_path / "runs" / "keyed"
    assert server.posts > 0 and set(server.auth) == {f"Bearer {secret}"}
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "judge_cache.jsonl" for p in files) and any(p.name == "pipeline.log" for p in files)
    for p in files:
        assert secret.encode() not in p.read_bytes(), p
