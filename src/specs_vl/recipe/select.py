"""`coldstart.select`: which step of a cold start becomes its model, by a rule stated before the run.

The paper's case for GF is that it predicts the score after RL; used as a decision, the cold start keeps the
checkpoint its GF curve rates highest instead of whatever step the run ended on. The rule:
- `last`: the last step (what every trainer hands on);
- `gf`: the curve point of highest GF after step 0. GF is undefined where a gain is <= 0 (an F-beta of a loss
  means nothing), and such a point never wins. Points within `tie` of the best go to the earliest step (the
  shallower cold start). When no point has a GF, the last step, and the result says so.
The curve that decides must read no verdict split (coldstart_config checks its sets), so the test split stays
unread by this design step.
"""

from __future__ import annotations

from typing import Any


def choose_step(points: list[dict[str, Any]], rule: str, tie: float = 1e-9) -> dict[str, Any]:
    """{"rule", "step", "gf", "why", "candidates"} for a curve's points (each with "step" and "gf")."""
    if not points:
        raise ValueError("choose_step needs the GF curve's points; the curve is empty")
    last = max(p["step"] for p in points)
    candidates = [{"step": p["step"], "gf": p.get("gf")} for p in sorted(points, key=lambda p: p["step"])]
    if rule == "last":
        gf = next(p["gf"] for p in candidates if p["step"] == last)
        return {"rule": rule, "step": last, "gf": gf, "why": "the last step", "candidates": candidates}
    if rule != "gf":
        raise ValueError(f"select must be last or gf, got {rule!r}")
    defined = [p for p in candidates if p["step"] > 0 and p["gf"] is not None]
    if not defined:
        return {
            "rule": rule,
            "step": last,
            "gf": None,
            "why": "no point after step 0 has a GF (a gain <= 0 at every step): the last step",
            "candidates": candidates,
        }
    best = max(p["gf"] for p in defined)
    pick = min((p for p in defined if p["gf"] >= best - tie), key=lambda p: p["step"])
    why = "the highest GF" + ("" if pick["gf"] == best else " (tied, the earliest step)")
    return {"rule": rule, "step": pick["step"], "gf": pick["gf"], "why": why, "candidates": candidates}


def choose_method(gfs: dict[str, float | None], tie: float = 1e-9) -> dict[str, Any]:
    """`rl_methods: [best-gf]`: the cold start RL continues from, by the GF of each method's saved model.

    {"method", "gf", "runner_up", "why", "candidates"}. `gfs` maps each method, in the config's `methods` order,
    to the GF at the step it saved (`result.json["selected"]["gf"]`). The highest defined GF wins; within `tie`,
    the method listed first; with no GF defined, the first method, and `why` says so.
    """
    if not gfs:
        raise ValueError("best-gf needs at least one cold start; methods is empty")
    candidates = [{"method": m, "gf": g} for m, g in gfs.items()]
    defined = [c for c in candidates if c["gf"] is not None]
    if not defined:
        first = candidates[0]
        why = "no cold start has a GF (a gain <= 0 in each): the first in methods"
        return {"method": first["method"], "gf": None, "runner_up": None, "why": why, "candidates": candidates}
    best = max(c["gf"] for c in defined)
    pick = next(c for c in defined if c["gf"] >= best - tie)  # the first listed among the tied
    rest = sorted((c for c in defined if c is not pick), key=lambda c: -c["gf"])
    why = "the highest GF" + ("" if pick["gf"] == best else " (tied, the first in methods)")
    return {
        "method": pick["method"],
        "gf": pick["gf"],
        "runner_up": rest[0] if rest else None,
        "why": why,
        "candidates": candidates,
    }
