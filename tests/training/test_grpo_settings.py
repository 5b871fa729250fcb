"""GRPO settings that learn (issue 27): every knob explicit, the frozen tower stays frozen, the update is signal.

The "can it overfit one batch" test of RL: on a few fixed prompts, GRPO must raise its own mean reward; the
random-reward control, which shares everything but the signal, must not.
"""

from __future__ import annotations

import json

import pytest

from specs_vl.recipe.rl import RLConfig, rl_curve, run_rl
from specs_vl.recipe.zero import run_zero
from specs_vl.recipe.zero_config import ZeroConfig
from specs_vl.training.grpo import grpo_args
from specs_vl.training.trainer import read_log


def _kind(args) -> str:
    return getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)


def test_every_training_knob_is_set_not_left_to_a_library_default(tmp_path):
    args = grpo_args(ZeroConfig(), tmp_path)
    # transformers' default is linear decay to 0; TRL 1.16 turns sequence_mask IS correction on by default
    assert _kind(args) == "constant"
    assert args.weight_decay == 0.0 and args.warmup_steps == 0.0
    assert args.vllm_importance_sampling_correction is False
    assert list(args.reward_weights) == [0.5, 1.0]  # rewards are logged unweighted, weighted by TRL
    tuned = grpo_args(
        ZeroConfig(
            lr_scheduler_type="cosine",
            warmup_ratio=0.1,
            weight_decay=0.01,
            is_correction="token_truncate",
            is_clip_max=2.0,
        ),
        tmp_path,
    )
    assert _kind(tuned) == "cosine" and tuned.warmup_steps == 0.1 and tuned.weight_decay == 0.01
    assert tuned.vllm_importance_sampling_correction is True
    assert tuned.vllm_importance_sampling_mode == "token_truncate" and tuned.vllm_importance_sampling_clip_max == 2.0
    warm = grpo_args(ZeroConfig(warmup_ratio=0.1), tmp_path)  # "constant" would ignore the warm-up
    assert _kind(warm) == "constant_with_warmup"


def test_the_learning_rate_stays_constant_over_the_run(tiny_base_dir, tiny_world, tmp_path):
    cfg = ZeroConfig(
        steps=3,
        num_generations=2,
        prompts_per_step=2,
        max_completion_length=8,
        learning_rate=1e-3,
        save_steps=100,
        train_size=8,
    )
    run_zero(cfg, tiny_base_dir, tmp_path / "zero", tiny_world)
    lrs = [r["learning_rate"] for r in read_log(tmp_path / "zero" / "log.jsonl") if "learning_rate" in r]
    assert lrs == [1e-3] * 3, lrs  # linear decay would log 1e-3, 6.7e-4, 3.3e-4


def _params(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_a_frozen_vision_tower_does_not_change(tiny_base_dir, tiny_world, tmp_path):
    cfg = ZeroConfig(
        steps=2,
        num_generations=4,
        prompts_per_step=2,
        max_completion_length=16,
        learning_rate=1e-2,
        save_steps=100,
        train_size=8,
        freeze_vision_tower=True,
    )
    run_zero(cfg, tiny_base_dir, tmp_path / "zero", tiny_world)
    before, after = _params(tiny_base_dir), _params(tmp_path / "zero" / "model")
    visual = [k for k in before if ".visual." in f".{k}"]
    assert visual and all((before[k] == after[k]).all() for k in visual)  # the tower, merger included
    rest = [k for k in before if k not in visual and k in after]
    assert any((before[k] != after[k]).any() for k in rest)  # the language model did train


def test_every_mini_batch_clip_fraction_reaches_the_curve(tiny_base_dir, tiny_world, tmp_path):
    cfg = RLConfig(
        steps=3,
        num_generations=4,
        prompts_per_step=2,
        mini_batch_prompts=1,
        max_completion_length=24,
        learning_rate=5e-2,
        save_steps=100,
        train_size=16,
        eval_id_n=4,
        eval_ood_n=4,
        eval_samples=1,
    )
    run_rl(cfg, tiny_base_dir, tmp_path / "rl", tiny_world)
    log = read_log(tmp_path / "rl" / "log.jsonl")
    logged = [r["clip_ratio/region_mean"] for r in log if "clip_ratio/region_mean" in r and "train_runtime" not in r]
    assert len(logged) == 6  # 3 rollout batches x 2 optimiser steps
    curve = json.loads((tmp_path / "rl" / "curve.json").read_text())
    assert [len(r["clip_fractions"]) for r in curve] == [2, 2, 2]
    assert [c for r in curve for c in r["clip_fractions"]] == logged  # each mini-batch's, in order, not the first
    assert all(r["clip_fractions"][0] == 0.0 for r in curve)  # the first mini-batch: ratio exactly 1
    # (that the second one clips is tests/training/test_training_semantics.py's check on the same batching)


@pytest.mark.parametrize("reward", ["specs", "random"])
def test_grpo_raises_its_own_reward_on_a_few_prompts_and_noise_does_not(reward, tiny_base_dir, tiny_world, tmp_path):
    cfg = RLConfig(
        steps=24,
        num_generations=8,
        prompts_per_step=2,
        max_completion_length=24,
        learning_rate=1e-3,
        scale_rewards="batch",
        save_steps=100,
        train_size=2,
        eval_id_n=2,
        eval_ood_n=2,
        eval_samples=1,
        reward=reward,
        seed=0,
    )
    run_rl(cfg, tiny_base_dir, tmp_path / "rl", tiny_world)
    curve = rl_curve(read_log(tmp_path / "rl" / "log.jsonl"))
    rewards = [r["reward"] for r in curve]
    gain = sum(rewards[-6:]) / 6 - sum(rewards[:6]) / 6
    if reward == "specs":
        assert gain > 0.15, rewards  # signal: the policy climbs its own reward
    else:
        assert gain < 0.15, rewards  # the same updates without the signal do not


def test_lora_grpo_saves_a_merged_model_and_leaves_a_frozen_tower_alone(tiny_base_dir, tiny_world, tmp_path):
    from specs_vl.models.load import load_vlm
    from specs_vl.training.lora import LoraSettings

    cfg = ZeroConfig(
        steps=2,
        num_generations=4,
        prompts_per_step=2,
        max_completion_length=16,
        learning_rate=1e-2,
        save_steps=100,
        train_size=8,
        freeze_vision_tower=True,
        lora=LoraSettings(r=4, alpha=8),
    )
    run_zero(cfg, tiny_base_dir, tmp_path / "zero", tiny_world)
    model_dir = tmp_path / "zero" / "model"
    assert not (model_dir / "adapter_config.json").exists()  # merged: RL, eval and export read a plain model
    before, after = _params(tiny_base_dir), _params(model_dir)
    assert set(after) == set(before)  # no lora_A / lora_B left, no key renamed by the peft wrapper
    visual = [k for k in before if ".visual." in f".{k}"]
    assert visual and all((before[k] == after[k]).all() for k in visual)  # no adapter on the frozen tower
    changed = [k for k in before if k not in visual and (before[k] != after[k]).any()]
    assert changed and all(k.endswith("_proj.weight") for k in changed), changed  # adapters' layers only
    load_vlm(model_dir)  # reloads as the class it was, every weight found


def test_lora_under_zero3_merges_from_the_gathered_adapter_to_the_same_weights(
    monkeypatch, tiny_base_dir, tiny_world, tmp_path
):
    """Under ZeRO-3 every rank saves the adapter (the gather is collective) and the main process merges it
    into a fresh copy of the base: the same weights as the in-place merge of a one-process run."""
    from pathlib import Path

    import torch
    from trl import GRPOTrainer

    from specs_vl.training import trainer as training
    from specs_vl.training.lora import LoraSettings

    cfg = ZeroConfig(
        steps=2,
        num_generations=4,
        prompts_per_step=2,
        max_completion_length=16,
        learning_rate=1e-2,
        save_steps=100,
        train_size=8,
        lora=LoraSettings(r=4, alpha=8),
    )
    run_zero(cfg, tiny_base_dir, tmp_path / "plain", tiny_world)
    monkeypatch.setattr(training, "zero3", lambda: True)
    saved, real_save = [], GRPOTrainer.save_model
    monkeypatch.setattr(GRPOTrainer, "save_model", lambda self, d=None, **k: saved.append(d) or real_save(self, d, **k))
    run_zero(cfg, tiny_base_dir, tmp_path / "zero3", tiny_world)
    assert Path(saved[-1]).name == ".model.partial.adapter"  # the gathered adapter, then the merge
    plain, gathered = _params(tmp_path / "plain" / "model"), _params(tmp_path / "zero3" / "model")
    assert set(plain) == set(gathered) == set(_params(tiny_base_dir))  # a plain checkpoint, no adapter keys
    assert all(torch.allclose(plain[k], gathered[k], atol=1e-6) for k in plain)
    assert any((plain[k] != _params(tiny_base_dir)[k]).any() for k in plain)  # and it did train
    assert not list((tmp_path / "zero3").glob(".model*"))  # no adapter or partial dir left behind
