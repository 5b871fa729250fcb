"""`specs coldstart`: the three methods train through TRL, the GF curve is recorded, DPO sees the image grid."""

from __future__ import annotations

import json

import pytest

from specs_vl.recipe.coldstart import ColdstartConfig, make_trainer, run_coldstart

TINY = dict(batch_size=4, max_steps=6, learning_rate=2e-3, save_steps=3, curve_every=3, curve_id_n=8, curve_ood_n=8)


def _log(out):
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["dpo-sft", "dpo", "sft"])
def test_each_method_trains_and_moves_its_loss(method, tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path):
    out = tmp_path / method
    res = run_coldstart(ColdstartConfig(method=method, **TINY), tiny_base_dir, tiny_pairs_dir, out, tiny_world)
    assert res["steps"] == 6
    losses = [r["loss"] for r in _log(out) if "loss" in r]
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < losses[0], losses  # the loss went down, not just moved
    curve = json.loads((out / "gf_curve.json").read_text())
    assert [p["step"] for p in curve["points"]] == [0, 3, 6]
    assert curve["method"] == method and curve["psi"] == "strict"
    first = curve["points"][0]
    assert first["g_id"] == 0 and first["g_ood"] == 0 and first["gf"] is None  # GF undefined at no gain
    for p in curve["points"]:
        assert 0 <= p["psi_id"] <= 100 and 0 <= p["psi_ood"] <= 100
        assert p["psi_id"] == pytest.approx(100 * p["id"]["strict_success"])
    assert (out / "gf_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model" / "config.json").exists()


def test_dpo_sft_grows_the_chosen_margin_and_logs_both_losses(tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path):
    out = tmp_path / "c"
    run_coldstart(
        ColdstartConfig(method="dpo-sft", **{**TINY, "curve_every": 0}), tiny_base_dir, tiny_pairs_dir, out, tiny_world
    )
    log = [r for r in _log(out) if "rewards/margins" in r]
    margins = [r["rewards/margins"] for r in log]
    assert abs(margins[0]) < 1e-3  # policy == reference at the first step
    assert margins[-1] > margins[0] + 0.05, margins


def test_dpo_receives_image_grid_thw_and_matching_pixels(tiny_base_dir, tiny_pairs_dir, tmp_path):
    """The trap: DPO collators that drop image_grid_thw make Qwen2.5-VL mis-place image features."""
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm

    for method in ("dpo-sft", "sft"):
        model, processor = load_vlm(tiny_base_dir)
        seen = []

        def spy(module, args, kwargs):
            seen.append({k: v for k, v in kwargs.items() if k in ("pixel_values", "image_grid_thw", "input_ids")})  # noqa: B023 - called before the loop moves on

        model.register_forward_pre_hook(spy, with_kwargs=True)
        cfg = ColdstartConfig(method=method, batch_size=2, max_steps=1, curve_every=0)
        trainer = make_trainer(cfg, model, processor, load_from_disk(str(tiny_pairs_dir)), tmp_path / method, [])
        trainer.train()
        assert seen, method
        for call in seen:
            grid = call.get("image_grid_thw")
            assert grid is not None, f"{method}: image_grid_thw did not reach the model"
            assert call["pixel_values"].shape[0] == int(grid.prod(-1).sum())
            merge = processor.image_processor.merge_size**2
            n_tokens = int((call["input_ids"] == model.config.image_token_id).sum())
            assert n_tokens == int(grid.prod(-1).sum()) // merge  # one placeholder per merged patch


def test_bad_config_values_are_refused():
    from pydantic import ValidationError

    for bad in ({"method": "ppo"}, {"learning_rate": -1.0}, {"unknown_key": 1}, {"batch_size": "eight"}):
        with pytest.raises(ValidationError):
            ColdstartConfig(**bad)


def test_precomputed_reference_gives_the_live_reference_losses(tiny_base_dir, tiny_pairs_dir, tmp_path):
    """TRL refuses precompute for vision data; ours must match the live reference step for step."""
    from datasets import load_from_disk

    from specs_vl.models.load import load_vlm

    losses = {}
    for pre in (False, True):
        model, processor = load_vlm(tiny_base_dir)
        cfg = ColdstartConfig(
            method="dpo-sft",
            batch_size=4,
            max_steps=3,
            curve_every=0,
            precompute_ref=pre,
            learning_rate=2e-3,
            save_steps=100,
        )
        trainer = make_trainer(cfg, model, processor, load_from_disk(str(tiny_pairs_dir)), tmp_path / str(pre), [])
        if pre:
            assert trainer.ref_model is None and "ref_chosen_logps" in trainer.train_dataset.column_names
        trainer.train()
        losses[pre] = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    assert len(losses[True]) == 3
    for a, b in zip(losses[False], losses[True]):
        assert abs(a - b) < 1e-3 * max(1.0, abs(a)), losses


def test_lora_cold_start_trains_adapters_and_saves_a_merged_model(tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path):
    import torch

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart_config import LoraSettings

    cfg = ColdstartConfig(
        method="dpo-sft",
        lora=LoraSettings(r=4, alpha=8),
        batch_size=4,
        max_steps=3,
        learning_rate=5e-3,
        curve_every=0,
        curve_id_n=4,
        curve_ood_n=4,
        save_steps=100,
    )
    out = tmp_path / "lora"
    run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, out, tiny_world)
    assert not (out / "model" / "adapter_config.json").exists()  # merged: RL and eval load a plain model
    merged, _ = load_vlm(out / "model")
    base, _ = load_vlm(tiny_base_dir)
    assert sum(p.numel() for p in merged.parameters()) == sum(p.numel() for p in base.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(merged.parameters(), base.parameters()))
    margins = [
        r["rewards/margins"]
        for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
        if "rewards/margins" in r
    ]
    assert margins[-1] > margins[0]  # the reference (adapters off) stayed the base
