"""GRPO prompts at a bounded size: every image resized to what the (bounded) processor keeps, and prompts over
`max_prompt_length`, image tokens counted, dropped and counted before training.

TRL 1.16's GRPOConfig has no prompt cut of its own for vision data, and vLLM
raises once a prompt reaches `max_model_len`; verl's `data.filter_overlong_prompts`
drops such prompts up front, and so do we (the verl export sets it too).
"""

from __future__ import annotations

from typing import Any

from specs_vl.data.schema import user_message
from specs_vl.models.loading import bound_image, processor_bounds
from specs_vl.util.progress import bar


def prompt_tokens(example: dict[str, Any], processor: Any) -> int:
    """Tokens of the chat prompt with its image expanded, as the processor builds it.

    The chat template writes one image placeholder; the Qwen-VL processor
    repeats it once per merged patch, (h / patch) x (w / patch) / merge^2.
    """
    text = processor.apply_chat_template(user_message(example), tokenize=False, add_generation_prompt=True)
    n = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    bounds = processor_bounds(processor)
    if bounds is None:  # another processor kind: let it count
        return int(processor(text=[text], images=[example["image"]], return_tensors="pt")["input_ids"].shape[1])
    factor = bounds[0]
    w, h = example["image"].size  # already bounded (fit_prompts resizes first)
    return n - 1 + (w // factor) * (h // factor)


def fit_prompts(
    examples: list[dict[str, Any]], processor: Any, max_prompt_length: int | None
) -> tuple[list[dict[str, Any]], int]:
    """(examples with bounded images that fit `max_prompt_length`, how many were dropped)."""
    fitted = [{**e, "image": bound_image(e["image"], processor)} for e in examples]
    if max_prompt_length is None:
        return fitted, 0
    keep = []
    with bar("GRPO: prompt lengths", len(fitted)) as b:
        for e in fitted:
            if prompt_tokens(e, processor) <= max_prompt_length:
                keep.append(e)
            b.advance(1)
    return keep, len(fitted) - len(keep)
