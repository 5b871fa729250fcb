"""What GF decided: each cold start's saved step (`coldstart.select`) and the RL start (`rl_methods: [best-gf]`).

Read back from each cold start's `result.json["selected"]` and `rl-best-gf/choice.json`, per seed, so a reader
sees the choice, the GF it was made on, and the runner-up it beat.
"""

from __future__ import annotations

from pathlib import Path

from specs_vl.recipe.coldstart_config import METHODS
from specs_vl.report.evidence import read_json

Table = tuple[list[str], list[list[str]]]


def _gf(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def decision_table(dirs: list[Path]) -> Table | None:
    """One row per seed and cold start (the step it saved and why), and one per best-gf choice."""
    rows = []
    for d in dirs:
        for m in METHODS:
            sel = (read_json(d / f"coldstart-{m}" / "result.json") or {}).get("selected")
            if sel and sel.get("rule") != "last":
                rows.append([d.name, f"coldstart-{m}: saved step", str(sel["step"]), _gf(sel.get("gf")), sel["why"]])
        choice = read_json(d / "rl-best-gf" / "choice.json")
        if choice:
            up = choice.get("runner_up")
            runner = f"; runner-up {up['method']} (GF {_gf(up['gf'])})" if up else ""
            rows.append(
                [d.name, "rl-best-gf: RL starts from", choice["method"], _gf(choice["gf"]), choice["why"] + runner]
            )
    return (["seed", "decision", "choice", "GF", "why"], rows) if rows else None
