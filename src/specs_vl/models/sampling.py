"""Batched generation with HF `generate`, left-padded, for any HF VLM.

Left padding is required for batched decoder-only generation; Qwen2.5-VL then
derives its M-RoPE positions from the attention mask, so batched output equals
unbatched output (tests/test_sampling.py checks this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from specs_vl.data.schema import user_message
from specs_vl.evaluation.metrics import nucleus_size
from specs_vl.models.context import check_prompt_lengths


@dataclass
class SampleConfig:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 64
    batch_size: int = 32
    seed: int = 0


def chat_prompts(processor: Any, examples: Sequence[dict[str, Any]]) -> list[str]:
    return [
        processor.apply_chat_template(user_message(ex), tokenize=False, add_generation_prompt=True)
        for ex in examples
    ]


def encode(processor: Any, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Tokenise prompts with their images, padded on the left.

    The processor may be shared with a trainer mid-run (the GF-curve callback),
    so its padding side is restored afterwards.
    """
    tok = processor.tokenizer
    side, tok.padding_side = tok.padding_side, "left"
    try:
        return processor(
            text=chat_prompts(processor, examples),
            images=[ex["image"].convert("RGB") for ex in examples],
            return_tensors="pt",
            padding=True,
        )
    finally:
        tok.padding_side = side


@torch.no_grad()
def generate(
    model: Any,
    processor: Any,
    examples: Sequence[dict[str, Any]],
    cfg: SampleConfig | None = None,
    on_batch: Callable[[int], None] | None = None,
    return_scores: bool = False,
) -> list[list[str]] | tuple[list[list[str]], list[float]]:
    """`cfg.n` responses per example, in example order.

    With `return_scores`, also the mean nucleus size (Rollout Branching
    Factor) of each response, computed from the sampling distribution.
    """
    cfg = cfg or SampleConfig()
    check_prompt_lengths(model, processor, examples, cfg.max_new_tokens)  # a too-long prompt would hang
    torch.manual_seed(cfg.seed)
    was_training = model.training
    model.eval()
    flat = [ex for ex in examples for _ in range(cfg.n)]
    texts: list[str] = []
    rbfs: list[float] = []
    pad_id = processor.tokenizer.pad_token_id
    for start in range(0, len(flat), cfg.batch_size):
        batch = flat[start : start + cfg.batch_size]
        inputs = encode(processor, batch).to(model.device)
        do_sample = cfg.temperature > 0
        out = model.generate(
            **inputs,
            max_new_tokens=cfg.max_new_tokens,
            do_sample=do_sample,
            temperature=cfg.temperature if do_sample else None,
            top_p=cfg.top_p if do_sample else None,
            top_k=0 if do_sample else None,
            pad_token_id=pad_id,
            output_logits=return_scores,
            return_dict_in_generate=True,
        )
        gen = out.sequences[:, inputs["input_ids"].shape[1] :]
        texts.extend(processor.batch_decode(gen, skip_special_tokens=True))
        if return_scores:
            rbfs.extend(_per_response_rbf(out.logits, gen, pad_id, processor.tokenizer.eos_token_id, cfg))
        if on_batch:
            on_batch(len(batch))
    model.train(was_training)
    grouped = [texts[i * cfg.n : (i + 1) * cfg.n] for i in range(len(examples))]
    if return_scores:
        return grouped, rbfs
    return grouped


def _per_response_rbf(logits, gen, pad_id, eos_id, cfg: SampleConfig) -> list[float]:

    temp = cfg.temperature if cfg.temperature > 0 else 1.0
    sizes = torch.stack([nucleus_size(step.float() / temp, 0.95) for step in logits], dim=1).float()
    mask = generated_mask(gen, pad_id, eos_id).float()
    return ((sizes * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()


def generated_mask(gen: torch.Tensor, pad_id: int | None, eos_id: int | None) -> torch.Tensor:
    """1 for tokens up to and including the first EOS, 0 after (padding)."""
    if eos_id is None:
        return torch.ones_like(gen, dtype=torch.bool)
    is_eos = gen == eos_id
    after = (is_eos.cumsum(1) - is_eos.long()) > 0
    return ~after
