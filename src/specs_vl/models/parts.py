"""The parts of a Qwen-VL checkpoint that training treats apart, named once for every stage and the verl export."""

from __future__ import annotations

# Qwen2-VL / Qwen2.5-VL keep the vision tower and its patch merger under `model.visual.*` (transformers 5:
# Qwen2_5_VLModel.visual); freeze_vision_tower and LoRA's exclude_modules both read this.
VISUAL = r".*\.visual\..*"


def is_visual(name: str) -> bool:
    """True for a parameter or module of the vision tower, merger included."""
    return ".visual." in f".{name}."
