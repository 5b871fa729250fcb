"""The forest plot: every finding (or every pairwise difference) as a point and its 95 % interval.

One row per claim, top to bottom in the order given (the report's findings
put the primary claim first; it is drawn bold on a shaded band, with a rule
under it that separates it from the secondary, uncorrected claims). The
point is the estimate, the line the interval, the colour and marker the
verdict (evaluation/stats.py: held, contradicted, inconclusive, not
testable), with the verdict and the numbers written at the right of each
row. A claim with no interval (not testable) keeps its row: its verdict is
written, no point or line is drawn.

Units: one panel per unit, side by side, sharing the rows. A rate difference
is in percentage points (tens), the Rollout Branching Factor's in tokens
(tenths): on one axis the RBF interval would shrink to a dot at 0, and a row
label per unit would not fix the scale. Side-by-side panels keep every claim
on its own row in the findings' order with its name written once, and give
each unit its own x axis with its own zero line; a row sits empty in the
panels of the other units.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from specs_vl.evaluation.plots import save_figure  # noqa: E402
from specs_vl.evaluation.stats import CONTRADICTED, HELD, INCONCLUSIVE, NOT_TESTABLE, VERDICTS  # noqa: E402

# The report's CSS colours for the same verdicts (report/html.py), and a marker each so that the
# verdict also reads without colour.
STYLE = {
    HELD: ("#0a7a2f", "o"),
    CONTRADICTED: ("#b42318", "s"),
    INCONCLUSIVE: ("#b08900", "D"),
    NOT_TESTABLE: ("#777777", "x"),
}


DIGITS = {"points": 1, "tokens": 2}  # as the report's claims table writes them; any other unit: 3


def _num(x: float | None, unit: str) -> str:
    return "—" if x is None else f"{x:+.{DIGITS.get(unit, 3)}f}"


def finding_rows(found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The plot's row data, one per finding in the findings' order: label, unit, estimate, interval,
    verdict, primary. A not-testable finding has low = high = None (and no estimate)."""
    rows = []
    for f in found:
        testable = f["verdict"] != NOT_TESTABLE and f.get("ci_low") is not None
        rows.append(
            {
                "label": f["claim"],
                "unit": f.get("unit") or "points",
                "estimate": f.get("estimate") if testable else None,
                "low": f["ci_low"] if testable else None,
                "high": f["ci_high"] if testable else None,
                "verdict": f["verdict"] if testable else NOT_TESTABLE,
                "primary": bool(f.get("primary")),
            }
        )
    return rows


def _text(r: Mapping[str, Any]) -> str:
    if r["low"] is None:
        return r["verdict"]
    unit = r["unit"]
    return f"{r['verdict']}  {_num(r['estimate'], unit)} [{_num(r['low'], unit)}, {_num(r['high'], unit)}]"


def plot_forest(
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    xlabels: Mapping[str, str] | None = None,
    title: str = "",
    wrap: int = 48,
) -> Path:
    """Draw `rows` (finding_rows' format) as a forest plot; `xlabels` names each unit's axis."""
    units = list(dict.fromkeys(r["unit"] for r in rows)) or ["points"]
    n = max(len(rows), 1)
    labels = [textwrap.fill(r["label"] + (" (primary)" if r["primary"] else ""), wrap) for r in rows]
    lines = sum(max(1, lab.count("\n") + 1) for lab in labels) or 1
    widths = [3.4 if i == 0 else 1.5 for i in range(len(units))] + [2.9]
    fig, axes = plt.subplots(
        1,
        len(units) + 1,
        sharey=True,
        figsize=(sum(widths) + 0.4, 0.9 + 0.24 * lines + 0.12 * n),
        gridspec_kw={"width_ratios": widths, "wspace": 0.08},
    )
    ys = list(range(len(rows)))  # row 0 at the top: the y axis is inverted below
    for ax, unit in zip(axes, units):
        ax.axvline(0, color="#333333", lw=0.9, zorder=1)
        for y, r in zip(ys, rows):
            if r["unit"] != unit or r["low"] is None:
                continue
            color, marker = STYLE.get(r["verdict"], STYLE[NOT_TESTABLE])
            ax.plot([r["low"], r["high"]], [y, y], color=color, lw=2.2, solid_capstyle="butt", zorder=2)
            ax.plot([r["estimate"]], [y], marker=marker, color=color, ms=6.5, zorder=3, ls="none")
        ax.set_xlabel((xlabels or {}).get(unit, unit), fontsize=8.5)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(x=0.12)
    text_ax = axes[-1]
    text_ax.set_xlim(0, 1)
    text_ax.axis("off")
    for y, r in zip(ys, rows):
        color = STYLE.get(r["verdict"], STYLE[NOT_TESTABLE])[0]
        weight = "bold" if r["primary"] else "normal"
        text_ax.text(0.03, y, _text(r), color=color, va="center", fontsize=8.5, fontweight=weight)
    for ax in axes:
        for y, r in zip(ys, rows):
            if r["primary"]:
                ax.axhspan(y - 0.5, y + 0.5, color="#fff4cc", zorder=0, lw=0)
                if y + 1 < len(rows):
                    ax.axhline(y + 0.5, color="#999999", lw=0.8, ls="--", zorder=1)
        for y in ys[1::2]:  # a faint band every other row guides the eye across the panels
            if not rows[y]["primary"]:
                ax.axhspan(y - 0.5, y + 0.5, color="#f3f3f6", zorder=0, lw=0)
    first = axes[0]
    first.set_ylim(n - 0.5, -0.5)
    first.set_yticks(ys, labels, fontsize=8.5)
    for tick, r in zip(first.get_yticklabels(), rows):
        if r["primary"]:
            tick.set_fontweight("bold")
    handles = [
        Line2D([], [], color=STYLE[v][0], marker=STYLE[v][1], lw=2 if v != NOT_TESTABLE else 0, label=v)
        for v in VERDICTS
    ]
    axes[0].legend(
        handles=handles,
        loc="lower left",
        ncol=4,
        fontsize=8.5,
        frameon=False,
        bbox_to_anchor=(0.0, 1.0),
        title=title or None,
        title_fontsize=9.5,
        alignment="left",
    )
    return save_figure(fig, path)
