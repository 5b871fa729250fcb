"""The training prompts: the world's train split or a user's dataset (docs/data.md), checked, as TRL's dataset."""

from __future__ import annotations

from typing import Any

from specs_vl.data.examples import load_examples_from
from specs_vl.data.schema import user_message
from specs_vl.models.loading import bound_image
from specs_vl.util.errors import DataError
from specs_vl.world import build_split


def load_examples(data: str | None, world: Any, n: int | None = None) -> list[dict[str, Any]]:
    """The world's train split, or a user dataset in the example schema (file, folder or hub id; docs/data.md)."""
    if data is None:
        return build_split(world, "train", n)
    return load_examples_from(data, "train", n, decode=False)  # checked, kept as stored: no RGB copy per rank


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


def rl_dataset(examples: list[dict[str, Any]], processor: Any = None):
    """TRL's conversational prompt with its image, plus the columns the rewards read.

    Images go in as stored (a path, a file's bytes, or an in-memory image, which `datasets` encodes once) under
    an `Image()` feature, and are decoded, and resized to what the bounded `processor` keeps, only when TRL
    reads a row: `datasets`' custom formatter decodes the features and then calls `with_transform`'s function
    (datasets 5 formatting.CustomFormatter.format_batch), and GRPOTrainer indexes the dataset per rollout batch.
    The resize is ours because TRL 1.16's colocated vLLM loads the checkpoint's unbounded processor
    (models/loading.py).
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    rows = [
        {
            "prompt": user_message(e),
            "image": e["image"],
            "answer": e["answer"],
            "answer_type": e.get("answer_type", "auto"),
            "choices": list(e.get("choices") or []),
        }
        for e in examples
    ]
    part = {"type": Value("string"), "text": Value("string")}
    features = Features(
        {
            "prompt": List({"role": Value("string"), "content": List(part)}),
            "image": ImageFeature(mode="RGB"),
            "answer": Value("string"),
            "answer_type": Value("string"),
            "choices": List(Value("string")),
        }
    )
    ds = Dataset.from_list(rows, features=features)
    if processor is None:
        return ds

    def bounded(batch: dict[str, list]) -> dict[str, list]:
        batch["image"] = [bound_image(im, processor) for im in batch["image"]]
        return batch

    return ds.with_transform(bounded)
