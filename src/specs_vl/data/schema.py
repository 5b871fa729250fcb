"""Example schema and conversational prompts.

An example is a dict with the fields of `EXAMPLE_FIELDS`. The world produces
them, and any user dataset with the same fields (from `datasets`) works in
every stage.
"""

from __future__ import annotations

from typing import Any

from specs_vl.scoring.styles import instruction_for

EXAMPLE_FIELDS: tuple[str, ...] = (
    "id",
    "image",
    "question",
    "answer",
    "answer_type",
    "choices",
    "family",
    "instruction_style",
    "split",
)
REQUIRED_FIELDS: tuple[str, ...] = ("image", "question", "answer")


def prompt_text(example: dict[str, Any]) -> str:
    """The user turn's text: the question, then the style's instruction."""
    instr = instruction_for(example.get("instruction_style") or "none", example.get("answer_type") or "")
    return f"{example['question']}\n{instr}" if instr else example["question"]


def user_message(example: dict[str, Any]) -> list[dict[str, Any]]:
    """TRL's conversational prompt: one user turn with the image first."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt_text(example)}]}]


def fill_defaults(row: dict[str, Any], index: int, split: str = "external") -> dict[str, Any]:
    """Give an external row the optional fields of the example schema."""
    out = dict(row)
    out.setdefault("id", f"{split}-{index:06d}")
    out.setdefault("answer_type", "auto")
    out.setdefault("choices", [])
    out.setdefault("family", "default")
    out.setdefault("instruction_style", "format")
    out.setdefault("split", split)
    out["answer"] = str(out["answer"])
    out["choices"] = list(out["choices"] or [])
    return out
