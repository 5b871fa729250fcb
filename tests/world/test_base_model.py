"""The tiny base VLM: real architecture, offline round trip, and the multimodal traps."""

from __future__ import annotations

import json

import pytest
import torch

from specs_vl.models.sampling import SampleConfig, encode, generate
from specs_vl.world import build_split


def test_round_trip_offline_with_auto_classes(tiny_base_dir, tiny_world):
    from transformers import (
        AutoModelForImageTextToText,
        AutoProcessor,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
    )

    model = AutoModelForImageTextToText.from_pretrained(tiny_base_dir)
    proc = AutoProcessor.from_pretrained(tiny_base_dir)
    assert isinstance(model, Qwen2_5_VLForConditionalGeneration)
    assert isinstance(proc, Qwen2_5_VLProcessor)
    assert (tiny_base_dir / "model.safetensors").exists()
    calib = json.loads((tiny_base_dir / "calibration.json").read_text())
    assert 0.0 <= calib["format_valid_rate"] <= 1.0 and 0.0 <= calib["accuracy"] <= 1.0
    assert calib["parameters"] == sum(p.numel() for p in model.parameters())
    # The saved weights are the trained ones: a second load gives identical logits.
    again = AutoModelForImageTextToText.from_pretrained(tiny_base_dir)
    batch = encode(proc, build_split(tiny_world, "id_test", 2))
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, again(**batch).logits)
    text = "<think>red: 2. blue: 1.</think> <answer>2</answer>"
    assert proc.tokenizer.decode(proc.tokenizer(text)["input_ids"]) == text


def test_cache_is_reused(tiny_base_dir, tiny_world, tiny_base_config):
    from specs_vl.world.base_model import build_base_model

    before = (tiny_base_dir / "model.safetensors").stat().st_mtime_ns
    again = build_base_model(tiny_world, tiny_base_config, cache_dir=tiny_base_dir.parent)
    assert again == tiny_base_dir
    assert (again / "model.safetensors").stat().st_mtime_ns == before


def test_image_tokens_match_image_features(tiny_base, tiny_world):
    """Trap: 'Image features and image tokens do not match'."""
    model, proc = tiny_base
    exs = build_split(tiny_world, "ood_test", 3)
    batch = encode(proc, exs)
    per_row = (batch["input_ids"] == model.config.image_token_id).sum(1)
    merge = proc.image_processor.merge_size**2
    expected = batch["image_grid_thw"].prod(-1) // merge
    assert torch.equal(per_row, expected)
    with torch.no_grad():
        model(**batch)  # would raise on a mismatch
        # Cutting one image token must be caught by the model, not silently misaligned.
        bad = {k: v.clone() if torch.is_tensor(v) else v for k, v in batch.items()}
        first = (bad["input_ids"][0] == model.config.image_token_id).nonzero()[0, 0]
        bad["input_ids"][0, first] = proc.tokenizer.pad_token_id
        with pytest.raises(ValueError, match="Image features and image tokens do not match"):
            model(**bad)


def test_batched_left_padded_generation_matches_unbatched(tiny_base, tiny_world):
    """Trap: padding direction corrupting the multimodal context."""
    model, proc = tiny_base
    exs = build_split(tiny_world, "ood_test", 6)  # mixed styles -> prompts of different lengths
    lengths = {len(proc.tokenizer(e["question"])["input_ids"]) for e in exs}
    assert len(lengths) > 1
    cfg = SampleConfig(n=1, temperature=0.0, max_new_tokens=16, batch_size=6)
    batched = generate(model, proc, exs, cfg)
    single = [
        generate(model, proc, [e], SampleConfig(n=1, temperature=0.0, max_new_tokens=16, batch_size=1))[0] for e in exs
    ]
    assert batched == single
    # Logits of the last prompt position agree too, not just the argmax.
    with torch.no_grad():
        b = model(**encode(proc, exs)).logits[:, -1]
        for i, e in enumerate(exs):
            s = model(**encode(proc, [e])).logits[:, -1]
            torch.testing.assert_close(b[i : i + 1], s, rtol=1e-4, atol=1e-4)


def test_mrope_position_ids(tiny_base, tiny_world):
    """Trap: wrong M-RoPE positions. Image tokens get a 2-D grid; text continues after it."""
    model, proc = tiny_base
    exs = build_split(tiny_world, "id_test", 2)
    batch = encode(proc, exs)
    pos, _ = model.model.get_rope_index(
        batch["input_ids"], batch["mm_token_type_ids"], batch["image_grid_thw"], attention_mask=batch["attention_mask"]
    )
    assert pos.shape[0] == 3
    for row in range(2):
        ids, mask = batch["input_ids"][row], batch["attention_mask"][row].bool()
        p = pos[:, row][:, mask]
        ids = ids[mask]
        img = (ids == model.config.image_token_id).nonzero().squeeze(1)
        t, h, w = batch["image_grid_thw"][row].tolist()
        gh, gw = h // 2, w // 2
        start = p[0, img[0]].item()
        assert torch.equal(p[1, img] - start, torch.arange(gh).repeat_interleave(gw))
        assert torch.equal(p[2, img] - start, torch.arange(gw).repeat(gh))
        assert torch.all(p[0, img] == start)
        after = img[-1] + 1
        assert torch.all(p[:, after] == start + max(gh, gw))
        # Text positions are equal across the three axes and increase by one.
        text = p[:, after:]
        assert torch.equal(text[0], text[1]) and torch.equal(text[1], text[2])
        assert torch.equal(text[0], torch.arange(text.shape[1]) + text[0, 0])


def test_load_vlm_turns_the_kv_cache_back_on(tiny_base_dir, tmp_path):
    """Trainers save use_cache=false; sampling without a cache is several times slower."""
    from specs_vl.models.load import load_vlm

    model, proc = load_vlm(tiny_base_dir)
    model.config.use_cache = False
    model.save_pretrained(tmp_path / "m")
    proc.save_pretrained(tmp_path / "m")
    again, _ = load_vlm(tmp_path / "m")
    assert again.config.use_cache is True
