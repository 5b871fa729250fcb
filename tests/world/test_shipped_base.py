"""The base model shipped with the package: built for the default configs, intact, and scoring as recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from specs_vl.config import load_run_config
from specs_vl.orchestration.study import load_study
from specs_vl.world.base_model import build_base_model, cache_key
from specs_vl.world.ship import SLICE_N, corpus_fingerprint, response_nll, ship, slice_scores
from specs_vl.world.shipped import SHIPPED_DIR, file_sha256, shipped_base, shipped_record

RESHIP = (
    "a change to the world, the corpus or the base recipe: rebuild and re-ship it "
    "(specs base --rebuild -c configs/demo.yaml && python scripts/ship_base.py), then commit src/specs_vl/world/shipped"
)
PACKAGED = SHIPPED_DIR.parent.parent / "configs"


@pytest.fixture(scope="module")
def record():
    rec = shipped_record()
    assert rec is not None, f"no base ships in {SHIPPED_DIR}"
    return rec


@pytest.fixture(scope="module")
def default_cfg():
    return load_run_config(PACKAGED / "demo.yaml")


@pytest.mark.parametrize("name", ["demo.yaml", "study.yaml", "rl-study.yaml"])
def test_default_configs_find_the_shipped_base(name, record):
    cfg = load_study(PACKAGED / name).run if name == "study.yaml" else load_run_config(PACKAGED / name)
    key = cache_key(cfg.world, cfg.base)
    assert key == record["key"], (
        f"{name}: the code's base cache key is {key}, the shipped base's {record['key']}: {RESHIP}"
    )
    assert shipped_base(key) == SHIPPED_DIR


def test_shipped_weights_are_the_recorded_ones(record):
    # A Git LFS pointer or a truncated copy would load as garbage or not at all.
    assert file_sha256(SHIPPED_DIR / "model.safetensors") == record["model_sha256"]
    assert set(record["files"]) <= {p.name for p in SHIPPED_DIR.iterdir()}


def test_corpus_is_the_one_the_shipped_base_learnt(record, default_cfg):
    """The cache key sees configs and CODE_VERSION; this sees the world's and the corpus's code too."""
    assert corpus_fingerprint(default_cfg.world, default_cfg.base) == record["corpus_sha256"], RESHIP


def test_shipped_base_rescores_its_calibration_slice(record, default_cfg):
    from specs_vl.models.load import load_vlm

    model, processor = load_vlm(SHIPPED_DIR)
    nll = response_nll(model, processor, default_cfg.world, default_cfg.base)
    assert nll == pytest.approx(record["response_nll"], abs=1e-4)
    got = slice_scores(model, processor, default_cfg.world, default_cfg.base)
    assert got.keys() == record["slice"].keys()
    for fam, want in record["slice"].items():
        assert got[fam]["n"] == want["n"]
        # T=1 sampling with a fixed seed repeats exactly on one CPU; one prompt of slack per family admits a
        # near-tie that another CPU's float sums break the other way, and nothing like a wrong model.
        assert abs(got[fam]["correct"] - want["correct"]) <= 1, (fam, got[fam], want)
        assert abs(got[fam]["format_valid"] - want["format_valid"]) <= 1, (fam, got[fam], want)
    calib = json.loads((SHIPPED_DIR / "calibration.json").read_text())
    assert calib["parameters"] == sum(p.numel() for p in model.parameters()) == record["parameters"]


def test_default_base_comes_from_the_package_not_a_build(tmp_path, default_cfg):
    assert build_base_model(default_cfg.world, default_cfg.base, cache_dir=tmp_path) == SHIPPED_DIR
    assert not any(tmp_path.iterdir())


def test_specs_base_prints_the_shipped_path_with_an_empty_cache(tmp_path):
    env = {**os.environ, "SPECS_VL_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "specs_vl.cli", "base", "-q"], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines()[0] == str(SHIPPED_DIR)
    assert json.loads(out.stdout.split("\n", 1)[1])["n"] > 0
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_ship_round_trip_and_a_non_default_config_builds(tmp_path, tiny_base_dir, tiny_world, tiny_base_config):
    """`ship` records what the test above re-checks; another key, or a missing file, finds nothing shipped."""
    key = cache_key(tiny_world, tiny_base_config)
    assert shipped_base(key) is None  # the tiny test config builds and caches as before (tiny_base_dir)
    root = tmp_path / "shipped"
    rec = ship(tiny_base_dir, key, tiny_world, tiny_base_config, root=root)
    assert shipped_base(key, root) == root
    assert shipped_base("0" * 16, root) is None
    assert rec["model_sha256"] == file_sha256(root / "model.safetensors")
    assert rec["corpus_sha256"] == corpus_fingerprint(tiny_world, tiny_base_config)
    assert sum(v["n"] for v in rec["slice"].values()) == min(SLICE_N, tiny_world.id_test_size)
    (root / "tokenizer.json").unlink()
    assert shipped_base(key, root) is None
