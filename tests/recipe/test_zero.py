"""`specs zero`: TRL GRPO on the tiny VLM, per-step logs, resume, clear errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from specs_vl.cli.app import app
from specs_vl.recipe.zero import run_zero
from specs_vl.recipe.zero_config import ZeroConfig

runner = CliRunner()
TINY = dict(steps=4, num_generations=4, prompts_per_step=2, max_completion_length=40, save_steps=2, train_size=16)


def test_zero_trains_logs_and_saves(tiny_base_dir, tiny_world, tmp_path):
    from specs_vl.models.load import load_vlm

    res = run_zero(ZeroConfig(**TINY), tiny_base_dir, tmp_path / "zero", tiny_world)
    assert res["steps"] == 4
    log = [json.loads(line) for line in (tmp_path / "zero" / "log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "reward" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    for r in steps:
        assert {"rewards/format_reward/mean", "rewards/accuracy_reward/mean"} <= set(r)
        fmt, acc = r["rewards/format_reward/mean"], r["rewards/accuracy_reward/mean"]
        assert r["reward"] == pytest.approx(0.5 * fmt + 1.0 * acc, abs=1e-4)  # GRPOConfig.reward_weights
        # logged unweighted: each is a rate over the step's 8 completions (a weight baked in would halve it)
        assert (fmt * 8) == pytest.approx(round(fmt * 8)) and (acc * 8) == pytest.approx(round(acc * 8))
    model, _ = load_vlm(tmp_path / "zero" / "model")
    base, _ = load_vlm(tiny_base_dir)
    moved = any((a - b).abs().max() > 0 for a, b in zip(model.parameters(), base.parameters()))
    assert moved  # GRPO changed the weights


def test_zero_resumes_to_the_same_final_step(tiny_base_dir, tiny_world, tmp_path):
    out = tmp_path / "zero"
    run_zero(ZeroConfig(**{**TINY, "steps": 2}), tiny_base_dir, out, tiny_world)
    assert (out / "checkpoints" / "checkpoint-2").exists()
    res = run_zero(ZeroConfig(**TINY), tiny_base_dir, out, tiny_world, resume=True)
    assert res["resumed_from"].endswith("checkpoint-2") and res["steps"] == 4


def test_zero_bad_inputs(tmp_path, tiny_base_dir):
    text_only = tmp_path / "lm"
    text_only.mkdir()
    (text_only / "config.json").write_text(json.dumps({"model_type": "llama"}))
    res = runner.invoke(app, ["zero", "--base", str(text_only), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "text-only" in res.output
    from datasets import Dataset
    from PIL import Image

    bad = tmp_path / "bad"
    Dataset.from_list([{"image": Image.new("RGB", (28, 28)), "question": "q?"}]).save_to_disk(str(bad))
    res = runner.invoke(app, ["zero", "--base", str(tiny_base_dir), "--data", str(bad), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "row 0" in res.output and "'answer'" in res.output
    assert not (tmp_path / "o2" / "model").exists()
