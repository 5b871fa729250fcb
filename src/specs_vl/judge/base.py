"""A judge's verdict: shared by every judge, so that no judge imports another."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
