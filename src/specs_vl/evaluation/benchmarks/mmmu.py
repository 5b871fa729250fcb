"""MMMU (MMMU/MMMU): rows to examples with MMMU's `construct_prompt`; one hub config per subject."""

from __future__ import annotations

import ast
from typing import Any

from specs_vl.data.images import RowContext, load_image
from specs_vl.evaluation.benchmarks.common import (
    bench_example,
    classify_answer,
    letters,
    text_or_none,
)
from specs_vl.evaluation.benchmarks.mmmu_score import MMMU_SUBJECT_ORDER

MMMU_MC_FORMAT = "{}\n\n{}\n\nAnswer with the option's letter from the given choices directly."
MMMU_OPEN_FORMAT = "{}\n\nAnswer the question using a single word or phrase."


def parse_mmmu_options(value: Any, ctx: RowContext) -> list[str]:
    """MMMU stores options as a Python list literal in a string; parse it without eval."""
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ctx.error("options", "not a Python list literal") from None
    if not isinstance(parsed, list):
        raise ctx.error("options", f"expected a list, got {type(parsed).__name__}")
    return [str(v) for v in parsed]


def mmmu_subject(id_: str) -> str:
    """'validation_Art_Theory_12' -> 'Art_Theory'."""
    parts = id_.split("_")
    return "_".join(parts[1:-1]) if len(parts) > 2 else "unknown"


def mmmu_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = load_image(row.get("image_1"), ctx, "image_1")
    options = parse_mmmu_options(row["options"], ctx)
    question, answer, qtype = str(row["question"]), str(row["answer"]).strip(), str(row["question_type"])
    if qtype == "multiple-choice":
        listed = "".join(f"({letter}) {o}\n" for letter, o in zip(letters(len(options)), options))
        prompt, kind = MMMU_MC_FORMAT.format(question, listed), "mc"
    else:
        prompt, kind = MMMU_OPEN_FORMAT.format(question), classify_answer(answer)
    n_images = sum(row.get(f"image_{k}") is not None for k in range(1, 8))
    return bench_example(
        ctx,
        id=str(row["id"]),
        image=image,
        question=prompt,
        answer=answer,
        answer_type=kind,
        choices=options if kind == "mc" else [],
        family=mmmu_subject(str(row["id"])),
        meta={
            "question_type": qtype,
            "subfield": row.get("subfield"),
            "img_type": text_or_none(row.get("img_type")),
            "topic_difficulty": row.get("topic_difficulty"),
            "n_images": n_images,
        },
    )


MMMU_SUBJECTS = MMMU_SUBJECT_ORDER  # one hub config per subject, loaded in upstream's evaluation order
