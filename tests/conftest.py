"""Shared fixtures: offline, quiet, and one tiny base model built per session."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["SPECS_QUIET"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_program(name: str) -> str:
    """The path of an external program; skipped (with why) on a laptop without it, a failure under CI=true."""
    path = shutil.which(name)
    if path is None:
        why = f"{name} is not installed (`apt-get install {name}`; .ci/run installs it)"
        if IN_CI:
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true only GPU tests may skip: any other skip is turned into a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "GPU" not in reason:
            report.outcome, report.longrepr = (
                "failed",
                f"skipped under CI=true, where only GPU tests may skip: {reason}",
            )


# Small enough to build in ~20 s, trained enough to emit the format now and then (~20 % at T=1),
# so that distill finds pairs; the real default is built by `specs demo`. No separate vision stage
# (vision_steps=0; tests/world/test_vision_pretrain.py covers it): with it this size's zero found no pairs.
TINY_BASE = dict(
    vocab_size=400,
    hidden_size=64,
    intermediate_size=128,
    num_layers=2,
    num_heads=4,
    num_kv_heads=2,
    vision_depth=1,
    vision_hidden_size=32,
    vision_heads=2,
    vision_steps=0,
    pretrain_examples=600,
    steps=600,
    batch_size=8,
    lr=3e-3,
    calibration_n=8,
    max_new_tokens=24,
    vision_position_heads=False,
    vision_count_heads=False,
    count_only_captions=False,  # the tiny base as before
)


@pytest.fixture(scope="session")
def tiny_world():
    from specs_vl.world import WorldConfig

    return WorldConfig(train_size=40, id_test_size=16, ood_test_size=16)


@pytest.fixture(scope="session")
def tiny_base_config():
    from specs_vl.world.base_model import BaseModelConfig

    return BaseModelConfig(**TINY_BASE)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory, tiny_world, tiny_base_config) -> Path:
    from specs_vl.world.base_model import build_base_model

    return build_base_model(tiny_world, tiny_base_config, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_base(tiny_base_dir):
    from specs_vl.models.load import load_vlm

    return load_vlm(tiny_base_dir)


def make_pairs_rows(world, n: int = 16) -> list[dict]:
    """Preference pairs in our distill schema without sampling: chosen is valid, rejected a corruption."""
    from specs_vl.scoring.format import corrupt
    from specs_vl.world import build_split

    rows = []
    for i, ex in enumerate(build_split(world, "train", n)):
        chosen = f"<think>I look at the picture. The answer is {ex['answer']}.</think> <answer>{ex['answer']}</answer>"
        rows.append({"example": ex, "chosen": chosen, "rejected": corrupt(chosen, i % 5 + 1), "corruption": i % 5 + 1})
    return rows


@pytest.fixture(scope="session")
def tiny_pairs_dir(tmp_path_factory, tiny_world) -> Path:
    from specs_vl.recipe.distill import to_preference_dataset

    path = tmp_path_factory.mktemp("pairs") / "pairs"
    to_preference_dataset(make_pairs_rows(tiny_world)).save_to_disk(str(path))
    return path
