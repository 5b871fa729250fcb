"""MATH-V (MathLLMs/MathVision): rows to examples with the MATH-V repo's prompt."""

from __future__ import annotations

from typing import Any

from specs_vl.data.images import RowContext, load_image
from specs_vl.evaluation.benchmarks.common import (
    bench_example,
    classify_answer,
    letters,
)

MATHVISION_PROMPT = (
    'Please solve the problem step by step and put your answer in one "\\boxed{}". '
    'If it is a multiple choice question, only one letter is allowed in the "\\boxed{}".\n'
)


def mathvision_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = row.get("decoded_image")
    image = load_image(
        image if image is not None else row.get("image"), ctx, "decoded_image" if image is not None else "image"
    )
    options = [str(o) for o in row.get("options") or []]
    listed = "".join(f"({letter}) {o}\n" for letter, o in zip(letters(len(options)), options))
    if options == letters(len(options)):
        listed = ""  # the options are drawn in the image
    answer = str(row["answer"]).strip()
    return bench_example(
        ctx,
        id=str(row["id"]),
        image=image,
        question=f"{MATHVISION_PROMPT}{row['question']}\n{listed}",
        answer=answer,
        answer_type="mc" if options else classify_answer(answer),
        choices=options,
        family=str(row.get("subject") or "unknown"),
        meta={"level": row.get("level"), "subject": row.get("subject")},
    )
