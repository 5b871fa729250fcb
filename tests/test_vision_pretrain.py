"""The vision tower's own stage: per-cell labels, the merged-token order they rely on, and the freeze."""

from __future__ import annotations

import torch

from specs_vl.world import WorldConfig
from specs_vl.world.scene import COLORS, SHAPES
from specs_vl.world.vision_pretrain import N_CLASSES, cell_labels, pretrain_vision, scene_tasks


def test_cell_labels_name_each_cell_row_major():
    task = scene_tasks(WorldConfig(), 0, 20)[0]
    y = cell_labels(task)
    items = {(r, c): (col, shp) for r, c, col, shp in task.key[1]}
    assert len(y) == 16 and int((y > 0).sum()) == len(items)
    for (r, c), (col, shp) in items.items():
        k = int(y[r * 4 + c]) - 1
        assert (list(COLORS)[k // len(SHAPES)], SHAPES[k % len(SHAPES)]) == (col, shp)
    assert N_CLASSES == 13


def _tiny_model():
    from specs_vl.world.base_model import BaseModelConfig, make_config, make_processor, train_tokenizer
    from transformers import Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    cfg = BaseModelConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2,
                          num_kv_heads=1, vision_depth=1, vision_hidden_size=32, vision_heads=2)
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
            (name.rstrip("s"), int(n)) for name, n in
            (part.rsplit(" ", 1) for part in caption.split("Counts: ")[1].rstrip(".").replace(";", ",").split(", "))
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
        assert (enc["labels"][row, :len(ids)] == -100).all()
        assert enc["labels"][row, len(ids)] != -100  # the response's first token is supervised
    image = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert not (enc["labels"] == image).any()
