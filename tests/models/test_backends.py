"""The generation backend is a config choice, logged; vLLM paths run only where vLLM and CUDA are."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from specs_vl.models.vllm import resolve_backend, vllm_available
from specs_vl.util.errors import ConfigError

HAS_VLLM = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def test_auto_falls_back_to_hf_and_says_so(capsys):
    if HAS_VLLM:
        pytest.skip("a CPU-only test: vLLM and a CUDA GPU are available here")
    assert resolve_backend("auto", "distill") == "hf"
    assert "distill: generation backend hf (auto)" in capsys.readouterr().err
    assert resolve_backend("hf", "eval") == "hf"


def test_asking_for_vllm_without_it_is_a_clear_error():
    if HAS_VLLM:
        pytest.skip("a CPU-only test: vLLM and a CUDA GPU are available here")
    with pytest.raises(ConfigError, match="needs `pip install vllm` and a CUDA GPU"):
        resolve_backend("vllm", "distill")
    with pytest.raises(ConfigError, match="backend must be auto, hf or vllm"):
        resolve_backend("tgi", "eval")


def test_grpo_vllm_mode_reaches_trl_or_fails_clearly(tmp_path):
    from specs_vl.recipe.zero_config import ZeroConfig
    from specs_vl.training.grpo import grpo_args

    assert not getattr(grpo_args(ZeroConfig(), tmp_path, 1), "use_vllm", False)
    if vllm_available():
        args = grpo_args(ZeroConfig(vllm="colocate"), tmp_path, 1)
        assert args.use_vllm and args.vllm_mode == "colocate"
    else:
        with pytest.raises(ConfigError, match="vllm: colocate needs"):
            grpo_args(ZeroConfig(vllm="colocate"), tmp_path, 1)


@pytest.mark.skipif(not HAS_VLLM, reason="needs vllm and a CUDA GPU")
def test_vllm_engine_is_reused_then_freed_for_the_next(tiny_base_dir, tiny_world):  # pragma: no cover - GPU only
    from transformers import AutoProcessor

    from specs_vl.models.sampling import SampleConfig
    from specs_vl.models.vllm import VLLMEngine, VLLMEngineSettings
    from specs_vl.world import build_split

    exs = build_split(tiny_world, "id_test", 4)
    proc = AutoProcessor.from_pretrained(str(tiny_base_dir))
    settings = VLLMEngineSettings(vllm_gpu_memory_utilization=0.5, vllm_max_model_length=1024)
    for _ in range(2):  # a second engine at 0.5 of the GPU fits only if the first was freed
        with VLLMEngine(tiny_base_dir, settings) as engine:
            outs = engine.generate(proc, exs, SampleConfig(n=2, max_new_tokens=16))
            outs += engine.generate(proc, exs, SampleConfig(n=1, temperature=0, max_new_tokens=16))
            assert engine.builds == 1
        assert len(outs) == 8 and all(isinstance(t, str) for o in outs for t in o)
        assert engine.llm is None
