"""GF's prediction of accuracy after RL (issue 30, item 3), on run dirs whose answer is known by construction;
and the stages that make the points (RL from cold-start checkpoints)."""

from __future__ import annotations

import json

import pytest

from specs_vl.config import RunConfig
from specs_vl.orchestration.stage_plan import plan
from specs_vl.report.gf_prediction import prediction_points, prediction_table, seed_regrets

DEV = {"select": "gf", "curve_every": 10, "curve_id": "world-dev", "curve_ood": ["world-dev-ood"]}
PROMPTS = 40


def _seed(root, k, acc_of):
    """A seed dir: 2 methods x 3 checkpoints; GF = 10 * (step / 10) + method offset; accuracy from acc_of(gf)."""
    d = root / f"seed-{k}"
    for off, m in enumerate(("dpo-sft", "sft")):
        pts = [{"step": 0, "gf": None, "g_id": 0, "g_ood": 0, "psi_id": 20}]
        for step in (10, 20, 30):
            gf = step + 5 * off + k  # seeds differ a little, the order does not
            pts.append({"step": step, "gf": gf, "g_id": gf / 2, "g_ood": gf / 3, "psi_id": 20 + gf})
            right = round(PROMPTS * acc_of(gf))
            rows = [{"id": f"p{i}", "correct": i < right} for i in range(PROMPTS)]
            ev = d / "eval" / f"rl-{m}-step{step}" / "world-id"
            ev.mkdir(parents=True)
            (ev / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (d / f"coldstart-{m}").mkdir(parents=True)
        (d / f"coldstart-{m}" / "gf_curve.json").write_text(json.dumps({"points": pts}))
    return d


def test_a_signal_that_orders_the_points_predicts_them_and_costs_no_regret(tmp_path):
    dirs = [_seed(tmp_path, k, lambda gf: gf / 50) for k in range(3)]  # after-RL accuracy rises with GF
    assert len(prediction_points(dirs)) == 6
    header, rows = prediction_table(dirs, boot=200)
    gf = rows[0]
    assert gf[0] == "GF" and gf[1].startswith("1.00") and gf[2].startswith("+1.00") and gf[3] == "6"
    assert seed_regrets(prediction_points(dirs), 3) == [0.0, 0.0, 0.0]
    assert rows[3][0].startswith("GF over the requirement-changed") and rows[3][1:] == ["—", "—", "0"]  # not in _seed
    assert rows[-2][0].startswith("regret of choosing by GF") and rows[-2][1].startswith("+0.0")
    assert rows[-1][0].startswith("regret of select: gf") and rows[-1][1].startswith("+0.0")


def test_a_signal_that_reverses_the_order_shows_as_rho_minus_1_and_a_regret(tmp_path):
    dirs = [_seed(tmp_path, k, lambda gf: 0.9 - gf / 50) for k in range(3)]  # after-RL accuracy falls with GF
    points = prediction_points(dirs)
    regrets = seed_regrets(points, 3)
    # the highest GF (sft at step 30) is the worst start; the best is dpo-sft at step 10: 25 GF points = 50 points
    assert regrets == pytest.approx([-50.0] * 3, abs=2.6)  # rounding to whole prompts
    # within each cold start, select: gf keeps step 30 (the worst) over step 10: 20 GF points = 40 points
    assert seed_regrets(points, 3, within_method=True) == pytest.approx([-40.0] * 3, abs=2.6)
    _, rows = prediction_table(dirs, boot=200)
    assert rows[0][2].startswith("-1.00")


def test_rl_from_checkpoints_makes_one_stage_per_method_and_step(tmp_path):
    cfg = RunConfig(methods=["dpo-sft", "sft"], rl_methods=["dpo-sft", "sft"], rl_checkpoints=[10, 20], coldstart=DEV)
    stages = {s.name: s for s in plan(cfg, tmp_path, lambda: "base")}
    for m in ("dpo-sft", "sft"):
        for n in (10, 20):
            assert stages[f"rl-{m}-step{n}"].deps == [f"coldstart-{m}"]
            assert f"eval-rl-{m}-step{n}" in stages
        assert f"rl-{m}" not in stages  # RL from the saved model would repeat the point at its step
    with pytest.raises(ValueError, match="not GF-curve steps"):
        RunConfig(rl_checkpoints=[15], coldstart=DEV)
    with pytest.raises(ValueError, match="select: gf"):
        RunConfig(rl_checkpoints=[10])


def test_the_prediction_study_config_makes_the_points_it_promises():
    from pathlib import Path

    from specs_vl.config import load_run_config

    cfg = load_run_config(Path(__file__).resolve().parents[2] / "configs" / "gf-prediction.yaml")
    names = [s.name for s in plan(cfg, Path("seed-0"), lambda: "base")]
    points = [n for n in names if n.startswith("rl-") and "-step" in n]
    assert len(points) == 9 and len(cfg.seeds) == 3 and cfg.eval.n >= 500
    assert not {"rl-dpo-sft", "rl-sft", "rl-dpo"} & set(names)  # each would repeat a point
    assert cfg.coldstart.curve_id == "world-dev" and cfg.world.test_start == 1000  # decided off the test split


def test_the_scatter_plot_puts_each_checkpoint_at_its_seed_means(tmp_path):
    from PIL import Image

    from specs_vl.evaluation.plots import plot_prediction
    from specs_vl.report.gf_prediction import prediction_panels

    dirs = [_seed(tmp_path, k, lambda gf: gf / 50) for k in range(3)]
    panels = prediction_panels(dirs)
    assert [label for label, _ in panels] == ["GF", "Psi_ID of the checkpoint"]
    gf = {(p["method"], p["step"]): p for p in panels[0][1]}
    assert len(gf) == 6
    # sft at step 20: GF 25, 26, 27 over the seeds; accuracy round(40 * gf / 50) / 40
    p = gf[("sft", 20)]
    accs = [100 * round(PROMPTS * g / 50) / PROMPTS for g in (25, 26, 27)]
    assert p["x"] == pytest.approx(26) and p["y"] == pytest.approx(sum(accs) / 3) and p["y_sd"] > 0
    assert panels[1][1][0]["x"] == pytest.approx(20 + panels[0][1][0]["x"])  # psi_id = 20 + gf in _seed
    png = plot_prediction(panels, tmp_path / "out" / "gf_prediction.png")
    assert Image.open(png).size[0] > 600
    assert prediction_panels([tmp_path / "empty"]) == []  # no points, no plot
