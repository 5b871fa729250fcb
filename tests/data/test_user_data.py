"""Issue 18's must-show: the whole recipe on the user's own 20-row JSONL + PNG dataset, from the command line.

The GF curve and the RL evaluation must score the test's own ID and OOD files (never the world), the
command-line overrides must reach the stages, a changed config must be refused, and `specs eval` must
write a new directory per evaluation with the model, its hash and the tool version recorded.
"""

from __future__ import annotations

import json
import os
import runpy
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from specs_vl.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bring_your_own_data"
ID, OOD_A, OOD_B = "data:mydata/heldout_id.jsonl", "data:mydata/ood_a.jsonl", "data:mydata/ood_b.jsonl"
# Given on the command line: a tiny model and fewer steps than examples/bring_your_own_data/mine.yaml says.
OVERRIDES = [
    "zero.steps=2",
    "zero.prompts_per_step=2",
    "zero.max_completion_length=48",
    "distill.max_new_tokens=48",
    "distill.samples=16",
    "coldstart.batch_size=1",
    "coldstart.max_steps=2",
    "coldstart.learning_rate=1e-3",
    "coldstart.curve_every=0",
    "coldstart.curve_samples=2",
    "rl.steps=1",
    "rl.num_generations=2",
    "rl.max_completion_length=16",
    "rl.eval_samples=2",
    "rl.eval_max_new_tokens=16",
]


def walkthrough() -> list[list[str]]:
    """The `specs ...` lines of the example's run.sh, with "$@" (the user's overrides) left as a marker."""
    return [
        shlex.split(line)[1:] for line in (EXAMPLE / "run.sh").read_text().splitlines() if line.startswith("specs ")
    ]


def run(*args: str) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def user_run(tmp_path_factory, tiny_base_dir):
    """The walkthrough, run as its README says, in a fresh directory; returns (dir, rows per file, outputs)."""
    root = tmp_path_factory.mktemp("byod")
    for f in ("mine.yaml", "make_data.py"):
        shutil.copy(EXAMPLE / f, root / f)
    overrides = [f"base_model={tiny_base_dir}", *OVERRIDES]
    old = Path.cwd()
    os.chdir(root)
    try:
        sizes = runpy.run_path(str(root / "make_data.py"))["main"]("mydata")
        outputs = []
        for cmd in walkthrough():
            args = [a for c in cmd for a in (overrides if c == "$@" else [c])]
            res = run(*args)
            assert res.exit_code == 0, (cmd, res.output)
            outputs.append(res.output)
    finally:
        os.chdir(old)
    return root, sizes, outputs


def test_the_whole_recipe_on_the_users_files_with_command_line_overrides(user_run):
    root, sizes, outputs = user_run
    assert [c[0] for c in walkthrough()] == ["config", "zero", "distill", "coldstart", "rl", "eval"]
    assert yaml.safe_load(outputs[0])["coldstart"]["max_steps"] == 2  # config show: file + overrides
    sizes = {"id": sizes["heldout_id"], "ood_a": sizes["ood_a"], "ood_b": sizes["ood_b"]}
    run_dir = root / "runs" / "mine"
    # the overrides reached the stages (the config file says none of these)
    assert json.loads((run_dir / "zero" / "result.json").read_text())["steps"] == 2
    cold = json.loads((run_dir / "coldstart-dpo-sft" / "result.json").read_text())
    assert cold["steps"] == 2
    assert (
        json.loads((run_dir / "coldstart-dpo-sft" / "stage.json").read_text())["settings"]["coldstart"]["learning_rate"]
        == 1e-3
    )
    # the GF curve and the RL evaluation scored the test's own files, and only them
    expected = {ID: ("id", sizes["id"]), OOD_A: ("ood", sizes["ood_a"]), OOD_B: ("ood", sizes["ood_b"])}
    for curve_file in (run_dir / "coldstart-dpo-sft" / "gf_curve.json", run_dir / "rl-dpo-sft" / "eval_curve.json"):
        curve = json.loads(curve_file.read_text())
        assert curve["settings"]["sets"] == {k: v[0] for k, v in expected.items()}
        assert curve["settings"]["samples"] == 2 and curve["settings"]["temperature"] == 1.0
        assert len(curve["points"]) == 2
        for p in curve["points"]:
            assert set(p["sets"]) == set(expected)
            for name, (role, n) in expected.items():
                s = p["sets"][name]
                assert s["role"] == role and len(s["per_prompt"]["psi"]) == n == len(s["per_prompt"]["format_valid"])
                assert s["psi"] == pytest.approx(sum(s["per_prompt"]["psi"]) / n)
            assert p["psi_id"] == p["sets"][ID]["psi"]
            assert p["psi_ood"] == pytest.approx((p["sets"][OOD_A]["psi"] + p["sets"][OOD_B]["psi"]) / 2)
    # a model card in every final model/
    for stage in ("zero", "coldstart-dpo-sft", "rl-dpo-sft"):
        card = (run_dir / stage / "model" / "README.md").read_text()
        h = json.loads((run_dir / stage / "stage.json").read_text())["hash"]
        assert h in card and "| base model | `" in card
        assert "| stage |" in card and "## Key metrics" in card
    assert "mydata/train.jsonl" in (run_dir / "zero" / "model" / "README.md").read_text()


def test_a_changed_config_is_refused_and_an_unchanged_one_is_not_redone(user_run, monkeypatch, tiny_base_dir):
    root, _, _ = user_run
    monkeypatch.chdir(root)
    result = root / "runs" / "mine" / "zero" / "result.json"
    before = result.read_bytes()
    same = [f"base_model={tiny_base_dir}", *OVERRIDES]
    changed = [o if o != "zero.steps=2" else "zero.steps=3" for o in same]
    res = run("zero", "-c", "mine.yaml", *changed)
    assert res.exit_code == 2
    assert "different config" in res.output and "zero.steps 2 -> 3" in res.output and "--restart" in res.output
    assert result.read_bytes() == before
    res = run("zero", "-c", "mine.yaml", *same)
    assert res.exit_code == 0 and "already complete" in res.output
    assert result.read_bytes() == before


def test_eval_on_the_users_file_never_collides_and_records_the_model(user_run, monkeypatch):
    root, sizes, outputs = user_run
    monkeypatch.chdir(root)
    model = root / "runs" / "mine" / "rl-dpo-sft" / "model"
    outs = [Path(outputs[-1].strip().splitlines()[-1].removeprefix("wrote ")).parent]  # the walkthrough's eval
    res = run(
        "eval",
        "runs/mine/rl-dpo-sft/model",
        "--suite",
        "data",
        "--data",
        "mydata/heldout_id.jsonl",
        "--samples",
        "2",
        "--k",
        "1,2",
        "--max-new-tokens",
        "16",
    )
    assert res.exit_code == 0, res.output
    outs.append(Path(res.output.strip().splitlines()[-1].removeprefix("wrote ")).parent)
    assert outs[0] != outs[1] and outs[0].name.startswith("mine_rl-dpo-sft_data-heldout_id")
    metrics = json.loads((outs[1] / "metrics.json").read_text())
    assert metrics["run"]["model"] == str(model.resolve()) and len(metrics["run"]["model_fingerprint"]) == 16
    assert metrics["run"]["tool_version"] and metrics["run"]["settings"]["samples"] == 2
    assert metrics["overall"]["n_prompts"] == sizes["heldout_id"]
    rows = [json.loads(x) for x in (outs[1] / "generations.jsonl").read_text().splitlines()]
    gold = [json.loads(x)["answer"] for x in (root / "mydata" / "heldout_id.jsonl").read_text().splitlines()]
    assert sorted({r["gold"] for r in rows}) == sorted(set(gold))
    assert all(r["question"] and r["verdict"] in ("strict", "correct", "wrong", "no-answer") for r in rows)
    res = run("eval", model, "--suite", "world-id", "--data", "mydata/heldout_id.jsonl")
    assert res.exit_code == 2 and "drop --suite to score mydata/heldout_id.jsonl" in res.output
