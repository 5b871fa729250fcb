"""coldstart.select: the rule picks the step a hand-computed curve says, the saved model is that step's
checkpoint, and the deciding curve reads no split a verdict reads."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

import specs_vl.recipe.coldstart as coldstart_mod
from specs_vl.config import RunConfig
from specs_vl.evaluation.metrics import generalization_factor
from specs_vl.evaluation.suites import get_suite
from specs_vl.recipe.coldstart import ColdstartConfig, run_coldstart
from specs_vl.recipe.select import choose_step
from specs_vl.util.errors import ConfigError


def _points(gains):
    """Curve points from (step, G_ID, G_OOD), GF as with_gains computes it (null unless both gains > 0)."""
    return [{"step": s, "gf": generalization_factor(i, o) if i > 0 and o > 0 else None} for s, i, o in gains]


def test_gf_picks_the_highest_defined_point_never_step_0_and_ties_go_early():
    pts = _points([(0, 0, 0), (5, 10, 2), (10, 12, -1), (15, 4, 8), (20, 30, 1)])
    # by hand: GF(10,2)=5*10*2/(4*10+2)=2.38; (12,-1) undefined; GF(4,8)=5*32/(16+8)=6.67; GF(30,1)=150/121=1.24
    assert choose_step(pts, "gf")["step"] == 15
    assert choose_step(pts, "gf")["gf"] == pytest.approx(5 * 4 * 8 / (4 * 4 + 8))
    assert choose_step(pts, "last")["step"] == 20
    tied = _points([(0, 0, 0), (5, 4, 8), (10, 4, 8), (15, 1, 1)])
    assert choose_step(tied, "gf")["step"] == 5 and "earliest" not in choose_step(tied, "gf")["why"]
    nearly = [{"step": 0, "gf": None}, {"step": 5, "gf": 6.0}, {"step": 10, "gf": 6.0 + 1e-12}]
    pick = choose_step(nearly, "gf")
    assert pick["step"] == 5 and "earliest" in pick["why"]


def test_gf_with_no_defined_point_keeps_the_last_step_and_says_so():
    pick = choose_step(_points([(0, 0, 0), (5, -1, 3), (10, 2, 0)]), "gf")
    assert pick["step"] == 10 and pick["gf"] is None and "no point" in pick["why"]
    with pytest.raises(ValueError, match="empty"):
        choose_step([], "gf")


def test_select_gf_refuses_a_curve_that_reads_a_verdict_split():
    with pytest.raises(ValueError, match="a split the verdicts read"):
        ColdstartConfig(select="gf")  # the default curve reads world-id and world-ood
    with pytest.raises(ValueError, match="curve_every > 0"):
        ColdstartConfig(select="gf", curve_every=0, curve_id="world-dev", curve_ood=["world-dev-ood"])
    ok = {"select": "gf", "curve_id": "world-dev", "curve_ood": ["world-dev-ood"]}
    ColdstartConfig(**ok)
    with pytest.raises(ValueError, match="eval.suites also scores"):
        RunConfig.model_validate({"coldstart": ok, "eval": {"suites": ["world-id", "world-dev-ood"]}})
    RunConfig.model_validate({"coldstart": ok, "eval": {"suites": ["world-id", "world-ood"]}})


def test_world_dev_ood_is_disjoint_from_every_verdict_split(tiny_world):
    world = tiny_world.model_copy(update={"test_start": 24})
    dev_ood = get_suite("world-dev-ood").load(n=24, world=world)
    verdict = [
        ex
        for s in (
            "world-ood",
            "world-ood-domain",
            "world-ood-surface",
            "world-ood-requirement",
            "world-id",
            "world-retention",
        )
        for ex in get_suite(s).load(world=world)
    ]
    assert len(dev_ood) == 24 and {ex["split"] for ex in dev_ood} == {"ood_domain", "ood_surface", "ood_requirement"}
    assert not {ex["id"] for ex in dev_ood} & {ex["id"] for ex in verdict}

    def key(ex):  # the whole example: an index the verdicts read renders this same image and question
        return ex["question"], hashlib.sha256(ex["image"].tobytes()).hexdigest()

    assert not {key(ex) for ex in dev_ood} & {key(ex) for ex in verdict}
    with pytest.raises(ConfigError, match="world.test_start=24"):
        get_suite("world-dev-ood").load(n=25, world=world)


def _weights(path):
    from transformers import Qwen2_5_VLForConditionalGeneration

    return Qwen2_5_VLForConditionalGeneration.from_pretrained(str(path), dtype=torch.float32).state_dict()


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


SELECT = dict(
    batch_size=4,
    max_steps=4,
    learning_rate=2e-3,
    curve_every=1,
    curve_id="world-dev",
    curve_ood=["world-dev-ood"],
    curve_id_n=6,
    curve_ood_n=6,
    curve_samples=1,
    curve_max_new_tokens=24,
    select="gf",
)


def test_the_selected_step_is_the_saved_model(tiny_base_dir, tiny_pairs_dir, tiny_world, tmp_path, monkeypatch):
    world = tiny_world.model_copy(update={"test_start": 16})
    out = tmp_path / "real"
    res = run_coldstart(ColdstartConfig(**SELECT), tiny_base_dir, tiny_pairs_dir, out, world)
    points = json.loads((out / "gf_curve.json").read_text())["points"]
    assert [p["step"] for p in points] == [0, 1, 2, 3, 4]
    assert res["selected"] == choose_step(points, "gf")  # the rule, on the curve as written
    saved = _weights(out / "model")
    ckpts = {s: _weights(out / "checkpoints" / f"checkpoint-{s}") for s in (1, 2, 3, 4)}
    assert _same(saved, ckpts[res["selected"]["step"]])

    # and a choice other than the last step really restores that step's weights
    real = coldstart_mod.choose_step
    monkeypatch.setattr(coldstart_mod, "choose_step", lambda pts, rule: {**real(pts, rule), "step": 2})
    out2 = tmp_path / "forced"
    run_coldstart(ColdstartConfig(**SELECT), tiny_base_dir, tiny_pairs_dir, out2, world)
    saved2 = _weights(out2 / "model")
    assert _same(saved2, _weights(out2 / "checkpoints" / "checkpoint-2"))
    assert not _same(saved2, _weights(out2 / "checkpoints" / "checkpoint-4"))
