"""The tiny base VLM: real Qwen2.5-VL architecture, pretrained on the world.

It stands in for Qwen2.5-VL-7B-Instruct. It reasons passably about the world
but follows the `<think>`/`<answer>` format only part of the time, because
its corpus (world/corpus.py) mixes response styles as an instruct model does.
The tokenizer is trained locally and the processor is the real
`Qwen2_5_VLProcessor`, so every later stage runs the same code as with real
weights. The pretraining loop is hand-written on purpose: it simulates
*someone else's* pretraining and is not part of the SPECS recipe.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from specs_vl.data.schema import prompt_text
from specs_vl.models.sampling import chat_prompts
from specs_vl.util.atomic import atomic_dir
from specs_vl.util.progress import bar, say

from .base_config import BaseModelConfig, cache_key, cache_root, find_base
from .calibration import calibrate
from .corpus import CAPTION_QUESTION, CAPTION_SHARE, base_response, count_caption, describe
from .dataset import WorldConfig, draw, example_from_task
from .vision_pretrain import pretrain_vision

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
FORMAT_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"]
# Qwen2-VL's chat template, minus the default system prompt (shorter sequences).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for c in message['content'] -%}"
    "{%- if c['type'] == 'image' or 'image' in c -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
    "{%- elif c['type'] == 'text' -%}{{- c['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<|im_end|>\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE (as Qwen's), trained on the world's text."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    fast.add_tokens(FORMAT_TOKENS)
    return fast


def make_processor(tokenizer):
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl import (
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    sizes = dict(min_pixels=112 * 112, max_pixels=112 * 112, patch_size=14, temporal_patch_size=2, merge_size=2)
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**sizes),
        video_processor=Qwen2VLVideoProcessor(**sizes),
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )


def make_config(tokenizer, cfg: BaseModelConfig):
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import Qwen2_5_VLConfig

    head_dim = cfg.hidden_size // cfg.num_heads
    half = head_dim // 2  # M-RoPE splits head_dim/2 frequencies into (t, h, w)
    mrope = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]
    ids = tokenizer.convert_tokens_to_ids
    return Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=cfg.hidden_size,
            intermediate_size=cfg.intermediate_size,
            num_hidden_layers=cfg.num_layers,
            num_attention_heads=cfg.num_heads,
            num_key_value_heads=cfg.num_kv_heads,
            max_position_embeddings=1024,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
            bos_token_id=ids("<|endoftext|>"),
            eos_token_id=ids("<|im_end|>"),
            pad_token_id=ids("<|endoftext|>"),
        ),
        vision_config=dict(
            depth=cfg.vision_depth,
            hidden_size=cfg.vision_hidden_size,
            intermediate_size=2 * cfg.vision_hidden_size,
            num_heads=cfg.vision_heads,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=112,
            out_hidden_size=cfg.hidden_size,
            fullatt_block_indexes=[cfg.vision_depth - 1],
        ),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=True,
    )


def pretrain_corpus(world: WorldConfig, cfg: BaseModelConfig) -> list[tuple[dict[str, Any], str]]:
    """(example, response) pairs from the world's `pretrain` split."""
    rng = random.Random(cfg.seed)
    out = []
    grid_captions = 0
    for i in range(cfg.pretrain_examples):
        task, style = draw(world, "pretrain", i)
        ex = example_from_task(task, style, "pretrain", f"pretrain-{i}")
        if rng.random() < CAPTION_SHARE:
            caption = describe(task)
            if cfg.count_only_captions and task.key[0] not in ("bars", "dice"):
                caption = count_caption(task.key[1]) if grid_captions % 2 else caption
                grid_captions += 1
            out.append((dict(ex, question=CAPTION_QUESTION, instruction_style="none"), caption))
        else:
            out.append((ex, base_response(task, style, rng)))
    return out


def _batch(processor, pairs: list[tuple[dict[str, Any], str]]) -> dict[str, torch.Tensor]:
    """Tokenise prompt+response; supervise only the response and its <|im_end|>."""

    prompts = chat_prompts(processor, [ex for ex, _ in pairs])
    full = [p + r + "<|im_end|>" for p, (_, r) in zip(prompts, pairs)]
    processor.tokenizer.padding_side = "right"
    enc = processor(text=full, images=[ex["image"] for ex, _ in pairs], return_tensors="pt", padding=True)
    prompt_lens = _prompt_lengths(processor, prompts, enc["image_grid_thw"])
    labels = enc["input_ids"].clone()
    for row, n in enumerate(prompt_lens):
        labels[row, :n] = -100
    labels[enc["attention_mask"] == 0] = -100
    enc["labels"] = labels
    return enc


def _prompt_lengths(processor, prompts: list[str], grid_thw: torch.Tensor) -> list[int]:
    """Each prompt's length once its image is expanded, without a second pass through the image processor
    (that pass took 18 % of pretraining: 624 s -> 510 s for the demo base, the same model). Qwen2.5-VL's
    processor (`replace_image_token`) turns a prompt's one <|image_pad|> into grid_thw.prod() // merge_size**2
    copies."""
    extra = (grid_thw.prod(-1) // processor.image_processor.merge_size**2 - 1).tolist()
    return [len(ids) + n for ids, n in zip(processor.tokenizer(prompts)["input_ids"], extra)]


def pretrain(model, processor, corpus, cfg: BaseModelConfig, on_step: Callable[[int, float], None] | None = None):
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]  # a frozen vision tower stays out
    opt = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, cfg.steps // 20)
    # Not transformers' get_cosine_schedule_with_warmup: that one starts at lr 0 and begins its cosine after
    # the warm-up, this one multiplies the two. The shipped base's weights (world/shipped, sha256-tested) were
    # trained under this exact schedule; changing it changes the base every measured number stands on.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps)))
    )
    model.train()
    for step in range(cfg.steps):
        batch = _batch(processor, rng.sample(corpus, cfg.batch_size))
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if on_step:
            on_step(step, loss.item())
    model.eval()


def build_base_model(
    world: WorldConfig | None = None,
    cfg: BaseModelConfig | None = None,
    cache_dir: Path | None = None,
    force: bool = False,
) -> Path:
    """The tiny base model's directory: the one shipped with the package, else the cache's, else built.

    `force` builds from the recipe whatever exists. A build is keyed by the
    world and model configs, written to a temp dir and renamed into place, so
    a killed build never leaves a half model.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import Qwen2_5_VLForConditionalGeneration

    world, cfg = world or WorldConfig(), cfg or BaseModelConfig()
    found = None if force else find_base(world, cfg, cache_dir)
    if found:
        return found
    root = Path(cache_dir) if cache_dir else cache_root()
    final = root / f"base-{cache_key(world, cfg)}"
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(cfg.seed)
    corpus = pretrain_corpus(world, cfg)
    tokenizer = train_tokenizer([prompt_text(ex) + "\n" + r for ex, r in corpus], cfg.vocab_size)
    processor = make_processor(tokenizer)
    model = Qwen2_5_VLForConditionalGeneration(make_config(tokenizer, cfg))
    probe = None
    if cfg.vision_steps:
        with bar("pretraining the vision tower (per-cell probe)", cfg.vision_steps) as b:
            probe = pretrain_vision(
                model,
                processor,
                world,
                cfg.vision_steps,
                cfg.vision_batch_size,
                cfg.vision_lr,
                cfg.seed,
                pool=cfg.pretrain_examples,
                freeze=cfg.freeze_vision,
                position_heads=cfg.vision_position_heads,
                count_heads=cfg.vision_count_heads,
                on_step=lambda s, loss: b.advance(1, description=f"vision probe loss {loss:.3f}"),
            )
    with bar("pretraining the tiny base VLM", cfg.steps) as b:
        pretrain(model, processor, corpus, cfg, lambda s, loss: b.advance(1, description=f"pretrain loss {loss:.3f}"))
    train_s = time.time() - t0
    calib = calibrate(model, processor, world, cfg.calibration_n, cfg.max_new_tokens, cfg.seed)
    calib.update(
        build_seconds=round(time.time() - t0, 1),
        pretrain_seconds=round(train_s, 1),
        parameters=sum(p.numel() for p in model.parameters()),
        vision_probe=probe,
    )
    with atomic_dir(final) as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        (tmp / "world.json").write_text(world.model_dump_json(indent=2))
        (tmp / "base_config.json").write_text(cfg.model_dump_json(indent=2))
        (tmp / "calibration.json").write_text(json.dumps(calib, indent=2))
    say(
        f"base model: {calib['parameters']:,} params, built in {calib['build_seconds']}s; "
        f"id_test@T=1: format-valid {calib['format_valid_rate']:.1%}, accuracy {calib['accuracy']:.1%} "
        f"(blank image {calib['blank_image_accuracy']:.1%}); margin over the text-only oracle per family: "
        + ", ".join(f"{f} {v['margin']:+.1%}" for f, v in calib["per_family"].items())
    )
    return final
