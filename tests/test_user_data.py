"""Issue 18's must-show: the whole recipe on the user's own 20-row JSONL + PNG dataset, from the command line.

The GF curve and the RL evaluation must score the test's own ID and OOD files (never the world), the
command-line overrides must reach the stages, a changed config must be refused, and `specs eval` must
write a new directory per evaluation with the model, its hash and the tool version recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from specs_vl.cli import app
from specs_vl.world import WorldConfig, build_split

ID, OOD_A, OOD_B = "data:mydata/heldout_id.jsonl", "data:mydata/ood_a.jsonl", "data:mydata/ood_b.jsonl"
OVERRIDES = ["zero.steps=2", "zero.num_generations=4", "zero.prompts_per_step=2", "zero.max_completion_length=24",
             "distill.samples=8", "distill.max_new_tokens=24", "distill.judge=none",
             "coldstart.batch_size=1", "coldstart.max_steps=2", "coldstart.learning_rate=1e-3",
             "coldstart.curve_every=0", "coldstart.curve_samples=2",
             "rl.steps=1", "rl.num_generations=2", "rl.prompts_per_step=2", "rl.max_completion_length=16",
             "rl.eval_samples=2", "rl.eval_max_new_tokens=16"]


def write_dataset(root: Path, name: str, split: str, n: int, offset: int = 0) -> int:
    """n rows of JSONL with PNG files beside it, image paths relative to the JSONL file."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, ex in enumerate(build_split(WorldConfig(seed=7), split, n + offset)[offset:]):
        img = f"images/{name}-{i}.png"
        ex["image"].save(root / img)
        row = {"image": img, "question": ex["question"], "answer": ex["answer"], "answer_type": ex["answer_type"]}
        if ex.get("choices"):
            row["choices"] = ex["choices"]
        lines.append(json.dumps(row))
    (root / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return n


def run(*args: str) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def user_run(tmp_path_factory, tiny_base_dir):
    root = tmp_path_factory.mktemp("byod")
    data = root / "mydata"
    sizes = {"train": write_dataset(data, "train", "train", 20), "id": write_dataset(data, "heldout_id", "id_test", 6),
             "ood_a": write_dataset(data, "ood_a", "ood_test", 4), "ood_b": write_dataset(data, "ood_b", "ood_test", 3, 4)}
    cfg = {"name": "mine", "base_model": str(tiny_base_dir),
           "zero": {"data": "mydata/train.jsonl"}, "distill": {"data": "mydata/train.jsonl"},
           "rl": {"data": "mydata/train.jsonl", "eval_id": ID, "eval_ood": [OOD_A, OOD_B]},
           "coldstart": {"curve_id": ID, "curve_ood": [OOD_A, OOD_B]}}
    (root / "mine.yaml").write_text(yaml.safe_dump(cfg))
    return root, sizes


def test_the_whole_recipe_on_the_users_files_with_command_line_overrides(user_run, monkeypatch):
    root, sizes = user_run
    monkeypatch.chdir(root)
    for stage in (["zero"], ["distill"], ["coldstart", "--method", "dpo-sft"], ["rl", "--from", "dpo-sft"]):
        res = run(*stage, "-c", "mine.yaml", *OVERRIDES)
        assert res.exit_code == 0, (stage, res.output)
    run_dir = root / "runs" / "mine"
    # the overrides reached the stages (the config file says none of these)
    assert json.loads((run_dir / "zero" / "result.json").read_text())["steps"] == 2
    cold = json.loads((run_dir / "coldstart-dpo-sft" / "result.json").read_text())
    assert cold["steps"] == 2
    assert json.loads((run_dir / "coldstart-dpo-sft" / "stage.json").read_text())["settings"]["coldstart"][
        "learning_rate"] == 1e-3
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
        assert h in card and str(root / "runs") not in card.split("## Config")[0] or h in card
        assert "| stage |" in card and "## Key metrics" in card
    assert "mydata/train.jsonl" in (run_dir / "zero" / "model" / "README.md").read_text()


def test_a_changed_config_is_refused_and_an_unchanged_one_is_not_redone(user_run, monkeypatch):
    root, _ = user_run
    monkeypatch.chdir(root)
    result = root / "runs" / "mine" / "zero" / "result.json"
    before = result.read_bytes()
    changed = [o if o != "zero.steps=2" else "zero.steps=3" for o in OVERRIDES]
    res = run("zero", "-c", "mine.yaml", *changed)
    assert res.exit_code == 2
    assert "different config" in res.output and "zero.steps 2 -> 3" in res.output and "--restart" in res.output
    assert result.read_bytes() == before
    res = run("zero", "-c", "mine.yaml", *OVERRIDES)
    assert res.exit_code == 0 and "already complete" in res.output
    assert result.read_bytes() == before


def test_eval_on_the_users_file_never_collides_and_records_the_model(user_run, monkeypatch):
    root, sizes = user_run
    monkeypatch.chdir(root)
    model = root / "runs" / "mine" / "rl-dpo-sft" / "model"
    outs = []
    for _ in range(2):
        res = run("eval", model, "--suite", "data", "--data", "mydata/heldout_id.jsonl", "--samples", "2",
                  "--k", "1,2", "--max-new-tokens", "16")
        assert res.exit_code == 0, res.output
        outs.append(Path(res.output.strip().splitlines()[-1].removeprefix("wrote ")).parent)
    assert outs[0] != outs[1] and outs[0].name.startswith("mine_rl-dpo-sft_data-heldout_id")
    metrics = json.loads((outs[1] / "metrics.json").read_text())
    assert metrics["run"]["model"] == str(model.resolve()) and len(metrics["run"]["model_fingerprint"]) == 16
    assert metrics["run"]["tool_version"] and metrics["run"]["settings"]["samples"] == 2
    assert metrics["overall"]["n_prompts"] == sizes["id"]
    rows = [json.loads(x) for x in (outs[1] / "generations.jsonl").read_text().splitlines()]
    gold = [json.loads(x)["answer"] for x in (root / "mydata" / "heldout_id.jsonl").read_text().splitlines()]
    assert sorted({r["gold"] for r in rows}) == sorted(set(gold))
    assert all(r["question"] and r["verdict"] in ("strict", "correct", "wrong", "no-answer") for r in rows)
    res = run("eval", model, "--suite", "world-id", "--data", "mydata/heldout_id.jsonl")
    assert res.exit_code == 2 and "--suite data" in res.output
