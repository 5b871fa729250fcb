"""The embedded world: procedural visual-reasoning tasks with checkable answers."""

from specs_vl.data.schema import prompt_text
from specs_vl.scoring.styles import FORMAT_INSTRUCTION, OOD_STYLES, STYLES, TRAIN_STYLE, strict_answer

from .dataset import SPLITS, WorldConfig, build_split, draw, make_example
from .tasks import FAMILIES, OOD_FAMILIES, TRAIN_FAMILIES, Task

__all__ = [
    "FAMILIES",
    "FORMAT_INSTRUCTION",
    "OOD_FAMILIES",
    "OOD_STYLES",
    "SPLITS",
    "STYLES",
    "TRAIN_FAMILIES",
    "TRAIN_STYLE",
    "Task",
    "WorldConfig",
    "build_split",
    "draw",
    "make_example",
    "prompt_text",
    "strict_answer",
]
