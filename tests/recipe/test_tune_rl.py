"""The GRPO settings rule (recipe/tune_rl.py): fixed before it runs, judged on dev against start and control."""

from __future__ import annotations

from specs_vl.recipe.rl import RLConfig
from specs_vl.recipe.tune_rl import TuneRLSettings, choose, setting_config


def _row(lr, prompts, frozen, acc, control):
    return {"lr": lr, "prompts": prompts, "frozen": frozen, "accuracy": acc, "control": control}


def test_the_rule_needs_a_gain_over_both_the_start_and_the_control():
    s = TuneRLSettings(margin=0.02, tie=0.005)
    rows = [
        _row(1e-4, 4, False, 0.70, 0.69),  # best accuracy, but no better than its own noise control
        _row(3e-5, 4, False, 0.66, 0.60),  # beats its control, not the start (0.65) by the margin
        _row(1e-5, 8, True, 0.68, 0.62),
        _row(3e-5, 4, True, 0.678, 0.60),
    ]  # within the tie of 0.68 and cheaper: fewer prompts
    assert choose(rows, start=0.65, s=s) == rows[3]
    assert choose(rows[:2], start=0.65, s=s) is None  # nothing learned: the config's settings stay


def test_a_grid_point_sets_its_batch_and_reads_dev_only():
    s = TuneRLSettings(mini_batches=2, steps=7)
    cfg = setting_config(RLConfig(), s, 3e-5, 8, True, "random")
    assert (cfg.prompts_per_step, cfg.mini_batch_prompts, cfg.steps) == (16, 8, 7)
    assert cfg.freeze_vision_tower and cfg.reward == "random" and cfg.learning_rate == 3e-5
    assert cfg.eval_id == "world-dev" and cfg.eval_ood == ["world-dev"]
    assert cfg.batching(1).optimizer_steps_per_rollout == 2


def test_a_lora_grid_point_trains_adapters_at_the_rules_alpha():
    s = TuneRLSettings(lora_ranks=[0, 8], lora_alpha=16)
    assert setting_config(RLConfig(), s, 1e-4, 4, True, "specs").lora is None  # rank 0: every weight
    lora = setting_config(RLConfig(), s, 1e-4, 4, True, "specs", 8).lora
    assert (lora.r, lora.alpha) == (8, 16)
