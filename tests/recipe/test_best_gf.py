"""`rl_methods: [best-gf]` (issue 30, item 2): RL starts from the cold start whose saved model has the highest GF,
decided from held-out sets no verdict reads, with the choice and the runner-up recorded and reported."""

from __future__ import annotations

import json

import pytest

from specs_vl.config import RunConfig
from specs_vl.orchestration.stage_plan import best_gf_start, plan
from specs_vl.recipe.select import choose_method
from specs_vl.report.decisions import decision_table

DEV = {"curve_id": "world-dev", "curve_ood": ["world-dev-ood"]}


def test_the_highest_defined_gf_wins_ties_go_to_the_first_listed_and_none_defined_says_so():
    pick = choose_method({"dpo-sft": 16.7, "sft": 15.8, "dpo": 4.4})
    assert (pick["method"], pick["gf"], pick["runner_up"]) == ("dpo-sft", 16.7, {"method": "sft", "gf": 15.8})
    assert choose_method({"sft": None, "dpo": 3.0, "dpo-sft": 2.0})["method"] == "dpo"  # undefined never wins
    tied = choose_method({"sft": 5.0, "dpo-sft": 5.0})
    assert tied["method"] == "sft" and tied["runner_up"]["method"] == "dpo-sft"
    none = choose_method({"dpo-sft": None, "sft": None})
    assert none["method"] == "dpo-sft" and none["gf"] is None and "no cold start has a GF" in none["why"]
    with pytest.raises(ValueError, match="at least one"):
        choose_method({})


def _coldstart(seed_dir, method, gf, step=13):
    d = seed_dir / f"coldstart-{method}"
    (d / "model").mkdir(parents=True)
    selected = {"rule": "gf", "step": step, "gf": gf, "why": "the highest GF", "candidates": []}
    (d / "result.json").write_text(json.dumps({"method": method, "final": {"gf": 99.0}, "selected": selected}))


def test_best_gf_starts_from_the_chosen_cold_start_after_all_of_them_and_records_why(tmp_path):
    seed = tmp_path / "seed-0"
    for m, gf in (("dpo-sft", 12.0), ("sft", 15.5), ("dpo", None)):
        _coldstart(seed, m, gf)
    cfg = RunConfig(methods=["dpo-sft", "sft", "dpo"], rl_methods=["best-gf"], rl_from_base=False, coldstart=DEV)
    (stage,) = [s for s in plan(cfg, seed, lambda: "base") if s.name == "rl-best-gf"]
    assert stage.deps == ["coldstart-dpo-sft", "coldstart-sft", "coldstart-dpo"]  # decided once all are done
    assert best_gf_start(seed, cfg.methods) == seed / "coldstart-sft" / "model"  # the saved step's GF, not final's
    choice = json.loads((seed / "rl-best-gf" / "choice.json").read_text())
    assert choice["method"] == "sft" and choice["runner_up"] == {"method": "dpo-sft", "gf": 12.0}
    header, rows = decision_table([seed])
    assert ["seed-0", "rl-best-gf: RL starts from", "sft", "15.5"] == rows[-1][:4] and "runner-up dpo-sft" in rows[-1][
        4
    ]
    assert [r[1] for r in rows[:3]] == [f"coldstart-{m}: saved step" for m in ("dpo-sft", "dpo", "sft")]


def test_best_gf_refuses_a_curve_the_verdicts_read_and_needs_a_cold_start():
    with pytest.raises(ValueError, match="best-gf decides on the GF curve"):
        RunConfig(rl_methods=["best-gf"])  # the default curve reads world-id / world-ood
    with pytest.raises(ValueError, match="methods is empty"):
        RunConfig(methods=[], rl_methods=["best-gf"], coldstart=DEV)
    RunConfig(methods=["sft", "dpo-sft"], rl_methods=["best-gf", "sft"], coldstart=DEV)
