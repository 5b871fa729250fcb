"""Refuse a prompt longer than the model's context before sampling, naming the file and row (not a hang)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from specs_vl.data.schema import user_message
from specs_vl.util.errors import DataError


def context_length(config: Any) -> int | None:
    """The language model's positions: VLM configs keep them in text_config (transformers 5), else at the top."""
    for cfg in (getattr(config, "text_config", None), config):
        n = getattr(cfg, "max_position_embeddings", None) if cfg is not None else None
        if isinstance(n, int) and n > 0:
            return n
    return None


def check_prompt_lengths(
    model: Any,
    processor: Any,
    examples: Sequence[dict[str, Any]],
    max_new_tokens: int,
    source: str | None = None,
    first_row: int = 0,
) -> None:
    """Every chat prompt's text tokens (an image placeholder counts as one) plus `max_new_tokens` must fit.

    Image tokens are not counted (they need the image processor); a prompt refused here could never fit.
    The error reads `SOURCE: row N: field 'question': ...`, N = `first_row` + the example's index: give the
    file the examples were read from (in file order), else it names the example's own "source" or "prompts".
    """
    ctx = context_length(model.config)
    if ctx is None or not examples:
        return
    texts = [
        processor.apply_chat_template(user_message(ex), tokenize=False, add_generation_prompt=True) for ex in examples
    ]
    budget = ctx - max_new_tokens
    for i, (ex, text) in enumerate(zip(examples, texts)):
        if len(text.encode()) <= budget:
            continue  # a token is at least one byte: it fits without tokenising
        n = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
        if n > budget:
            where = source or str(ex.get("source") or "prompts")
            raise DataError(
                where,
                first_row + i,
                "question",
                f"prompt of {n} tokens (id {ex.get('id', '?')!r}) plus "
                f"max_new_tokens {max_new_tokens} is over the model's context of {ctx} tokens; "
                "shorten the question or use a model with a longer context",
            )
