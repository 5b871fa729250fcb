"""The learning-rate rule: smallest grid rate reaching the dev format target within one epoch, the same for
every method, recorded with its reason; `specs coldstart --tune-lr` trains at the rate it chose."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import specs_vl.recipe.tune_lr as tl
from specs_vl.recipe.coldstart import ColdstartConfig
from specs_vl.recipe.tune_lr_config import TuneLRSettings

FAST = {"suite": "world-id", "n": 4, "samples": 1, "max_new_tokens": 8, "check_every": 0}


def _fake_eval(validities: list[float], calls: list[int]):
    def evaluate(suite, cfg, *, model, processor):
        assert suite == "world-id" and cfg.temperature == 1.0  # dev format validity is measured at T=1
        calls.append(1)
        return [], {"overall": {"format_valid_rate": validities[len(calls) - 1]}}

    return evaluate


def test_the_smallest_rate_reaching_the_target_is_chosen_and_the_search_stops(
    monkeypatch, tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path
):
    calls: list[int] = []
    monkeypatch.setattr(tl, "evaluate", _fake_eval([0.5, 0.93, 0.99], calls))
    s = TuneLRSettings(grid=[1e-3, 1e-5, 1e-4], **FAST)
    assert s.grid == [1e-5, 1e-4, 1e-3]  # tried from the smallest up, whatever order the config gives
    res = tl.tune_lr(
        ColdstartConfig(method="sft", batch_size=8), s, tiny_base_dir, tiny_pairs_dir, tmp_path / "t", tiny_world
    )
    assert res["chosen"] == 1e-4 and [t["lr"] for t in res["tried"]] == [1e-5, 1e-4] and len(calls) == 2
    assert res["tried"][0]["step"] == 2  # one epoch: 16 pairs / batch 8
    assert "smallest rate" in res["reason"] and "90%" in res["reason"]
    assert json.loads((tmp_path / "t" / "result.json").read_text()) == res
    assert not (tmp_path / "t" / "checkpoints").exists()


def test_when_no_rate_reaches_the_target_the_record_says_so(
    monkeypatch, tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path
):
    monkeypatch.setattr(tl, "evaluate", _fake_eval([0.2, 0.6], []))
    s = TuneLRSettings(grid=[1e-5, 1e-4], **FAST)
    res = tl.tune_lr(
        ColdstartConfig(method="dpo-sft", batch_size=8), s, tiny_base_dir, tiny_pairs_dir, tmp_path / "t", tiny_world
    )
    assert res["chosen"] == 1e-4 and "no rate in the grid reached" in res["reason"]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="unknown suite"):
        TuneLRSettings(suite="nope")
    with pytest.raises(ValueError, match="> 0"):
        TuneLRSettings(grid=[0.0, 1e-4], suite="world-id")


def test_cli_coldstart_tune_lr_trains_at_the_chosen_rate(monkeypatch, tiny_base_dir, tiny_pairs_dir, tmp_path):
    from specs_vl.cli.app import app

    monkeypatch.setattr(tl, "evaluate", _fake_eval([0.1, 0.95], []))
    seen = {}
    import specs_vl.recipe.coldstart as cs

    monkeypatch.setattr(cs, "run_coldstart", lambda c, *a, **k: seen.setdefault("lr", c.learning_rate))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"name: t\nbase_model: {tiny_base_dir}\nworld: {{train_size: 40, id_test_size: 8, "
        "ood_test_size: 8}\ncoldstart: {batch_size: 8}\n"
        "tune_lr: {grid: [0.00001, 0.0003], suite: world-id, n: 4, samples: 1, max_new_tokens: 8}\n"
    )
    res = CliRunner().invoke(
        app,
        [
            "coldstart",
            "-c",
            str(cfg),
            "-m",
            "sft",
            "--pairs",
            str(tiny_pairs_dir),
            "--out",
            str(tmp_path / "coldstart-sft"),
            "--tune-lr",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert seen["lr"] == 3e-4
    assert json.loads((tmp_path / "tune-lr-sft" / "result.json").read_text())["chosen"] == 3e-4
