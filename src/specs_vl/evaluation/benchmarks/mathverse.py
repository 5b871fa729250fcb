"""MathVerse (AI4Math/MathVerse): rows to examples; options live only in the question text."""

from __future__ import annotations

import re
from typing import Any

from specs_vl.data.images import RowContext, load_image
from specs_vl.evaluation.benchmarks.common import bench_example, classify_answer

_CHOICE_LINE = re.compile(r"^\s*\(?([A-H])\)?\s*[:.)：]\s*(.*?)\s*$")


def parse_inline_choices(question: str) -> list[str]:
    """Options written after "Choices:" in the question text, one per line ("A:40°")."""
    _, sep, tail = question.partition("Choices:")
    if not sep:
        return []
    choices = []
    for line in tail.strip().splitlines():
        m = _CHOICE_LINE.match(line)
        if not m or ord(m.group(1)) - ord("A") != len(choices):
            break
        choices.append(m.group(2))
    return choices


def mathverse_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = load_image(row.get("image"), ctx, "image")
    answer, qtype = str(row["answer"]).strip(), str(row["question_type"])
    mc = qtype == "multi-choice"
    metadata = row.get("metadata") or {}
    return bench_example(
        ctx,
        id=str(row["sample_index"]),
        image=image,
        question=str(row["query_cot"]),
        answer=answer,
        answer_type="mc" if mc else classify_answer(answer),
        choices=parse_inline_choices(str(row.get("question") or "")) if mc else [],
        family=str(metadata.get("subject") or "unknown"),
        meta={
            "question_type": qtype,
            "problem_index": row.get("problem_index"),
            "problem_version": row.get("problem_version"),
            "question_for_eval": row.get("question_for_eval"),
            "source": metadata.get("source"),
            "subfield": metadata.get("subfield"),
        },
    )
