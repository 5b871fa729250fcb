"""The training prompts: the world's train split or a user's dataset (docs/data.md), checked, as TRL's dataset."""

from __future__ import annotations

from typing import Any

from specs_vl.data.examples import load_examples_from
from specs_vl.data.schema import user_message
from specs_vl.util.errors import DataError
from specs_vl.world import build_split


def load_examples(data: str | None, world: Any, n: int | None = None) -> list[dict[str, Any]]:
    """The world's train split, or a user dataset in the example schema (file, folder or hub id; docs/data.md)."""
    if data is None:
        return build_split(world, "train", n)
    return load_examples_from(data, "train", n)


def check_enough(examples: list[dict[str, Any]], per_step: int, source: str) -> None:
    """A GRPO step needs `per_step` distinct prompts; fewer is a config/data mismatch, said plainly."""
    if len(examples) < per_step:
        raise DataError(
            source,
            None,
            None,
            f"{len(examples)} examples, fewer than the {per_step} prompts one "
            "GRPO step uses (prompts_per_step); lower prompts_per_step or add data",
        )


def rl_dataset(examples: list[dict[str, Any]]):
    """TRL's conversational prompt with its image, plus the columns the rewards read."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "prompt": user_message(e),
                "image": e["image"],
                "answer": e["answer"],
                "answer_type": e.get("answer_type", "auto"),
                "choices": list(e.get("choices") or []),
            }
            for e in examples
        ]
    )
