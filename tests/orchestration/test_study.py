"""`specs study`: the power calculation it prints, the shipped config, and one tiny end-to-end study over two
seeds with the learning-rate rule, whose report carries intervals, seeds and the pre-registered predictions."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from test_pipeline import mini_config
from typer.testing import CliRunner

from specs_vl.evaluation.suites import SUITES
from specs_vl.orchestration.study import StudySettings, load_study, power_plan, study_config_path

ROOT = Path(__file__).resolve().parents[2]


def test_power_plan_says_whether_the_target_is_reached():
    ok = power_plan(StudySettings(max_prompts=2000))
    assert ok["reached_target"] and ok["prompts"] == ok["required"] and ok["mdd_points"] <= 3.0
    assert "reach the target" in ok["statement"]
    capped = power_plan(StudySettings(max_prompts=100))
    assert not capped["reached_target"] and capped["prompts"] == 100 and capped["mdd_points"] > 3.0
    assert "out of reach" in capped["statement"] and f"{capped['mdd_points']:.1f} points" in capped["statement"]
    noisy = power_plan(StudySettings(seed_sd=0.2))
    assert noisy["required"] is None and "seed-to-seed noise" in noisy["statement"]
    measured = power_plan(StudySettings(), {"sd_prompt": 0.2, "seed_sd": 0.0})
    assert measured["source"] == "pilot run" and measured["prompts"] < ok["prompts"]


def test_the_shipped_study_config_has_five_seeds_and_predictions():
    assert (ROOT / "configs" / "study.yaml").read_text() == study_config_path().read_text()
    raw = yaml.safe_load(study_config_path().read_text())
    assert len(raw["study"]["seeds"]) >= 5 and raw["run"]["findings"]["predictions"]
    assert "world-dev" in SUITES  # world v2: the learning-rate rule runs on dev
    cfg = load_study(study_config_path())
    assert cfg.run.tune_lr.suite == "world-dev" and cfg.run.findings.gf_step is None


def test_the_study_reuses_the_demo_base_and_its_grpo_batching():
    """The base cache key covers the world and base sections: equal sections mean `make demo` built the study's
    base. Several optimiser steps per rollout batch, as the demo, or TRL's GRPO ratio stays 1 (clipping inert).
    The demo is the study's recipe at a smaller scale (it must fit 15 minutes fresh): only sizes may differ."""
    from specs_vl.config import load_run_config
    from specs_vl.world.base_model import cache_key

    demo, study = load_run_config(ROOT / "configs" / "demo.yaml"), load_study(study_config_path()).run
    assert cache_key(study.world, study.base) == cache_key(demo.world, demo.base)
    sizes = {"steps", "train_size", "curve_every", "curve_id_n", "curve_ood_n", "eval_id_n", "eval_ood_n", "n"}
    for stage in ("zero", "distill", "coldstart", "rl", "eval"):
        d, s = getattr(demo, stage).model_dump(), getattr(study, stage).model_dump()
        differ = {k for k in d if d[k] != s[k]} - sizes - {"learning_rate"}
        assert not differ, f"{stage}: the demo departs from the study's recipe in {sorted(differ)}"
        for k in sizes & d.keys():  # smaller, never larger: the demo is a scaled-down study
            if d[k] != s[k] and None not in (d[k], s[k]):
                assert d[k] < s[k], f"{stage}.{k}: demo {d[k]} > study {s[k]}"
    for stage in ("zero", "rl"):
        st, de = getattr(study, stage), getattr(demo, stage)
        assert st.mini_batch_prompts == de.mini_batch_prompts and st.prompts_per_step == de.prompts_per_step
        assert st.prompts_per_step // st.mini_batch_prompts == 2  # two optimiser steps per rollout batch
        assert st.learning_rate == de.learning_rate
    # the cold-start rate is the one the study's rule chose, from the study's grid
    assert demo.coldstart.epochs == study.coldstart.epochs == 1.0 and demo.coldstart.learning_rate in study.tune_lr.grid
    assert demo.rl_methods == study.rl_methods and demo.methods == study.methods
    assert demo.rl_control == study.rl_control  # the primary claim's control runs in both


def test_the_cold_start_half_of_the_study_is_the_study_without_rl_base_and_its_control():
    """configs/coldstart-rl.yaml (README "RL from the cold starts") must stay configs/study.yaml's recipe: only
    the run's name, the two RL-from-base runs (configs/rl-study.yaml trains them) and the eval size may differ."""
    half, study = load_study(ROOT / "configs" / "coldstart-rl.yaml"), load_study(study_config_path())
    a, b = half.run.model_dump(), study.run.model_dump()
    assert {k for k in a if a[k] != b[k]} == {"name", "rl_from_base", "rl_control"}
    assert half.study.max_prompts >= 500 and half.study.seeds == study.study.seeds


def test_the_gpu_check_runs_every_stage_on_the_demo_base_under_fsdp():
    """configs/gpu-check.yaml (docs/gpus.md) reuses the cached demo base and launches the training stages with an
    accelerate config that exists, on one process."""
    from specs_vl.config import load_run_config
    from specs_vl.world.base_model import cache_key

    check, demo = load_run_config(ROOT / "configs" / "gpu-check.yaml"), load_run_config(ROOT / "configs" / "demo.yaml")
    assert cache_key(check.world, check.base) == cache_key(demo.world, demo.base)
    assert check.launcher.num_processes == 1 and (ROOT / check.launcher.config_file).exists()
    assert "FSDP" in (ROOT / check.launcher.config_file).read_text()
    assert set(check.methods) == {"dpo-sft", "sft", "dpo"} and check.rl.steps < demo.rl.steps


def _tiny_study(base_dir: Path) -> dict:
    run = mini_config(
        base_dir,
        name="tiny-study",
        methods=["dpo-sft", "sft"],
        rl_from_base=False,
        coldstart={"batch_size": 1},  # a tiny zero may leave a seed a single pair; the flow is what is tested
        tune_lr={"grid": [0.002], "suite": "world-id", "n": 4, "samples": 1, "max_new_tokens": 8},
        findings={"n_boot": 200, "predictions": {"zero-format": "held", "rl-id-vs-sft": "inconclusive"}},
    ).model_dump(mode="json")
    return {"run": run, "study": {"seeds": [0, 1], "max_prompts": 8}}


def test_tiny_study_end_to_end(tiny_base_dir, tmp_path):
    from specs_vl.cli.app import app

    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump(_tiny_study(tiny_base_dir)))
    res = CliRunner().invoke(app, ["study", "-c", str(cfg), "--runs", str(tmp_path / "runs"), "-q"])
    assert res.exit_code == 0, res.output
    assert "power: The target" in res.output and "minimal detectable difference" in res.output
    assert "study wall time" in res.output and "claim" in res.output and "zero >> base on format" in res.output
    run = tmp_path / "runs" / "tiny-study"
    study = json.loads((run / "study.json").read_text())
    assert study["seeds"] == [0, 1] and study["power"]["prompts"] == 8 and study["seconds"] > 0
    tuned = json.loads((run / "seed-0" / "tune-lr-sft" / "result.json").read_text())
    assert tuned["chosen"] == 0.002 and tuned["grid"] == [0.002] and tuned["reason"]
    assert not (run / "seed-1" / "tune-lr-sft").exists()  # tune_lr.seeds: first, the rule runs once
    for seed in ("seed-0", "seed-1"):
        cold = json.loads((run / seed / "coldstart-sft" / "result.json").read_text())
        assert cold["learning_rate"] == tuned["chosen"]
        assert (
            json.loads((run / seed / "eval" / "rl-sft" / "world-id" / "metrics.json").read_text())["overall"][
                "n_prompts"
            ]
            == 8
        )  # eval sets sized by the power calculation
    # The base's eval is the same model, settings and seed in every seed: seed 1 gets seed 0's, copied.
    base_gens = [
        (run / s / "eval" / "base" / "world-id" / "generations.jsonl").read_text() for s in ("seed-0", "seed-1")
    ]
    assert base_gens[0] == base_gens[1] and "seed-1/eval-base: the same model and eval settings as" in res.output
    found = {f["id"]: f for f in json.loads((run / "report" / "findings.json").read_text())}
    zero = found["zero-format"]
    assert zero["seeds"] == 2 and zero["prompts"] == 8 and zero["prediction"] == "held"
    assert zero["ci_low"] <= zero["estimate"] <= zero["ci_high"]
    assert found["rl-id-vs-sft"]["seeds"] == 2 and found["rl-id-vs-base"]["verdict"] == "not testable"
    page = (run / "report" / "index.html").read_text()
    assert "Learning rate rule" in page and "minimal detectable difference" in page


def test_later_seeds_reuse_the_first_seeds_rate_and_rl_runs_only_from_rl_methods(tiny_base_dir, tmp_path):
    """Planning only: with `tune_lr.seeds: first` a later seed has no tune-lr stage but depends on the first
    seed's; `rl_methods` limits which cold starts RL continues from (the study needs no rl-dpo)."""
    import pytest

    from specs_vl.config import RunConfig
    from specs_vl.orchestration.stage_plan import plan

    cfg = mini_config(
        tiny_base_dir,
        methods=["dpo-sft", "dpo"],
        rl_methods=["dpo-sft"],
        tune_lr={"grid": [0.002], "suite": "world-id"},
    )
    first = {s.name: s for s in plan(cfg, tmp_path / "seed-0", lambda: "base")}
    later = {
        s.name: s
        for s in plan(
            cfg,
            tmp_path / "seed-1",
            lambda: "base",
            {"dpo-sft": tmp_path / "seed-0" / "tune-lr-dpo-sft", "dpo": tmp_path / "seed-0" / "tune-lr-dpo"},
        )
    }
    assert {"tune-lr-dpo-sft", "tune-lr-dpo"} <= set(first) and not any(n.startswith("tune-lr") for n in later)
    assert "tune-lr-dpo" in later["coldstart-dpo"].deps and "distill" in later["coldstart-dpo"].deps
    for stages in (first, later):
        assert "rl-dpo-sft" in stages and "rl-dpo" not in stages and "eval-rl-dpo" not in stages
    with pytest.raises(ValueError, match="rl_methods"):
        RunConfig(methods=["dpo-sft"], rl_methods=["sft"])
