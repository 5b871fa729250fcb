"""How a model loads reaches every stage as an argument from the run config (`RunConfig.loading()`): remote code,
never through os.environ, and the image-token bound (`images.min_pixels` / `max_pixels`)."""

from __future__ import annotations

import os

import pytest

from specs_vl.models.loading import Loading


class Loaded(Exception):
    """Raised by the stand-in loader: the stage got as far as loading, with these arguments."""


def _capture(seen: list):
    def load(path, *args, **kwargs):
        seen.append(kwargs.get("loading", args[-1] if args else None))
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
        None,
        [
            f"trust_remote_code={str(trust).lower()}",
            "images.max_pixels=50176",
            "world.train_size=16",
            "zero.prompts_per_step=2",
        ],
    )
    for call in (
        lambda: api.run_zero(cfg, out=tmp_path / "zero", model=tiny_base_dir),
        lambda: api.run_rl(cfg, out=tmp_path / "rl", model=tiny_base_dir),
        lambda: api.evaluate(tiny_base_dir, "world-dev", config=cfg, out=tmp_path / "eval", n=2),
    ):
        with pytest.raises(Loaded):
            call()
    assert seen == [Loading(trust, None, 50176)] * 3
    assert "SPECS_TRUST_REMOTE_CODE" not in os.environ  # nothing global: two configs in one process stay apart


def test_the_loader_is_off_and_unbounded_unless_asked(monkeypatch):
    import inspect

    from specs_vl.models.load import load_for_inference, load_vlm
    from specs_vl.models.vllm import engine_kwargs
    from specs_vl.models.vllm_settings import VLLMEngineSettings

    monkeypatch.setenv("SPECS_TRUST_REMOTE_CODE", "1")  # the old switch no longer turns anything on
    for f in (load_vlm, load_for_inference):
        assert inspect.signature(f).parameters["loading"].default == Loading(False, None, None)
    plain = engine_kwargs("m", VLLMEngineSettings())
    assert plain["trust_remote_code"] is False and plain["mm_processor_kwargs"] is None
    asked = engine_kwargs("m", VLLMEngineSettings(), loading=Loading(True, 3136, 50176))
    assert asked["trust_remote_code"] is True
    assert asked["mm_processor_kwargs"] == {"min_pixels": 3136, "max_pixels": 50176}  # vLLM's HF processor


def test_a_large_image_is_bounded_the_same_by_the_processor_and_by_resizing(tiny_base_dir):
    """A 4000 x 3000 image: the bounded processor and the resized image give one grid, within max_pixels,
    so TRL's vLLM engine (the checkpoint's processor, no mm_processor_kwargs) sees the same tokens."""
    from PIL import Image

    from specs_vl.models.load import load_processor
    from specs_vl.models.loading import bound_image

    big = Image.new("RGB", (4000, 3000), "white")
    free = load_processor(tiny_base_dir, Loading(min_pixels=3136, max_pixels=12845056))  # as Qwen2.5-VL-7B's
    bounded = load_processor(tiny_base_dir, Loading(max_pixels=50176, min_pixels=3136))
    resized = bound_image(big, bounded)
    assert resized.size[0] * resized.size[1] <= 50176 and resized.size[0] % 28 == 0 and resized.size[1] % 28 == 0
    grid = bounded.image_processor(images=[big], return_tensors="pt")["image_grid_thw"].tolist()
    assert free.image_processor(images=[resized], return_tensors="pt")["image_grid_thw"].tolist() == grid
    assert bound_image(resized, bounded) is resized  # already at its size: untouched


def test_image_bounds_are_validated():
    from pydantic import ValidationError

    from specs_vl.config import load_run_config

    with pytest.raises(Exception, match="min_pixels 100000 is above max_pixels 50176"):
        load_run_config(None, ("images.min_pixels=100000", "images.max_pixels=50176"))
    with pytest.raises((ValidationError, Exception), match="max_pixels"):
        load_run_config(None, ("images.max_pixels=100",))
