"""GRPO's prompts: images read at the bounded processor's size, over-long prompts (image tokens counted) dropped."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from specs_vl.data.schema import user_message
from specs_vl.models.load import load_processor
from specs_vl.models.loading import Loading
from specs_vl.training.prompt_length import fit_prompts, prompt_tokens
from specs_vl.training.train_split import rl_dataset
from specs_vl.world import build_split


@pytest.fixture(scope="module")
def wide_processor(tiny_base_dir):
    """The tiny base's processor with a 7B-like range, so image size changes the token count."""
    return load_processor(tiny_base_dir, Loading(min_pixels=3136, max_pixels=200_704))


def _as_processed(example, processor) -> int:
    text = processor.apply_chat_template(user_message(example), tokenize=False, add_generation_prompt=True)
    return int(processor(text=[text], images=[example["image"]], return_tensors="pt")["input_ids"].shape[1])


@pytest.mark.parametrize("size", [(112, 112), (4000, 3000), (300, 90)])
def test_prompt_tokens_count_the_image_as_the_processor_expands_it(tiny_world, wide_processor, size, tmp_path):
    ex = {**build_split(tiny_world, "train", 1)[0]}
    ex["image"] = ex["image"].resize(size)
    ex["image"].save(tmp_path / "img.png")
    stored = {**ex, "image": {"bytes": None, "path": str(tmp_path / "img.png")}}  # as a user's training set holds it
    as_read = {**ex, "image": rl_dataset([stored], wide_processor)[0]["image"]}  # decoded and bounded, as TRL reads it
    assert (
        prompt_tokens(ex, wide_processor)
        == prompt_tokens(stored, wide_processor)  # counted from the header alone
        == _as_processed(ex, wide_processor)
        == _as_processed(as_read, wide_processor)
    )  # resizing first changes nothing the processor would not have done itself


def test_over_long_prompts_are_dropped_and_counted(tiny_world, wide_processor):
    examples = build_split(tiny_world, "train", 6)
    examples[1] = {**examples[1], "image": Image.new("RGB", (4000, 3000), "white")}  # 256 image tokens at most
    examples[4] = {**examples[4], "image": Image.new("RGB", (2000, 2000), "white")}
    lengths = [prompt_tokens(e, wide_processor) for e in fit_prompts(examples, wide_processor, None)[0]]
    limit = sorted(lengths)[-3]  # the two large images are over it, the world's are not
    kept, dropped = fit_prompts(examples, wide_processor, limit)
    assert dropped == 2 and [e["id"] for e in kept] == [examples[i]["id"] for i in (0, 2, 3, 5)]
    assert max(lengths) <= 200_704 // 784 + 100  # bounded: max_pixels / 28^2 image tokens plus the text


def test_the_rl_stage_records_what_it_dropped(tiny_base_dir, tiny_world, tmp_path):
    from specs_vl.recipe.rl import RLConfig, run_rl

    cfg = RLConfig(
        steps=1,
        num_generations=2,
        prompts_per_step=2,
        max_completion_length=8,
        max_prompt_length=16,  # shorter than any world prompt with its image
        train_size=4,
        eval_id_n=1,
        eval_ood_n=1,
        eval_samples=1,
    )
    from specs_vl.util.errors import DataError

    with pytest.raises(DataError, match="0 examples, fewer than the 2 prompts"):
        run_rl(cfg, tiny_base_dir, tmp_path / "rl", tiny_world)
    assert not (tmp_path / "rl").exists(), list((tmp_path / "rl").rglob("*"))  # refused before anything is written
    ok = cfg.model_copy(update={"max_prompt_length": 4096})
    result = run_rl(ok, tiny_base_dir, tmp_path / "rl2", tiny_world)
    assert result["prompts_dropped"] == 0
    assert json.loads((tmp_path / "rl2" / "result.json").read_text())["prompts_dropped"] == 0
