"""The split that decides a verdict is read by no calibration, tuning or design step (issue 27)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ids(examples) -> set[str]:
    return {e["id"] for e in examples}


def test_verdict_prompts_start_after_everything_design_read():
    from specs_vl.config import load_run_config
    from specs_vl.evaluation.suites import get_suite
    from specs_vl.orchestration.study import load_study

    for name in ("study.yaml", "demo.yaml"):
        path = ROOT / "configs" / name
        cfg = load_study(path).run if name == "study.yaml" else load_run_config(path, ())
        w = cfg.world.model_copy(update={"id_test_size": 4, "ood_test_size": 4, "retention_size": 4})
        # calibration's prompts (id_test[0:calibration_n]) and the earlier studies' (id_test[0:1000], OOD [0:500])
        assert w.test_start >= max(cfg.base.calibration_n, 1000), name
        verdict = _ids(get_suite("world-id").load(world=w))
        assert all(int(i.rsplit("-", 1)[1]) >= w.test_start for i in verdict)
        for suite in ("world-ood", "world-retention"):
            for i in _ids(get_suite(suite).load(world=w)):
                assert int(i.rsplit("-", 1)[1]) >= w.test_start // (3 if suite == "world-ood" else 1) - 1
        # every tuning step reads dev, which shares no image with a test split (dataset.py: hash buckets)
        assert cfg.tune_lr is None or cfg.tune_lr.suite == "world-dev"


def test_calibration_reads_the_retired_prefix_and_the_base_key_ignores_test_start():
    from specs_vl.world import WorldConfig, build_split
    from specs_vl.world.base_model import BaseModelConfig, cache_key

    w = WorldConfig(id_test_size=6, test_start=6)
    calib = _ids(build_split(w, "id_test", 6, start=0))  # what world/calibration.py reads
    assert calib.isdisjoint(_ids(build_split(w, "id_test")))
    dev, test = build_split(w, "dev", 6), build_split(w, "id_test")
    assert {e["image"].tobytes() for e in dev}.isdisjoint({e["image"].tobytes() for e in test})
    assert cache_key(w, BaseModelConfig()) == cache_key(w.model_copy(update={"test_start": 0}), BaseModelConfig())
