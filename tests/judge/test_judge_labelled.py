"""The rule judge against a labelled set of >= 200 consistent / inconsistent responses (helpers/judge_cases.py)."""

from __future__ import annotations

from judge_cases import HAND_WRITTEN, labelled_set

from specs_vl.judge.rule import rule_judge


def _precision_recall(rows, positive: bool) -> tuple[float, float]:
    said = [(rule_judge(q, r).ok == positive, label == positive) for q, r, label in rows]
    tp = sum(p and t for p, t in said)
    return tp / max(1, sum(p for p, _ in said)), tp / max(1, sum(t for _, t in said))


def test_labelled_set_is_large_and_balanced_enough():
    rows = labelled_set()
    consistent = sum(label for *_, label in rows)
    assert len(rows) >= 200 and consistent >= 100 and len(rows) - consistent >= 100
    assert len(HAND_WRITTEN) >= 30


def test_rule_judge_precision_and_recall_at_least_95_percent():
    rows = labelled_set()
    for positive in (True, False):  # passing consistent responses, and rejecting inconsistent ones
        precision, recall = _precision_recall(rows, positive)
        assert precision >= 0.95 and recall >= 0.95, (positive, precision, recall)


def test_hand_written_edge_cases_alone():
    precision, recall = _precision_recall(HAND_WRITTEN, False)
    assert precision >= 0.95 and recall >= 0.95
