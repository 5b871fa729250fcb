"""Judges of reasoning/answer consistency: `rule` (default), `none`, or `http` (any OpenAI-compatible endpoint)."""

from __future__ import annotations

from specs_vl.judge.base import Verdict
from specs_vl.judge.http import HttpJudge
from specs_vl.judge.rule import rule_judge

__all__ = ["HttpJudge", "Verdict", "get_judge", "judge_many", "rule_judge"]


def get_judge(name: str = "rule", **http_options):
    """`rule` (default), `none`, or `http` (an OpenAI-compatible endpoint; see judge/http.py)."""
    if name == "rule":
        return rule_judge
    if name == "none":
        return lambda question, response: Verdict(True, "no judge")
    if name == "http":
        return HttpJudge(**http_options)
    raise ValueError(f"unknown judge {name!r}; known: rule, none, http")


def judge_many(judge, items: list[tuple[str, str]]) -> list[Verdict]:
    """Batch verdicts: the HTTP judge asks concurrently; the others one by one."""
    if hasattr(judge, "judge_many"):
        return judge.judge_many(items)
    return [judge(q, r) for q, r in items]
