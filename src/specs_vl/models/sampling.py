"""Batched generation with HF `generate`, left-padded, for any HF VLM.

Left padding is required for batched decoder-only generation; Qwen2.5-VL then
derives its M-RoPE positions from the attention mask, so batched output equals
unbatched output (tests/test_sampling.py checks this).

Every sampling parameter is set here, never taken from the checkpoint:
Qwen2.5-VL-7B-Instruct's generation_config.json carries repetition_penalty
1.05, top_k 1 and top_p 0.001, and trainers save it into every checkpoint,
so a backend that trusts it samples a different distribution from TRL and vLLM.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from specs_vl.data.images import decode_image
from specs_vl.data.schema import user_message
from specs_vl.models.context import check_prompt_lengths
from specs_vl.models.nucleus import nucleus_size
from specs_vl.models.requests import greedy_n_problem

RBF_TOP_P = 0.95  # the paper's nucleus for the Rollout Branching Factor


@dataclass
class SampleConfig:
    """One sampling request, the same for every backend (HF, vLLM, TRL's GRPO rollouts)."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = off (HF: no TopK warper; vLLM: 0 or -1 = all tokens)
    min_p: float = 0.0  # 0 = off
    repetition_penalty: float = 1.0  # 1 = off; the checkpoint's 1.05 is never used
    max_new_tokens: int = 64
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        problem = greedy_n_problem(self.temperature, self.n, "n")
        if problem:
            raise ValueError(problem)


def hf_generation_kwargs(cfg: SampleConfig) -> dict[str, Any]:
    """`generate` kwargs naming every knob that shapes the distribution (sampling and greedy alike)."""
    common = {
        "max_new_tokens": cfg.max_new_tokens,
        "repetition_penalty": cfg.repetition_penalty,
        "num_beams": 1,
        "no_repeat_ngram_size": 0,
    }
    if cfg.temperature == 0:
        return {**common, "do_sample": False}
    return {
        **common,
        "do_sample": True,
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "top_k": cfg.top_k,
        "min_p": cfg.min_p or None,
        "typical_p": 1.0,
        "epsilon_cutoff": 0.0,
        "eta_cutoff": 0.0,
    }


@contextlib.contextmanager
def neutral_generation_config(model: Any) -> Iterator[None]:
    """Hide the checkpoint's generation_config.json from `generate`, keeping only its token ids.

    transformers 5 `_prepare_generation_config` fills every generation field we
    leave unset from `model.generation_config` (then from global defaults), so
    a field we forgot would silently come from the checkpoint. With this in
    place, an unset field takes transformers' global default instead.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import GenerationConfig

    # a peft PeftModel generates with its base model's generation_config
    target = model.get_base_model() if hasattr(model, "get_base_model") else model
    saved = target.generation_config
    ids = {
        k: getattr(saved, k, None) for k in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")
    }
    target.generation_config = GenerationConfig(**{k: v for k, v in ids.items() if v is not None})
    try:
        yield
    finally:
        target.generation_config = saved


class NucleusSizes:
    """A logits processor that records the top-p nucleus size of every step's distribution.

    transformers 5 `_get_logits_processor` runs user processors after the
    built-in ones (repetition penalty, ...) and before the sampling warpers
    (temperature, top-k, top-p), so `scores` here are the model's logits, as
    `output_logits=True` would keep them. Keeping one (batch,) count per step
    instead of (batch, vocab) logits keeps memory O(batch x vocab).
    """

    def __init__(self, temperature: float, top_p: float = RBF_TOP_P) -> None:
        self.temperature = temperature if temperature > 0 else 1.0
        self.top_p = top_p
        self.sizes: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.sizes.append(nucleus_size(scores.float() / self.temperature, self.top_p).cpu())
        return scores


def chat_prompts(processor: Any, examples: Sequence[dict[str, Any]]) -> list[str]:
    return [
        processor.apply_chat_template(user_message(ex), tokenize=False, add_generation_prompt=True) for ex in examples
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
            images=[decode_image(ex["image"]) for ex in examples],  # decoded per batch (data/images.py)
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
    source: str | None = None,
    first_row: int = 0,
) -> list[list[str]] | tuple[list[list[str]], list[float]]:
    """`cfg.n` responses per example, in example order.

    `source` and `first_row`: the file the examples are rows of, and the row of the first, for the error a
    prompt longer than the context gets (context.check_prompt_lengths).

    With `return_scores`, also the mean nucleus size (Rollout Branching
    Factor) of each response, computed step by step from the sampling
    distribution (`NucleusSizes`).
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import LogitsProcessorList

    cfg = cfg or SampleConfig()
    check_prompt_lengths(model, processor, examples, cfg.max_new_tokens, source, first_row)  # it would hang
    torch.manual_seed(cfg.seed)
    was_training = model.training
    model.eval()
    flat = [ex for ex in examples for _ in range(cfg.n)]
    texts: list[str] = []
    rbfs: list[float] = []
    pad_id = processor.tokenizer.pad_token_id
    with neutral_generation_config(model):
        for start in range(0, len(flat), cfg.batch_size):
            batch = flat[start : start + cfg.batch_size]
            inputs = encode(processor, batch).to(model.device)
            recorder = NucleusSizes(cfg.temperature) if return_scores else None
            out = model.generate(
                **inputs,
                **hf_generation_kwargs(cfg),
                pad_token_id=pad_id,
                logits_processor=LogitsProcessorList([recorder] if recorder else []),
            )
            gen = out[:, inputs["input_ids"].shape[1] :]
            texts.extend(processor.batch_decode(gen, skip_special_tokens=True))
            if recorder:
                rbfs.extend(per_response_rbf(recorder.sizes, gen, processor.tokenizer.eos_token_id))
            if on_batch:
                on_batch(len(batch))
    model.train(was_training)
    grouped = [texts[i * cfg.n : (i + 1) * cfg.n] for i in range(len(examples))]
    if return_scores:
        return grouped, rbfs
    return grouped


def per_response_rbf(step_sizes: Sequence[torch.Tensor], gen: torch.Tensor, eos_id: int | None) -> list[float]:
    """Mean nucleus size over each response's own tokens (up to and including its first EOS)."""
    sizes = torch.stack(list(step_sizes), dim=1).float()[:, : gen.shape[1]]
    mask = generated_mask(gen, None, eos_id).float().cpu()
    return ((sizes * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()


def generated_mask(gen: torch.Tensor, pad_id: int | None, eos_id: int | None) -> torch.Tensor:
    """1 for tokens up to and including the first EOS, 0 after (padding)."""
    if eos_id is None:
        return torch.ones_like(gen, dtype=torch.bool)
    is_eos = gen == eos_id
    after = (is_eos.cumsum(1) - is_eos.long()) > 0
    return ~after
