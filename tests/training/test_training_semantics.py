"""Issue 15 on the tiny model: clip-higher acts with mini-batches, over-length pairs are dropped (not cut),
and a precomputed reference leaves no second copy of the weights."""

from __future__ import annotations

import json

from specs_vl.recipe.zero import run_zero
from specs_vl.recipe.zero_config import ZeroConfig


def test_mini_batches_make_clip_higher_act_and_it_is_logged(tiny_base_dir, tiny_world, tmp_path):
    # 2 prompts per rollout, 1 per optimiser step: the second step trains on completions sampled before the
    # first update, so TRL keeps their old log-probs and the ratio can leave [1 - eps, 1 + eps_high].
    cfg = ZeroConfig(
        steps=3,
        num_generations=4,
        prompts_per_step=2,
        mini_batch_prompts=1,
        max_completion_length=24,
        learning_rate=5e-2,
        save_steps=100,
        train_size=16,
    )
    res = run_zero(cfg, tiny_base_dir, tmp_path / "zero", tiny_world)
    assert res["steps"] == 6  # 3 rollout batches x 2 optimiser steps
    log = [json.loads(line) for line in (tmp_path / "zero" / "log.jsonl").read_text().splitlines()]
    clip = [r["clip_ratio/region_mean"] for r in log if "clip_ratio/region_mean" in r]
    assert len(clip) == 6 and all("clip_ratio/high_mean" in r for r in log if "clip_ratio/region_mean" in r)
    assert max(clip) > 0, clip  # the clip bound some tokens
    assert sum(1 for r in log if "reward" in r) == 3  # one generation per rollout batch


def test_on_policy_default_never_clips(tiny_base_dir, tiny_world, tmp_path):
    cfg = ZeroConfig(
        steps=2,
        num_generations=4,
        prompts_per_step=2,
        max_completion_length=24,
        learning_rate=5e-2,
        save_steps=100,
        train_size=16,
    )
    run_zero(cfg, tiny_base_dir, tmp_path / "zero", tiny_world)
    log = [json.loads(line) for line in (tmp_path / "zero" / "log.jsonl").read_text().splitlines()]
    assert [r["clip_ratio/region_mean"] for r in log if "clip_ratio/region_mean" in r] == [0.0, 0.0]


def test_over_length_pairs_are_dropped_and_counted(tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path):
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart import ColdstartConfig, run_coldstart
    from specs_vl.training.pair_length import drop_long_pairs, pair_lengths

    _, processor = load_vlm(tiny_base_dir)
    pairs = load_from_disk(str(tiny_pairs_dir))
    lengths = pair_lengths(pairs, processor)
    cut = sorted(lengths)[len(lengths) // 2]
    kept, dropped = drop_long_pairs(pairs, processor, cut)
    assert dropped == sum(n > cut for n in lengths) > 0 and len(kept) == len(pairs) - dropped
    assert max(pair_lengths(kept, processor)) <= cut
    assert all(r["chosen"][0]["content"].rstrip().endswith("</answer>") for r in kept)  # whole, end included
    cfg = ColdstartConfig(
        method="dpo-sft",
        batch_size=4,
        max_steps=1,
        max_length=cut,
        curve_every=0,
        curve_id_n=2,
        curve_ood_n=2,
        save_steps=100,
    )
    res = run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, tmp_path / "cs", tiny_world)
    assert res["pairs_too_long"] == dropped and res["pairs"] == len(kept)
    first = json.loads((tmp_path / "cs" / "log.jsonl").read_text().splitlines()[0])
    assert first["pairs_dropped_too_long"] == dropped


def _unique_weights(trainer) -> int:
    """Parameters reachable from the trainer and its accelerator, each storage counted once."""
    import torch

    modules = [
        trainer.model,
        trainer.ref_model,
        getattr(trainer, "_precompute_engine", None),
        *trainer.accelerator._models,
    ]
    seen = {}
    for m in modules:
        if isinstance(m, torch.nn.Module):
            for p in m.parameters():
                seen[p.data_ptr()] = p.numel()
    return sum(seen.values())


def test_precomputed_reference_leaves_one_copy_of_the_weights(tiny_base_dir, tiny_pairs_dir, tmp_path):
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart import ColdstartConfig, make_trainer

    counts = {}
    for pre in (False, True):
        model, processor = load_vlm(tiny_base_dir)
        cfg = ColdstartConfig(
            method="dpo-sft", batch_size=4, max_steps=1, curve_every=0, precompute_ref=pre, save_steps=100
        )
        trainer = make_trainer(cfg, model, processor, load_from_disk(str(tiny_pairs_dir)), tmp_path / str(pre), [])
        counts[pre] = _unique_weights(trainer) / sum(p.numel() for p in model.parameters())
        if pre:
            assert trainer.ref_model is None
            assert len(trainer.train_dataset["ref_chosen_logps"]) == len(load_from_disk(str(tiny_pairs_dir)))
    assert counts == {False: 2.0, True: 1.0}  # TRL's live reference is a full copy; precomputed, none is kept
