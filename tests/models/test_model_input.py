"""`check_vlm_dir` / `load_vlm`: a model directory that cannot serve as the VLM fails with a clear ModelError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from specs_vl.models.load import check_vlm_dir, load_vlm
from specs_vl.util.errors import ModelError

TENSOR = "model.layers.0.mlp.up_proj.weight"  # as a saved Qwen2.5-VL checkpoint names it


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory) -> Path:
    """An untrained tiny Qwen2.5-VL saved like the base model: seconds to build, where `tiny_base_dir`
    pretrains for a minute or more on a busy 2-core machine; loading does not care about the weights' values."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from specs_vl.world.base_model import (
        BaseModelConfig,
        make_config,
        make_processor,
        train_tokenizer,
    )

    torch.manual_seed(0)
    cfg = BaseModelConfig(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=128,
        num_layers=1,
        num_heads=4,
        num_kv_heads=2,
        vision_depth=1,
        vision_hidden_size=32,
        vision_heads=2,
    )
    tokenizer = train_tokenizer(["<think>the answer is 4</think> <answer>4</answer>"] * 4, cfg.vocab_size)
    path = tmp_path_factory.mktemp("vlm") / "model"
    Qwen2_5_VLForConditionalGeneration(make_config(tokenizer, cfg)).save_pretrained(path)
    make_processor(tokenizer).save_pretrained(path)
    return path


@pytest.fixture()
def model_copy(vlm_dir, tmp_path) -> Path:
    return Path(shutil.copytree(vlm_dir, tmp_path / "model"))


def _rewrite(model_dir: Path, change) -> None:
    from safetensors.torch import load_file, save_file

    path = model_dir / "model.safetensors"
    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path), metadata={"format": "pt"})


def test_missing_dir(tmp_path):
    for f in (check_vlm_dir, load_vlm):
        with pytest.raises(ModelError, match="model directory does not exist") as e:
            f(tmp_path / "no_such_model")
        assert "no_such_model" in str(e.value)


def test_text_only_lm(tmp_path):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    Qwen2ForCausalLM(cfg).save_pretrained(tmp_path / "lm")
    for f in (check_vlm_dir, load_vlm):
        with pytest.raises(ModelError, match="model_type 'qwen2' is a text-only model") as e:
            f(tmp_path / "lm")
        assert "lm" in str(e.value)


def test_config_but_no_weights(model_copy):
    (model_copy / "model.safetensors").unlink()
    for f in (check_vlm_dir, load_vlm):
        with pytest.raises(ModelError, match="config.json but no weights"):
            f(model_copy)


def test_wrong_tensor_shape_names_file_and_tensor(model_copy):
    import torch

    shape = []

    def grow(t):
        shape.extend(t[TENSOR].shape)
        t[TENSOR] = torch.zeros(shape[0] + 3, shape[1])

    _rewrite(model_copy, grow)
    with pytest.raises(ModelError) as e:
        load_vlm(model_copy)
    msg = str(e.value)
    assert str(model_copy / "model.safetensors") in msg and f"tensor '{TENSOR}'" in msg, msg
    assert f"has shape [{shape[0] + 3}, {shape[1]}] but config.json needs {shape}" in msg, msg


def test_tensor_missing_from_checkpoint_is_not_random_initialised(model_copy):
    _rewrite(model_copy, lambda t: t.pop(TENSOR))
    with pytest.raises(ModelError, match="missing from the checkpoint, first 'model.language_model.layers.0.mlp"):
        load_vlm(model_copy)


def test_corrupt_safetensors_and_missing_shard(model_copy):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelError, match="model.safetensors: not a readable safetensors file"):
        check_vlm_dir(model_copy)
    weights.unlink()
    (model_copy / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": {TENSOR: "model-00001-of-00002.safetensors"}})
    )
    with pytest.raises(ModelError, match="names shard model-00001-of-00002.safetensors, which is missing"):
        check_vlm_dir(model_copy)


def test_good_dir_still_loads(vlm_dir):
    assert "vision_config" in check_vlm_dir(vlm_dir)
    model, processor = load_vlm(vlm_dir)
    assert model.config.use_cache and processor is not None
