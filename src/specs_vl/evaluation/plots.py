"""Plots for curves: GF and its raw gains per cold-start method, and RL training curves.

Matplotlib with the Agg backend, so plotting works on a headless machine.
Every function writes one PNG atomically and returns its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import nan
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from specs_vl.util.atomic import atomic_path  # noqa: E402


def save_figure(fig: Any, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def plot_gf_curve(curves: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """GF on the left (a gap where it is undefined: a gain <= 0), G_ID and G_OOD on the right."""
    fig, (ax_gf, ax_g) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (method, points) in enumerate(sorted(curves.items())):
        steps = [p["step"] for p in points]
        color = f"C{i}"
        ax_gf.plot(steps, [nan if p.get("gf") is None else p["gf"] for p in points], "o-", color=color, label=method)
        ax_g.plot(steps, [p["g_id"] for p in points], "o-", color=color, label=f"{method} G_ID")
        ax_g.plot(steps, [p["g_ood"] for p in points], "s--", color=color, label=f"{method} G_OOD")
    ax_gf.set(title="Generalization Factor", xlabel="cold-start step", ylabel="GF (points)")
    ax_g.set(title="Gains over step 0", xlabel="cold-start step", ylabel="gain in Psi (points)")
    ax_g.axhline(0, color="grey", lw=0.6)
    ax_gf.set_ylim(bottom=0)  # GF is defined only for positive gains; a lone point must not set the scale
    for ax in (ax_gf, ax_g):
        ax.set_xlim(left=0)  # both panels on the same step axis from step 0, also with a start/end-only curve
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


RL_PANELS: Sequence[tuple[str, str]] = (
    ("reward", "reward (mean)"),
    ("accuracy", "accuracy"),
    ("format_rate", "format rate"),
    ("completion_length", "response length (tokens)"),
)


def plot_rl_curves(curves: dict[str, list[dict[str, Any]]], path: Path, smooth: int = 5) -> Path:
    """One panel per RL metric, one line per run, smoothed with a trailing mean of `smooth` steps."""
    fig, axes = plt.subplots(1, len(RL_PANELS), figsize=(4 * len(RL_PANELS), 3.4))
    for i, (run, rows) in enumerate(sorted(curves.items())):
        for ax, (key, title) in zip(axes, RL_PANELS):
            pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
            if not pts:
                continue
            steps, vals = zip(*pts)
            sm = [
                sum(vals[max(0, j - smooth + 1) : j + 1]) / len(vals[max(0, j - smooth + 1) : j + 1])
                for j in range(len(vals))
            ]
            ax.plot(steps, sm, color=f"C{i}", label=run)
            ax.set(title=title, xlabel="RL step")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return save_figure(fig, path)


def plot_models(
    panels: Sequence[tuple[str, dict[str, dict[str, tuple[float, float] | None]]]],
    models: Sequence[str],
    path: Path,
) -> Path:
    """One panel per metric (title, {eval set: {model: (mean, std) in percent, or None}}): grouped bars,
    a group per eval set, a bar per model in the same colour in every panel; std over seeds as an error
    bar when there are several; a model not run on a set has no bar."""
    suites = list(dict.fromkeys(s for _, by_set in panels for s in by_set))
    wide = min(12.0, max(7.0, 1.2 + 0.28 * len(models) * len(suites)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(wide, 2.0 * len(panels)), sharex=True)
    axes = list(axes) if len(panels) > 1 else [axes]
    width = 0.8 / max(len(models), 1)
    for ax, (title, by_set) in zip(axes, panels):
        for i, model in enumerate(models):
            xs, hs, es = [], [], []
            for j, suite in enumerate(suites):
                v = by_set.get(suite, {}).get(model)
                x = j - 0.4 + width * (i + 0.5)
                if v is None:  # not run: a mark, so that it does not read as a bar at 0
                    ax.text(x, 2, "n/a", rotation=90, ha="center", va="bottom", fontsize=6, color="#777777")
                    continue
                xs.append(x)
                hs.append(v[0])
                es.append(v[1])
            ax.bar(xs, hs, width * 0.92, yerr=es if any(es) else None, color=f"C{i % 10}", label=model, capsize=2)
        ax.set_xticks(range(len(suites)), suites, fontsize=8.5)
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_ylim(0, 100)
        ax.set_ylabel(f"{title} (%)", fontsize=8.5)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7.5, ncol=min(len(models), 5), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_prediction(panels: Sequence[tuple[str, list[dict[str, Any]]]], path: Path) -> Path:
    """GF's prediction study: one panel per predictor (label, points), each point a cold-start checkpoint
    ({"method", "step", "x", "y", "y_sd"}: the predictor and after-RL accuracy, means over seeds, in points),
    a colour per method, the step written beside it, the seed SD of the accuracy as an error bar."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), sharey=True)
    axes = list(axes) if len(panels) > 1 else [axes]
    methods = sorted({p["method"] for _, pts in panels for p in pts})
    for ax, (label, pts) in zip(axes, panels):
        for i, m in enumerate(methods):
            mine = [p for p in pts if p["method"] == m and p["x"] is not None]
            if not mine:
                continue
            xs, ys, es = [p["x"] for p in mine], [p["y"] for p in mine], [p["y_sd"] for p in mine]
            ax.errorbar(xs, ys, yerr=es, fmt="o", color=f"C{i}", label=m, capsize=2)
            for p in mine:
                ax.annotate(str(p["step"]), (p["x"], p["y"]), textcoords="offset points", xytext=(4, 3), fontsize=7)
        ax.set(xlabel=label if "checkpoint" in label else f"{label} at the checkpoint", title=label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy after RL (%)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
