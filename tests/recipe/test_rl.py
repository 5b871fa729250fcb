"""`specs rl`: GRPO from a cold start or the base, per-step signals, end-of-run ID/OOD evaluation, resume."""

from __future__ import annotations

import json

from specs_vl.recipe.rl import RLConfig, rl_curve, rollout_trend, run_rl

TINY = dict(
    steps=4,
    num_generations=4,
    prompts_per_step=2,
    max_completion_length=32,
    save_steps=2,
    train_size=16,
    eval_id_n=8,
    eval_ood_n=8,
)
LOGGED = ("reward", "reward_std", "format_rate", "accuracy", "completion_length", "entropy", "frac_reward_zero_std")


def test_rl_logs_every_signal_and_evaluates_at_the_end(tiny_base_dir, tiny_world, tmp_path):
    out = tmp_path / "rl"
    res = run_rl(RLConfig(**TINY, eval_every=2, eval_batch_size=3), tiny_base_dir, out, tiny_world, label="rl base")
    assert res["steps"] == 4
    curve = json.loads((out / "curve.json").read_text())
    assert [r["step"] for r in curve] == [1, 2, 3, 4]
    for row in curve:
        assert all(row[k] is not None for k in LOGGED), row
        assert 0 <= row["format_rate"] <= 1 and 0 <= row["accuracy"] <= 1 and 0 <= row["frac_reward_zero_std"] <= 1
        assert abs(row["reward"] - (0.5 * row["format_rate"] + row["accuracy"])) < 1e-4  # 0.5 fmt + 1.0 acc
    evals = json.loads((out / "eval_curve.json").read_text())
    assert [p["step"] for p in evals["points"]] == [0, 2, 4]
    assert evals["settings"]["batch_size"] == 3  # rl.eval_batch_size reaches the eval's generate calls
    for key in ("id", "ood"):
        assert set(res[key]) >= {"accuracy", "format_valid_rate", "strict_success"}
    assert (out / "rl_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model" / "model.safetensors").exists()


def test_rl_resumes_to_the_configured_step(tiny_base_dir, tiny_world, tmp_path):
    out = tmp_path / "rl"
    run_rl(RLConfig(**{**TINY, "steps": 2}), tiny_base_dir, out, tiny_world)
    res = run_rl(RLConfig(**TINY), tiny_base_dir, out, tiny_world)
    assert res["resumed_from"].endswith("checkpoint-2") and res["steps"] == 4
    steps = [r["step"] for r in json.loads((out / "curve.json").read_text())]
    assert steps == [1, 2, 3, 4]  # the log carries over the resume without gaps or repeats


def test_rl_curve_reads_rates_and_every_mini_batch_clip_fraction():
    log = [
        {
            "step": 1,
            "reward": 1.25,
            "rewards/format_reward/mean": 0.5,
            "rewards/accuracy_reward/mean": 1.0,
            "clip_ratio/region_mean": 0.0,
        },
        {"step": 2, "clip_ratio/region_mean": 0.25, "loss": 0.1},  # the second mini-batch: no reward keys
        {
            "step": 3,
            "reward": 0.5,
            "rewards/format_reward/mean": 1.0,
            "rewards/accuracy_reward/mean": 0.0,
            "clip_ratio/region_mean": 0.0,
        },
        {"step": 4, "clip_ratio/region_mean": 0.5},
        {"step": 4, "train_runtime": 3.0, "clip_ratio/region_mean": 0.9},
    ]
    first, second = rl_curve(log)
    assert first["format_rate"] == 0.5 and first["accuracy"] == 1.0 and first["entropy"] is None
    assert first["clip_fractions"] == [0.0, 0.25] and first["clip_fraction"] == 0.125
    assert second["clip_fractions"] == [0.0, 0.5]
    assert rollout_trend([first, second], 0.5) == {"first": 1.0, "last": 0.0, "gain": -1.0}


def test_too_little_data_for_one_step_is_a_clear_error(tiny_base_dir, tiny_world, tmp_path, tiny_pairs_dir):
    import pytest

    from specs_vl.recipe.coldstart import ColdstartConfig, run_coldstart
    from specs_vl.util.errors import DataError

    with pytest.raises(DataError, match="3 examples, fewer than the 4 prompts"):
        run_rl(RLConfig(**{**TINY, "train_size": 3, "prompts_per_step": 4}), tiny_base_dir, tmp_path / "rl", tiny_world)
    with pytest.raises(DataError, match=r"16 pairs, fewer than one batch of coldstart.batch_size=32"):
        run_coldstart(ColdstartConfig(batch_size=32), tiny_base_dir, tiny_pairs_dir, tmp_path / "cs", tiny_world)
    assert not (tmp_path / "cs").exists()
