"""MMMU scored as a run: per-subject and per-domain accuracy, as MMMU's official `evaluate` aggregates it.

The per-response rules are mmmu_score.py's; a run's fallback draws (MMMU picks a random option when none
parses) are seeded once per run, so a run is scored as a whole.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from specs_vl.evaluation.benchmarks.mmmu_score import MMMU_DOMAINS, MMMU_SUBJECT_ORDER, _is_mc, score_mmmu


def subject_of(id_: str) -> str:
    """'validation_Art_Theory_12' -> 'Art_Theory' (upstream: "_".join(id.split("_")[1:-1]))."""
    return "_".join(id_.split("_")[1:-1])


def evaluate_mmmu(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Score a whole run as upstream: one Random(42), subjects in upstream order, items in given order.

    Each item: id, question_type, answer, choices, response. Returns per-item
    (prediction, correct) in the input order, accuracy per subject and overall
    (instance-level, as `calculate_ins_level_acc`), and the fallback count.
    """
    rng = random.Random(42)  # upstream: random.seed(42) at import of eval_utils
    order = {s: i for i, s in enumerate(MMMU_SUBJECT_ORDER)}
    ranked = sorted(range(len(items)), key=lambda i: order.get(subject_of(str(items[i]["id"])), len(order)))
    verdicts: list[tuple[str | None, bool]] = [(None, False)] * len(items)
    fallbacks = 0
    for i in ranked:
        item = items[i]
        pred, ok = score_mmmu(item["response"], item)
        if pred is None and _is_mc(item):
            pred, ok = score_mmmu(item["response"], item, rng)
            fallbacks += 1
        verdicts[i] = (pred, ok)
    per_subject: dict[str, dict[str, float | int]] = {}
    for item, (_, ok) in zip(items, verdicts):
        s = per_subject.setdefault(subject_of(str(item["id"])), {"correct": 0, "num": 0})
        s["correct"] += int(ok)
        s["num"] += 1
    for s in per_subject.values():
        s["acc"] = s["correct"] / s["num"]
    per_domain = {}
    for domain, subjects in MMMU_DOMAINS.items():
        num = sum(per_subject[s]["num"] for s in subjects if s in per_subject)
        if num:
            right = sum(per_subject[s]["correct"] for s in subjects if s in per_subject)
            per_domain[domain] = {"correct": right, "num": num, "acc": right / num}
    n = len(items)
    return {
        "verdicts": verdicts,
        "per_subject": per_subject,
        "per_domain": per_domain,
        "fallbacks": fallbacks,
        "n": n,
        "accuracy": sum(ok for _, ok in verdicts) / n if n else 0.0,
    }


def score_mmmu_example(response: str, example: dict[str, Any]) -> tuple[str | None, bool]:
    """One response against an MMMU example (see `score_mmmu`; a fallback is settled by `score_mmmu_run`)."""
    item = {
        "question_type": example["meta"]["question_type"],
        "answer": example["answer"],
        "choices": example.get("choices") or [],
    }
    return score_mmmu(response, item)


def score_mmmu_run(records: list[dict[str, Any]], examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rescore a run's records as upstream (settling random fallbacks); updates them in place.

    Records are (id, response, ...) rows of generations.jsonl; their
    `extracted`, `correct` and `strict` become the official ones. Returns the
    official summary: accuracy overall, per subject and per domain, fallbacks.
    """
    by_id = {str(ex["id"]): ex for ex in examples}
    items = []
    for r in records:
        ex = by_id[str(r["id"])]
        items.append(
            {
                "id": str(r["id"]),
                "question_type": ex["meta"]["question_type"],
                "answer": ex["answer"],
                "choices": ex.get("choices") or [],
                "response": r["response"],
            }
        )
    result = evaluate_mmmu(items)
    for r, (pred, ok) in zip(records, result.pop("verdicts")):
        r["extracted"], r["correct"], r["strict"] = pred, ok, ok
    return result
