"""`specs pipeline` end to end on a miniature config: every stage's outputs, skipping, and reruns on change."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk

from specs_vl.config import RunConfig

STAGES = [
    "zero",
    "distill",
    "coldstart-dpo-sft",
    "coldstart-sft",
    "coldstart-dpo",
    "rl-dpo-sft",
    "rl-sft",
    "rl-dpo",
    "rl-base",
    "eval-base",
    "eval-zero",
    "eval-coldstart-dpo-sft",
    "eval-coldstart-sft",
    "eval-coldstart-dpo",
    "eval-rl-dpo-sft",
    "eval-rl-sft",
    "eval-rl-dpo",
    "eval-rl-base",
]


def mini_config(base_dir, **changes) -> RunConfig:
    cfg = {
        "name": "mini",
        "base_model": str(base_dir),
        "world": {"train_size": 40, "id_test_size": 8, "ood_test_size": 8},
        "zero": {"steps": 4, "num_generations": 4, "prompts_per_step": 2, "max_completion_length": 32, "save_steps": 2},
        "distill": {"samples": 8, "max_new_tokens": 32, "judge": "none", "batch_size": 64},
        "coldstart": {
            "batch_size": 2,
            "max_steps": 2,
            "save_steps": 2,
            "curve_every": 0,
            "curve_id_n": 8,
            "curve_ood_n": 8,
        },
        "rl": {
            "steps": 2,
            "num_generations": 2,
            "prompts_per_step": 2,
            "max_completion_length": 16,
            "save_steps": 2,
            "eval_id_n": 8,
            "eval_ood_n": 8,
        },
        "eval": {"samples": 2, "ks": [1, 2], "max_new_tokens": 24},
    }
    for section, values in changes.items():
        cfg[section] = {**cfg.get(section, {}), **values} if isinstance(values, dict) else values
    return RunConfig.model_validate(cfg)


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory, tiny_base_dir):
    from specs_vl.orchestration.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("runs")
    run_dir = run_pipeline(mini_config(tiny_base_dir), root)
    return root, run_dir


def test_every_stage_writes_well_formed_outputs(mini_run):
    from specs_vl.models.load import load_vlm

    _, run = mini_run
    manifest = json.loads((run / "manifest.json").read_text())
    for st in STAGES:
        assert manifest["stages"][st]["status"] == "complete", st
        assert manifest["stages"][st]["seconds"] >= 0
    assert manifest["stages"]["base"]["status"] == "complete"
    pairs = load_from_disk(str(run / "pairs"))
    assert len(pairs) == json.loads((run / "pairs" / "stats.json").read_text())["pairs"] > 0
    for m in ("dpo-sft", "sft", "dpo"):
        curve = json.loads((run / f"coldstart-{m}" / "gf_curve.json").read_text())
        assert [p["step"] for p in curve["points"]] == [0, 2]
    for label in ("dpo-sft", "sft", "dpo", "base"):
        assert len(json.loads((run / f"rl-{label}" / "curve.json").read_text())) == 2
        load_vlm(run / f"rl-{label}" / "model")
    for model in ("base", "zero", "coldstart-dpo-sft", "rl-base"):
        for suite in ("world-id", "world-ood"):
            metrics = json.loads((run / "eval" / model / suite / "metrics.json").read_text())
            prompts = 8 if suite == "world-id" else 3 * 8  # world-ood interleaves the three OOD sets
            assert metrics["overall"]["n_responses"] == 2 * prompts and metrics["overall"]["pass@2"] is not None
    assert (run / "report" / "index.html").exists() and (run / "report" / "report.md").exists()
    assert "skipped" not in (run / "logs" / "pipeline.log").read_text()
    assert (run / "config.yaml").exists()


def test_second_invocation_skips_every_stage(mini_run, tiny_base_dir, capsys):
    from specs_vl.orchestration.pipeline import run_pipeline

    root, run = mini_run
    before = json.loads((run / "manifest.json").read_text())["stages"]
    run_pipeline(mini_config(tiny_base_dir), root)
    after = json.loads((run / "manifest.json").read_text())["stages"]
    for st in STAGES:
        assert after[st]["finished"] == before[st]["finished"], st
    log = (run / "logs" / "pipeline.log").read_text()
    assert all(f"{st}: complete, skipped" in log for st in STAGES)


def test_a_changed_rl_config_reruns_rl_and_what_reads_it_only(mini_run, tiny_base_dir):
    from specs_vl.orchestration.pipeline import run_pipeline

    root, run = mini_run
    before = json.loads((run / "manifest.json").read_text())["stages"]
    run_pipeline(mini_config(tiny_base_dir, rl={"steps": 3}, methods=["dpo-sft"], rl_from_base=False), root)
    after = json.loads((run / "manifest.json").read_text())["stages"]
    for st in ("rl-dpo-sft", "eval-rl-dpo-sft"):
        assert after[st]["finished"] != before[st]["finished"], st
    for st in ("zero", "distill", "coldstart-dpo-sft", "eval-base", "eval-coldstart-dpo-sft"):
        assert after[st]["finished"] == before[st]["finished"], st
    assert len(json.loads((run / "rl-dpo-sft" / "curve.json").read_text())) == 3  # not resumed from the 2-step run
    # what the new config no longer plans leaves the manifest (the report would list it), not the disk
    assert not {"rl-base", "eval-rl-base", "coldstart-sft", "eval-coldstart-sft"} & set(after)
    assert (run / "rl-base" / "result.json").exists()


def test_only_this_runs_seeds_lose_their_unplanned_records(tmp_path):
    from specs_vl.orchestration.pipeline import Manifest, _unplanned

    m = Manifest(tmp_path / "manifest.json", "x", [0, 1])
    for k in ("base", "seed-0/zero", "seed-0/rl-old", "seed-1/rl-old", "seed-2/rl-old", "seed-0/eval/x"):
        m.mark(k, status="running")
    planned = {"base", "seed-0/zero"}
    assert _unplanned(m, planned, [0, 1]) == ["seed-0/rl-old", "seed-1/rl-old"]  # seed 2 is not this run's
    assert _unplanned(m, {"base"}, [3]) == []  # a 1-seed run keeps its records at top level, no "seed-k/"
    m.forget(["seed-0/rl-old"])
    assert "seed-0/rl-old" not in Manifest(tmp_path / "manifest.json", "x", [0]).data["stages"]


def test_cold_starts_from_one_base_share_a_step_0_point_equal_to_a_fresh_one(mini_run, tiny_base_dir):
    """The step-0 point is computed once per start model (run_dir/cache) and read back by the other runs; what
    is read back equals what a fresh evaluation of the base gives."""
    from specs_vl.evaluation.curve import CurveSettings, psi_point
    from specs_vl.models.load import load_vlm

    _, run = mini_run
    curves = [json.loads((run / f"coldstart-{m}" / "gf_curve.json").read_text()) for m in ("dpo-sft", "sft", "dpo")]
    firsts = [c["points"][0] for c in curves]
    assert firsts[0]["step"] == 0 and firsts[0] == firsts[1] == firsts[2]
    # one file per start model: the base (its curve and rl-base's eval use the same settings here) and the
    # three cold starts RL continues from
    assert len(list((run / "cache").glob("curve-start-*.json"))) == 4
    assert json.loads((run / "rl-base" / "eval_curve.json").read_text())["points"][0]["sets"] == firsts[0]["sets"]
    s = curves[0]["settings"]
    settings = CurveSettings(
        **{k: v for k, v in s.items() if k not in ("sets", "ood_sets")}, ood_sets=tuple(s["ood_sets"])
    )
    model, processor = load_vlm(tiny_base_dir)
    fresh = psi_point(model, processor, settings, mini_config(tiny_base_dir).world, 0)
    assert fresh["sets"] == firsts[0]["sets"] and fresh["psi_id"] == firsts[0]["psi_id"]
