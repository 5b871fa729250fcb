"""GRPO prompts at a bounded size: prompts over `max_prompt_length`, image tokens counted at the size the
(bounded) processor resizes to, dropped and counted before training. Counting reads each image's header only;
the images themselves are resized as TRL reads them (train_split.rl_dataset).

TRL 1.16's GRPOConfig has no prompt cut of its own for vision data, and vLLM
raises once a prompt reaches `max_model_len`; verl's `data.filter_overlong_prompts`
drops such prompts up front, and so do we (the verl export sets it too).
"""

from __future__ import annotations

from typing import Any

from specs_vl.data.images import decode_image, image_size
from specs_vl.data.schema import user_message
from specs_vl.models.loading import bounded_size, processor_bounds
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
        images = [decode_image(example["image"])]
        return int(processor(text=[text], images=images, return_tensors="pt")["input_ids"].shape[1])
    w, h = bounded_size(image_size(example["image"]), processor)
    return n - 1 + (w // bounds[0]) * (h // bounds[0])


def fit_prompts(
    examples: list[dict[str, Any]], processor: Any, max_prompt_length: int | None
) -> tuple[list[dict[str, Any]], int]:
    """(the examples that fit `max_prompt_length`, how many were dropped)."""
    if max_prompt_length is None:
        return list(examples), 0
    keep = []
    with bar("GRPO: prompt lengths", len(examples)) as b:
        for e in examples:
            if prompt_tokens(e, processor) <= max_prompt_length:
                keep.append(e)
            b.advance(1)
    return keep, len(examples) - len(keep)
