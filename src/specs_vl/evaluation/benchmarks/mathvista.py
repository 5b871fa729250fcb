"""MathVista (AI4Math/MathVista): rows to examples; scored by the official normalisation (mathvista_score)."""

from __future__ import annotations

from typing import Any

from specs_vl.data.images import RowContext, load_image
from specs_vl.evaluation.benchmarks.common import (
    bench_example,
    classify_answer,
    letters,
)
from specs_vl.evaluation.benchmarks.mathvista_score import score_mathvista

_MATHVISTA_TYPES = {"integer": "integer", "float": "number", "list": "expression", "text": "word"}


def mathvista_example(row: dict[str, Any], ctx: RowContext) -> dict[str, Any]:
    image = row.get("decoded_image")
    image = load_image(
        image if image is not None else row.get("image"), ctx, "decoded_image" if image is not None else "image"
    )
    choices = [str(c) for c in row.get("choices") or []]
    answer, qtype = str(row["answer"]), str(row["question_type"])
    if qtype == "multi_choice":
        if not choices:
            raise ctx.error("choices", "a multi_choice question needs choices")
        if answer not in choices:
            raise ctx.error("answer", f"answer {answer!r} is not one of the choices")
        gold, kind = letters(len(choices))[choices.index(answer)], "mc"
    else:
        gold, kind = answer, _MATHVISTA_TYPES.get(str(row["answer_type"]), classify_answer(answer))
    metadata = row.get("metadata") or {}
    precision = row.get("precision")
    precision = None if precision is None or precision != precision else str(int(float(precision)))
    return bench_example(
        ctx,
        id=str(row["pid"]),
        image=image,
        question=str(row["query"]),
        answer=gold,
        answer_type=kind,
        choices=choices,
        family=str(metadata.get("task") or "unknown"),
        meta={
            "question_type": qtype,
            "answer_type": row["answer_type"],
            "precision": precision,
            "unit": row.get("unit"),
            "answer": answer,
            "source": metadata.get("source"),
            "context": metadata.get("context"),
            "grade": metadata.get("grade"),
        },
    )


def score_mathvista_example(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """The official normalisation against the official (text) answer kept in meta."""
    meta = example["meta"]
    row = {
        "choices": example["choices"],
        "question_type": meta["question_type"],
        "answer_type": meta["answer_type"],
        "precision": meta["precision"],
        "answer": meta["answer"],
        "query": example.get("question", ""),
    }
    return score_mathvista(response, row)
