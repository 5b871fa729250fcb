"""The vision tower's own stage: per-cell labels, the merged-token order they rely on, and the freeze."""

from __future__ import annotations

import torch

from specs_vl.world import WorldConfig
from specs_vl.world.scene import COLORS, SHAPES
from specs_vl.world.vision_pretrain import (
    MAX_COUNT,
    N_CLASSES,
    _counts,
    cell_labels,
    count_labels,
    pretrain_vision,
    scene_tasks,
)


def test_cell_labels_name_each_cell_row_major():
    task = scene_tasks(WorldConfig(), 0, 20)[0]
    y = cell_labels(task)
    items = {(r, c): (col, shp) for r, c, col, shp in task.key[1]}
    assert len(y) == 16 and int((y > 0).sum()) == len(items)
    for (r, c), (col, shp) in items.items():
        k = int(y[r * 4 + c]) - 1
        assert (list(COLORS)[k // len(SHAPES)], SHAPES[k % len(SHAPES)]) == (col, shp)
    assert N_CLASSES == 13


def _tiny_model(vision_depth: int = 1, vision_hidden_size: int = 32):
    from transformers import Qwen2_5_VLForConditionalGeneration

    from specs_vl.world.base_model import BaseModelConfig, make_config, make_processor, train_tokenizer

    torch.manual_seed(0)
    cfg = BaseModelConfig(
        vocab_size=300,
        hidden_size=32,
        intermediate_size=64,
        num_layers=1,
        num_heads=2,
        num_kv_heads=1,
        vision_depth=vision_depth,
        vision_hidden_size=vision_hidden_size,
        vision_heads=2,
    )
    tok = train_tokenizer(["a red circle in the top row"] * 4, cfg.vocab_size)
    return Qwen2_5_VLForConditionalGeneration(make_config(tok, cfg)), make_processor(tok)


def test_probe_learns_cells_in_merged_token_order_and_freezes_all_but_the_merger():
    """A probe trained on the tower's merged tokens beats the all-empty guess only if token i is cell i:
    Qwen2.5-VL's window permutation must be undone before the merger's output (as transformers does)."""
    model, processor = _tiny_model()
    world = WorldConfig()
    held = torch.cat([cell_labels(t) for t in scene_tasks(world, 400, 256)])
    empty_share = (held == 0).float().mean().item()
    out = pretrain_vision(model, processor, world, steps=150, batch_size=32, lr=3e-3, seed=0, pool=400)
    assert out["cell_accuracy"] > empty_share + 0.2, (out, empty_share)
    assert out["shape_accuracy"] > 0.6, out  # a guess gets 1/3
    trainable = {n for n, p in model.model.visual.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("merger") for n in trainable)
    assert all(p.requires_grad for p in model.model.language_model.parameters())


def test_captions_list_rows_then_counts_that_match_the_scene():
    from specs_vl.world.corpus import describe

    for task in scene_tasks(WorldConfig(), 0, 30)[:10]:
        caption = describe(task)
        counts = dict(
            (name.rstrip("s"), int(n))
            for name, n in (
                part.rsplit(" ", 1) for part in caption.split("Counts: ")[1].rstrip(".").replace(";", ",").split(", ")
            )
        )
        items = task.key[1]
        assert caption.startswith("top: ")
        for c in COLORS:
            assert counts[c] == sum(col == c for *_, col, _ in items)
        for k in SHAPES:
            assert counts[k] == sum(sh == k for *_, sh in items)


def test_pretraining_batches_mask_exactly_the_prompt_with_its_expanded_image(tiny_base_dir):
    """The cheap prompt length (tokens + expanded image) equals the processor's own count on the same
    prompts, so the supervised tokens are the response and its <|im_end|> alone."""
    import random

    from specs_vl.models.load import load_vlm
    from specs_vl.models.sampling import chat_prompts
    from specs_vl.world.base_model import BaseModelConfig, _batch, pretrain_corpus

    _, processor = load_vlm(tiny_base_dir)
    corpus = pretrain_corpus(WorldConfig(), BaseModelConfig(pretrain_examples=64))
    pairs = random.Random(0).sample(corpus, 16)
    enc = _batch(processor, pairs)
    prompts = chat_prompts(processor, [ex for ex, _ in pairs])
    full = processor(text=prompts, images=[ex["image"] for ex, _ in pairs])["input_ids"]
    for row, ids in enumerate(full):
        assert (enc["labels"][row, : len(ids)] == -100).all()
        assert enc["labels"][row, len(ids)] != -100  # the response's first token is supervised
    image = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert not (enc["labels"] == image).any()


def test_position_heads_make_each_token_name_its_row_and_column():
    """With `position_heads` the probe also names each merged token's row and column (for `where`); without it
    the output has no such figures."""
    # the demo tower's size: a one-block, 32-wide tower stays at a guess for rows or columns within 150 steps
    model, processor = _tiny_model(vision_depth=2, vision_hidden_size=64)
    out = pretrain_vision(
        model, processor, WorldConfig(), steps=200, batch_size=32, lr=3e-3, seed=0, pool=200, position_heads=True
    )
    assert out["row_accuracy"] > 0.6 and out["col_accuracy"] > 0.6, out  # a guess gets 1/4
    model, processor = _tiny_model()
    plain = pretrain_vision(model, processor, WorldConfig(), steps=2, batch_size=4, lr=3e-3, seed=0, pool=50)
    assert "row_accuracy" not in plain and "col_accuracy" not in plain


def test_count_labels_are_the_image_counts_of_each_shape_then_colour():
    tasks = scene_tasks(WorldConfig(), 0, 200)
    for task in tasks[:20]:
        y = count_labels(task).tolist()
        items = task.key[1]
        assert y == [sum(s == shp for *_, s in items) for shp in SHAPES] + [
            sum(c == col for *_, c, _ in items) for col in COLORS
        ]
    assert max(int(count_labels(t).max()) for t in tasks) <= MAX_COUNT


def test_count_heads_train_with_the_tower():
    """The count loss reaches the optimiser: 60 steps lift the held-out count accuracy from an untrained head's
    (5 % of shape counts, 14 % of colour counts here) to above 20 % on both."""
    scores = []
    for steps in (0, 60):
        model, processor = _tiny_model()
        out = pretrain_vision(
            model, processor, WorldConfig(), steps=steps, batch_size=16, lr=3e-3, seed=0, pool=200, count_heads=True
        )
        scores.append((out["shape_count_accuracy"], out["color_count_accuracy"]))
    (shape0, color0), (shape, color) = scores
    assert shape > 0.2 and color > 0.2 and shape > shape0 + 0.1 and color > color0 + 0.1, scores


def test_every_token_of_an_image_is_scored_against_that_image_counts():
    """The count head's targets line up with the tower's output: an image's merged tokens are consecutive, so a
    head that names image i's counts from token i // 16 is right everywhere, and one shifted by an image is not."""
    tasks = scene_tasks(WorldConfig(), 0, 40)[:3]
    k = len(SHAPES) + len(COLORS)
    truth = torch.stack([count_labels(t) for t in tasks])

    def head_naming(counts: torch.Tensor) -> torch.nn.Module:
        one_hot = torch.nn.functional.one_hot(counts, MAX_COUNT + 1).float().flatten(1) * 50
        return lambda merged: one_hot[merged[:, 0].long()]

    merged = torch.arange(len(tasks)).repeat_interleave(16)[:, None].float()  # token -> its image's index
    loss, right = _counts(head_naming(truth), merged, tasks)
    assert right.shape == (16 * len(tasks), k) and bool(right.all()) and loss.item() < 1e-3
    _, shifted = _counts(head_naming(truth.roll(1, 0)), merged, tasks)
    assert not bool(shifted.all())


def test_later_base_options_keep_existing_cache_keys_until_set():
    """Options added after bases were cached hash only when they differ from the value that built those bases:
    a base built before them keeps its key, and a base built with an option never reuses one built without."""
    import hashlib
    import json

    from specs_vl.world.base_config import CODE_VERSION, LATER_FIELDS, BaseModelConfig, cache_key

    world = WorldConfig()
    old = BaseModelConfig(vision_steps=250, **LATER_FIELDS)  # the session-6 study base's recipe
    # the key as it was computed before these options existed: their fields absent from the config
    before = {k: v for k, v in old.model_dump(mode="json").items() if k not in LATER_FIELDS}
    seen = {k: v for k, v in world.model_dump(mode="json").items() if k != "test_start"}  # added later, unkeyed
    blob = json.dumps([seen, before, CODE_VERSION], sort_keys=True)
    assert cache_key(world, old) == hashlib.sha256(blob.encode()).hexdigest()[:16] == "8d2f0e5f8b6df259"
    keys = {cache_key(world, old)}
    for field, value in LATER_FIELDS.items():
        keys.add(cache_key(world, old.model_copy(update={field: not value})))
    assert len(keys) == 1 + len(LATER_FIELDS)
    assert cache_key(world, old.model_copy(update={"steps": old.steps + 1})) not in keys
    assert cache_key(world, BaseModelConfig()) not in keys  # today's default is none of them


def test_count_only_captions_alternate_with_full_ones_on_grid_scenes():
    from specs_vl.world.base_model import BaseModelConfig, pretrain_corpus
    from specs_vl.world.corpus import CAPTION_QUESTION

    def grid_captions(cfg):
        return [
            (ex, r)
            for ex, r in pretrain_corpus(WorldConfig(), cfg)
            if ex["question"] == CAPTION_QUESTION and not r.startswith(("Bars:", "Dice:"))
        ]

    plain = grid_captions(BaseModelConfig(pretrain_examples=400, count_only_captions=False))
    split = grid_captions(BaseModelConfig(pretrain_examples=400, count_only_captions=True))
    assert len(plain) == len(split) >= 20 and not any(r.startswith("Counts:") for _, r in plain)
    for i, ((_, full), (_, caption)) in enumerate(zip(plain, split)):
        assert caption == (full if i % 2 == 0 else "Counts:" + full.split("Counts:")[1]), i


def test_the_build_passes_the_options_through(tmp_path):
    """`base.vision_position_heads` and `vision_count_heads` reach the vision stage (their accuracies land in
    calibration.json), and the options give the build its own cache directory."""
    import json

    from conftest import TINY_BASE

    from specs_vl.world.base_model import BaseModelConfig, build_base_model

    world = WorldConfig(train_size=40, id_test_size=16, ood_test_size=16)
    tiny = {**TINY_BASE, "steps": 5, "pretrain_examples": 200, "vision_steps": 3, "calibration_n": 4}
    plain = build_base_model(world, BaseModelConfig(**tiny), cache_dir=tmp_path)  # TINY_BASE: all three off
    opted = build_base_model(
        world,
        BaseModelConfig(
            **{**tiny, "vision_position_heads": True, "count_only_captions": True, "vision_count_heads": True}
        ),
        cache_dir=tmp_path,
    )
    assert plain != opted
    probe = json.loads((opted / "calibration.json").read_text())["vision_probe"]
    assert {"row_accuracy", "shape_count_accuracy", "color_count_accuracy"} <= set(probe)
    plain_probe = json.loads((plain / "calibration.json").read_text())["vision_probe"]
    assert not {"row_accuracy", "shape_count_accuracy"} & set(plain_probe)
