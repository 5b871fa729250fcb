"""Sampling is ours, not the checkpoint's: HF and vLLM get every knob; RBF without keeping logits; bf16 on GPUs.

The vLLM orchestration (one engine per model, cleanup between models, the
settings that reach `LLM(...)`) runs here against a recording stand-in for the
`vllm` package, since vLLM needs a CUDA GPU; tests/models/test_backends.py runs the
real engine where there is one.
"""

from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
import torch

from specs_vl.config import EvalSettings, RunConfig, validate_model
from specs_vl.models.load import inference_placement, load_vlm
from specs_vl.models.nucleus import nucleus_size
from specs_vl.models.sampling import SampleConfig, encode, generate, generated_mask
from specs_vl.recipe.distill import DistillConfig
from specs_vl.util.errors import ConfigError
from specs_vl.world import build_split

ODD = {"repetition_penalty": 1.05, "top_k": 1, "top_p": 0.001}  # Qwen2.5-VL-7B-Instruct's generation_config


@pytest.fixture(scope="module")
def odd_dir(tiny_base_dir, tmp_path_factory):
    """The tiny base model with Qwen2.5-VL-7B-Instruct's sampling settings in its generation_config.json."""
    out = tmp_path_factory.mktemp("odd") / "model"
    shutil.copytree(tiny_base_dir, out)
    gc_path = out / "generation_config.json"
    gc_path.write_text(json.dumps({**json.loads(gc_path.read_text()), **ODD, "do_sample": True}))
    return out


def test_hf_sampling_ignores_the_checkpoints_generation_config(tiny_base, odd_dir, tiny_world):
    exs = build_split(tiny_world, "id_test", 4)
    cfg = SampleConfig(n=2, temperature=1.0, max_new_tokens=16, seed=3)
    plain = generate(*tiny_base, exs, cfg)
    odd_model, odd_proc = load_vlm(odd_dir)
    assert odd_model.generation_config.repetition_penalty == 1.05 and odd_model.generation_config.top_k == 1
    assert generate(odd_model, odd_proc, exs, cfg) == plain
    assert odd_model.generation_config.top_p == 0.001  # restored after generate
    # The test can fail: the checkpoint's settings, when they are used, change the samples.
    torch.manual_seed(cfg.seed)
    inputs = encode(odd_proc, [e for e in exs for _ in range(cfg.n)])
    old = odd_model.generate(
        **inputs,
        max_new_tokens=16,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        pad_token_id=odd_proc.tokenizer.pad_token_id,
    )  # what the HF path passed before
    old_texts = odd_proc.batch_decode(old[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert [old_texts[i * 2 : i * 2 + 2] for i in range(4)] != plain


def _rbf_from_logits(model, proc, exs, cfg: SampleConfig) -> tuple[list[str], list[float]]:
    """The former computation: keep every step's logits (`output_logits=True`), then nucleus sizes."""
    torch.manual_seed(cfg.seed)
    inputs = encode(proc, [e for e in exs for _ in range(cfg.n)])
    out = model.generate(
        **inputs,
        max_new_tokens=cfg.max_new_tokens,
        do_sample=True,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        top_k=0,
        repetition_penalty=1.0,
        pad_token_id=proc.tokenizer.pad_token_id,
        output_logits=True,
        return_dict_in_generate=True,
    )
    gen = out.sequences[:, inputs["input_ids"].shape[1] :]
    sizes = torch.stack([nucleus_size(s.float() / cfg.temperature, 0.95) for s in out.logits], dim=1).float()
    mask = generated_mask(gen, None, proc.tokenizer.eos_token_id).float()
    return proc.batch_decode(gen, skip_special_tokens=True), ((sizes * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()


def test_rbf_from_the_logits_processor_equals_the_kept_logits(tiny_base, tiny_world, monkeypatch):
    model, proc = tiny_base
    exs = build_split(tiny_world, "id_test", 3)
    cfg = SampleConfig(n=2, temperature=0.7, top_p=0.9, max_new_tokens=20, seed=5, batch_size=64)
    seen: list[dict] = []
    real = model.generate
    monkeypatch.setattr(model, "generate", lambda **kw: seen.append(kw) or real(**kw))
    texts, rbfs = generate(model, proc, exs, cfg, return_scores=True)
    assert seen and not any(kw.get("output_logits") or kw.get("output_scores") for kw in seen)
    monkeypatch.undo()
    old_texts, old_rbfs = _rbf_from_logits(model, proc, exs, cfg)
    assert [t for group in texts for t in group] == old_texts
    assert rbfs == pytest.approx(old_rbfs, rel=1e-6) and max(rbfs) > 1.0


def test_greedy_with_several_samples_is_rejected_in_config_validation():
    with pytest.raises(ConfigError, match=r"eval: .*temperature 0 \(greedy\) with samples=4"):
        validate_model({"temperature": 0, "samples": 4, "ks": [1]}, EvalSettings, "eval")
    with pytest.raises(ConfigError, match=r"distill: .*greedy.*samples=4.*set samples: 1"):
        validate_model({"temperature": 0, "samples": 4}, DistillConfig, "distill")
    with pytest.raises(ConfigError, match=r"run.yaml: eval: .*greedy"):
        validate_model({"eval": {"temperature": 0, "samples": 2, "ks": [1]}}, RunConfig, "run.yaml")
    with pytest.raises(ValueError, match="greedy"):
        SampleConfig(n=3, temperature=0)
    assert EvalSettings(temperature=0, samples=1, ks=[1]).samples == 1  # greedy with one sample is fine
    assert SampleConfig(n=1, temperature=0).n == 1


def test_generation_stages_load_bf16_on_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert inference_placement() == ("cuda", torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert inference_placement() == ("cuda", torch.float16)
    monkeypatch.undo()
    if not torch.cuda.is_available():
        assert inference_placement() == ("cpu", torch.float32)


def test_eval_and_distill_use_the_inference_placement(tiny_base_dir, tiny_world, tmp_path, monkeypatch):
    """The HF backend of eval and distill loads through `inference_placement` (bf16 here stands in for CUDA)."""
    import specs_vl.models.load as load
    import specs_vl.orchestration.eval_stage as pipeline
    import specs_vl.recipe.distill as distill
    import specs_vl.recipe.distill_sampling as distill_sampling

    monkeypatch.setattr(load, "inference_placement", lambda: ("cpu", torch.bfloat16))
    dtypes = []
    real_eval = pipeline.evaluate
    monkeypatch.setattr(pipeline, "evaluate", lambda *a, **k: dtypes.append(k["model"].dtype) or real_eval(*a, **k))
    cfg = RunConfig.model_validate(
        {
            "world": tiny_world.model_dump(),
            "eval": {"suites": ["world-id"], "n": 2, "samples": 1, "ks": [1], "max_new_tokens": 4, "backend": "hf"},
        }
    )
    pipeline.evaluate_stage(cfg, tiny_base_dir, tmp_path / "eval")
    assert dtypes == [torch.bfloat16] and (tmp_path / "eval" / "done.json").exists()

    class Stop(Exception):
        pass

    def spy(model, *a, **k):
        dtypes.append(model.dtype)
        raise Stop

    monkeypatch.setattr(distill_sampling, "generate", spy)
    with pytest.raises(Stop):
        distill.run_distill(
            DistillConfig(backend="hf", train_size=2, judge="none"),
            tiny_base_dir,
            tiny_base_dir,
            tmp_path / "pairs",
            tiny_world,
        )
    assert dtypes[-1] == torch.bfloat16


# --- vLLM, through a recording stand-in for the package (vLLM itself needs CUDA) ---


class _Recorder:
    def __init__(self):
        self.events: list[tuple] = []


@pytest.fixture
def fake_vllm(monkeypatch):
    """A `vllm` module that records engines built, requests and cleanups, and answers every request."""
    rec = _Recorder()

    class LLM:
        def __init__(self, **kwargs):
            rec.events.append(("build", kwargs))

        def generate(self, requests, params):
            rec.events.append(("generate", params.kwargs, len(requests)))
            out = types.SimpleNamespace(text="<think>x</think> <answer>zzz</answer>")
            return [types.SimpleNamespace(outputs=[out] * params.kwargs["n"]) for _ in requests]

        def __del__(self):
            rec.events.append(("freed",))

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    dist, ps = types.ModuleType("vllm.distributed"), types.ModuleType("vllm.distributed.parallel_state")
    ps.cleanup_dist_env_and_memory = lambda: rec.events.append(("cleanup",))
    for name, mod in (("vllm", vllm), ("vllm.distributed", dist), ("vllm.distributed.parallel_state", ps)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr("specs_vl.models.vllm.vllm_available", lambda: True)
    return rec


def test_eval_builds_one_vllm_engine_per_model_and_frees_it(fake_vllm, tiny_base_dir, tiny_world, tmp_path):
    from specs_vl.orchestration.eval_stage import evaluate_stage

    cfg = RunConfig.model_validate(
        {
            "world": tiny_world.model_dump(),
            "eval": {
                "suites": ["world-id", "world-ood"],
                "n": 2,
                "samples": 2,
                "ks": [1, 2],
                "backend": "vllm",
                "vllm_gpu_memory_utilization": 0.6,
                "vllm_max_model_length": 2048,
                "vllm_tensor_parallel_size": 2,
            },
        }
    )
    evaluate_stage(cfg, tiny_base_dir, tmp_path / "a")
    evaluate_stage(cfg, tiny_base_dir, tmp_path / "b")
    kinds = [e[0] for e in fake_vllm.events]
    # per model: one engine for both suites, freed (del, gc) and cleaned up before the next model's engine
    assert kinds == ["build", "generate", "generate", "freed", "cleanup"] * 2
    built = fake_vllm.events[0][1]
    assert built["gpu_memory_utilization"] == 0.6 and built["max_model_len"] == 2048
    assert built["tensor_parallel_size"] == 2 and built["enable_sleep_mode"] is False
    assert built["generation_config"] == "vllm"  # the checkpoint's generation_config.json is not read
    params = fake_vllm.events[1][1]
    assert params == {
        "n": 2,
        "temperature": 1.0,
        "top_p": 1.0,
        "top_k": 0,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "max_tokens": 64,
        "seed": 0,
    }
    assert json.loads((tmp_path / "a" / "world-ood" / "metrics.json").read_text())["backend"] == "vllm"


def test_distill_frees_the_first_engine_before_the_second(fake_vllm, tiny_base_dir, tiny_world, tmp_path):
    from specs_vl.recipe.distill import run_distill

    cfg = DistillConfig(backend="vllm", train_size=3, samples=2, judge="none", vllm_gpu_memory_utilization=0.5)
    with pytest.raises(ValueError, match="no pairs"):  # the stand-in answers zzz to everything
        run_distill(cfg, tiny_base_dir, tiny_base_dir, tmp_path / "pairs", tiny_world)
    kinds = [e[0] for e in fake_vllm.events]
    assert kinds == ["build", "generate", "freed", "cleanup", "build", "generate", "freed", "cleanup"]
    assert fake_vllm.events[0][1]["gpu_memory_utilization"] == 0.5


def test_trl_gets_every_sampling_knob_and_our_vllm_keys():
    """GRPO (zero, rl) names the same knobs; the vllm_* keys are GRPOConfig's own field names."""
    from trl import GRPOConfig

    from specs_vl.models.vllm import VLLMSettings, trl_sampling_kwargs, trl_vllm_kwargs

    assert trl_sampling_kwargs() == {"top_p": 1.0, "top_k": 0, "min_p": None, "repetition_penalty": 1.0}
    kw = trl_vllm_kwargs(
        VLLMSettings(
            vllm_max_model_length=4096,
            vllm_gpu_memory_utilization=0.45,
            vllm_enable_sleep_mode=True,
            vllm_tensor_parallel_size=2,
        )
    )
    fields = GRPOConfig.__dataclass_fields__
    assert set(kw) | set(trl_sampling_kwargs()) <= set(fields)
    assert kw == {
        "vllm_max_model_length": 4096,
        "vllm_gpu_memory_utilization": 0.45,
        "vllm_enable_sleep_mode": True,
        "vllm_tensor_parallel_size": 2,
    }
    with pytest.raises(ConfigError, match="vllm_max_model_length 64 must exceed the completion length 64"):
        validate_model({"vllm_max_model_length": 64, "max_new_tokens": 64}, DistillConfig, "distill")
