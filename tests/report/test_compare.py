"""`specs compare`: paired differences with bootstrap intervals, read from the files `specs eval` writes."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from specs_vl.cli.app import app
from specs_vl.cli.compare_cmds import EvalRun, compare_runs, forest_rows
from specs_vl.evaluation.stats import paired_difference

runner = CliRunner()


def write_eval(d, suite, correct_by_prompt, samples=2):
    d.mkdir(parents=True)
    rows = [
        {
            "id": f"p{i}",
            "sample": s,
            "correct": bool(c[s] if isinstance(c, list) else c),
            "valid": True,
            "strict": False,
            "length": 10,
        }
        for i, c in enumerate(correct_by_prompt)
        for s in range(samples)
    ]
    (d / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "metrics.json").write_text(json.dumps({"suite": suite}))
    return d


def test_a_clear_difference_is_read_as_one(tmp_path):
    write_eval(tmp_path / "runs" / "good" / "eval" / "mmmu", "mmmu", [1] * 40)
    bad = write_eval(tmp_path / "runs" / "bad" / "eval" / "mmmu", "mmmu", [1, 0] * 20)
    md, png = tmp_path / "cmp.md", tmp_path / "cmp.png"
    res = runner.invoke(
        app, ["compare", str(tmp_path / "runs" / "good"), str(bad), "--markdown", str(md), "--plot", str(png)]
    )
    assert res.exit_code == 0, res.output
    assert "| mmmu |" in res.output and "+0.500" in res.output and "a > b" in res.output
    assert md.read_text() == res.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_samples_stay_together_and_match_the_stats_module():
    a = EvalRun("a", "s", {"p0": 1.0, "p1": 0.5, "p2": 0.0, "p3": 1.0})
    b = EvalRun("b", "s", {"p0": 0.5, "p1": 0.5, "p2": 0.5, "p3": 0.0})
    [row] = compare_runs([a, b], n_boot=500, seed=3)
    iv = paired_difference([np.array([1.0, 0.5, 0.0, 1.0])], [np.array([0.5, 0.5, 0.5, 0.0])], n_boot=500, rng=3)
    assert (row["difference"], row["low"], row["high"]) == (iv.estimate, iv.low, iv.high)
    assert row["prompts"] == 4 and row["verdict"] == "no clear difference"


def test_only_shared_prompts_and_same_suite_are_paired():
    a = EvalRun("a", "s", {"p0": 1.0, "p1": 1.0, "p2": 1.0})
    b = EvalRun("b", "s", {"p1": 0.0, "p2": 0.0})
    c = EvalRun("c", "other", {"p0": 0.0})
    rows = compare_runs([a, b, c], n_boot=200)
    assert len(rows) == 1 and rows[0]["prompts"] == 2 and "2 prompts" in rows[0]["note"]


def test_bad_input_is_one_error_line(tmp_path):
    res = runner.invoke(app, ["compare", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "error:" in res.output and "missing" in res.output
    d = write_eval(tmp_path / "e1", "mmmu", [1, 0])
    with open(d / "generations.jsonl", "a") as f:
        f.write('{"id": "p9", "sample": 0}\n')
    write_eval(tmp_path / "e2", "mmmu", [1, 0])
    res = runner.invoke(app, ["compare", str(d), str(tmp_path / "e2")])
    assert res.exit_code == 2 and "row 5" in res.output and "'correct'" in res.output
    alone = write_eval(tmp_path / "alone", "mmmu", [1])
    res = runner.invoke(app, ["compare", str(alone), "--markdown", str(tmp_path / "t.md")])
    assert res.exit_code == 2 and "nothing to compare" in res.output and not (tmp_path / "t.md").exists()


def test_the_forest_plot_goes_beside_the_markdown_with_a_row_per_pair(tmp_path):
    write_eval(tmp_path / "a" / "eval" / "mmmu", "mmmu", [1] * 30)
    write_eval(tmp_path / "b" / "eval" / "mmmu", "mmmu", [1, 0] * 15)
    write_eval(tmp_path / "c" / "eval" / "mmmu", "mmmu", [0] * 30)
    md = tmp_path / "out" / "cmp.md"
    res = runner.invoke(app, ["compare", *(str(tmp_path / x) for x in "abc"), "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    png = md.with_name("cmp.forest.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert res.exit_code == 0 and not list(tmp_path.glob("*.png"))  # stdout only: nothing written


def test_forest_rows_follow_the_table_and_keep_an_untestable_pair():
    a = EvalRun("a", "s", {"p0": 1.0, "p1": 1.0, "p2": 1.0, "p3": 1.0})
    b = EvalRun("b", "s", {"p0": 0.0, "p1": 0.0, "p2": 0.0, "p3": 0.0})
    c = EvalRun("c", "s", {"q9": 0.0})
    rows = compare_runs([a, b, c], n_boot=200)
    fr = forest_rows(rows)
    assert [r["label"] for r in fr] == [f"s: {r['a']} − {r['b']}" for r in rows] == ["s: a − b", "s: a − c", "s: b − c"]
    assert fr[0]["verdict"] == "held" and fr[0]["low"] == rows[0]["low"] and fr[0]["estimate"] == 1.0
    assert fr[1]["verdict"] == "not testable" and fr[1]["low"] is None and fr[1]["estimate"] is None
