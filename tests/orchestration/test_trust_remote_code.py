"""`trust_remote_code` reaches every model load as an argument, from the run config, never through os.environ."""

from __future__ import annotations

import os

import pytest


class Loaded(Exception):
    """Raised by the stand-in loader: the stage got as far as loading, with these arguments."""


def _capture(seen: list):
    def load(path, *args, **kwargs):
        seen.append(kwargs.get("trust_remote_code", args[-1] if args else None))
        raise Loaded

    return load


@pytest.mark.parametrize("trust", [True, False])
def test_each_stage_loads_with_the_run_configs_choice(tmp_path, monkeypatch, trust, tiny_base_dir):
    from specs_vl import api
    from specs_vl.evaluation import standalone
    from specs_vl.recipe import rl, zero

    monkeypatch.delenv("SPECS_TRUST_REMOTE_CODE", raising=False)
    seen: list = []
    monkeypatch.setattr(zero, "load_vlm", _capture(seen))
    monkeypatch.setattr(rl, "load_vlm", _capture(seen))
    monkeypatch.setattr(standalone, "load_for_inference", _capture(seen))
    cfg = api.load_config(
        None, [f"trust_remote_code={str(trust).lower()}", "world.train_size=16", "zero.prompts_per_step=2"]
    )
    for call in (
        lambda: api.run_zero(cfg, out=tmp_path / "zero", model=tiny_base_dir),
        lambda: api.run_rl(cfg, out=tmp_path / "rl", model=tiny_base_dir),
        lambda: api.evaluate(tiny_base_dir, "world-dev", config=cfg, out=tmp_path / "eval", n=2),
    ):
        with pytest.raises(Loaded):
            call()
    assert seen == [trust, trust, trust]
    assert "SPECS_TRUST_REMOTE_CODE" not in os.environ  # nothing global: two configs in one process stay apart


def test_the_loader_is_off_unless_asked(monkeypatch):
    import inspect

    from specs_vl.models.load import load_for_inference, load_vlm
    from specs_vl.models.vllm import engine_kwargs
    from specs_vl.models.vllm_settings import VLLMEngineSettings

    monkeypatch.setenv("SPECS_TRUST_REMOTE_CODE", "1")  # the old switch no longer turns anything on
    assert inspect.signature(load_vlm).parameters["trust_remote_code"].default is False
    assert inspect.signature(load_for_inference).parameters["trust_remote_code"].default is False
    assert engine_kwargs("m", VLLMEngineSettings())["trust_remote_code"] is False
    assert engine_kwargs("m", VLLMEngineSettings(), trust_remote_code=True)["trust_remote_code"] is True
