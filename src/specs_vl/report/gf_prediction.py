"""How well GF at a cold-start checkpoint predicts accuracy after RL from it (issue 30, the paper's R² = 0.864).

A point is one (method, step): RL ran from coldstart-{m}'s checkpoint N (`rl_checkpoints`, stage rl-{m}-step{N})
and the eval stage scored it on the test split. Its predictors come from the cold start's own GF curve at step N
(sets no verdict reads): GF, G_ID, G_OOD and Psi_ID, so a reader sees whether GF predicts better than its parts
or the checkpoint's own score. R² (of a line, i.e. Pearson r²) and Spearman's rho are computed over the points
with every quantity averaged over seeds; the 95 % intervals are a percentile bootstrap that resamples seeds and,
jointly in every seed, the test prompts. Regret of choosing by GF: in each seed, after-RL accuracy of the point of
highest GF minus the best point's, over all points (`rl_methods: [best-gf]` with `select: gf`) and within
each cold start (`select: gf` alone), with a t-interval over seeds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from specs_vl.evaluation.stats import per_prompt
from specs_vl.report.evidence import _rows, read_json

Table = tuple[list[str], list[list[str]]]
PREDICTORS = (
    ("gf", "GF"),
    ("g_id", "G_ID"),
    ("g_ood", "G_OOD"),
    ("gf_changed", "GF over the requirement-changed OOD sets"),
    ("psi_id", "Psi_ID of the checkpoint"),
)
_POINT = re.compile(r"^rl-(dpo-sft|dpo|sft)-step(\d+)$")


def prediction_points(dirs: list[Path], suite: str = "world-id") -> dict[tuple[str, int], dict[str, Any]]:
    """(method, step) -> {"pred": {name: [per seed]}, "acc": [per seed: {prompt id: accuracy}]}, seeds aligned."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for k, d in enumerate(dirs):
        for rl in sorted((d / "eval").glob("rl-*-step*")):  # what the eval stage scored
            m = _POINT.match(rl.name)
            rows = _rows(d, rl.name, suite)
            curve = read_json(d / f"coldstart-{m.group(1)}" / "gf_curve.json") if m else None
            if not m or not rows or not curve:
                continue
            step = int(m.group(2))
            point = next((p for p in curve["points"] if p["step"] == step), None)
            if point is None:
                continue
            slot = out.setdefault((m.group(1), step), {"pred": {n: [None] * len(dirs) for n, _ in PREDICTORS}})
            slot.setdefault("acc", [None] * len(dirs))[k] = per_prompt(rows, "correct")
            for name, _ in PREDICTORS:
                slot["pred"][name][k] = point.get(name)
    return out


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from scipy import stats as sps

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    return float(np.corrcoef(x, y)[0, 1] ** 2), float(sps.spearmanr(x, y).statistic)


def _means(points: dict, name: str, seeds: np.ndarray, prompts: dict[tuple, np.ndarray]) -> tuple[list, list]:
    xs, ys = [], []
    for p in points.values():
        xv = [p["pred"][name][s] for s in seeds if p["pred"][name][s] is not None and p["acc"][s] is not None]
        yv = [np.mean([p["acc"][s][i] for i in prompts[s] if i in p["acc"][s]]) for s in seeds if p["acc"][s]]
        if xv and yv:
            xs.append(float(np.mean(xv)))
            ys.append(float(np.mean(yv)))
    return xs, ys


def prediction_panels(dirs: list[Path], suite: str = "world-id") -> list[tuple[str, list[dict[str, Any]]]]:
    """For the scatter plot (evaluation/plots.plot_prediction): per predictor, each point's mean over seeds of
    the predictor and of after-RL accuracy (percent), with the accuracy's seed SD. Empty under 3 points."""
    points = prediction_points(dirs, suite)
    if len(points) < 3:
        return []
    panels = []
    for name, label in (PREDICTORS[0], PREDICTORS[-1]):  # GF and the simplest rival, the checkpoint's own score
        pts = []
        for (method, step), p in sorted(points.items()):
            xv = [v for v, a in zip(p["pred"][name], p["acc"]) if v is not None and a]
            ys = [100 * float(np.mean(list(a.values()))) for a in p["acc"] if a]
            sd = float(np.std(ys, ddof=1)) if len(ys) > 1 else 0.0
            x = float(np.mean(xv)) if xv else None
            pts.append({"method": method, "step": step, "x": x, "y": float(np.mean(ys)), "y_sd": sd})
        panels.append((label, pts))
    return panels


def prediction_table(dirs: list[Path], suite: str = "world-id", boot: int = 2000, seed: int = 0) -> Table | None:
    """Rows: each predictor's R² and rho with intervals and n points, then select-by-GF's regret."""
    points = prediction_points(dirs, suite)
    if len(points) < 3:
        return None
    n_seeds = len(dirs)
    # every seed scores the same test prompts (one world, one n), so one id list serves all
    ids = sorted(set().union(*[set(a) for p in points.values() for a in p["acc"] if a]))
    rng = np.random.default_rng(seed)
    all_seeds = np.arange(n_seeds)
    rows = []
    for name, label in PREDICTORS:
        x, y = _means(points, name, all_seeds, dict.fromkeys(all_seeds, ids))
        if len(x) < 3:  # the curves hold no such value (gf_changed: the OOD sets change no requirement)
            rows.append([label, "—", "—", str(len(x))])
            continue
        r2, rho = _fit(np.array(x), np.array(y))
        draws = []
        for _ in range(boot):
            ss = rng.choice(all_seeds, n_seeds) if n_seeds > 1 else all_seeds
            pick = [ids[i] for i in rng.integers(0, len(ids), len(ids))]  # the same prompts in every seed
            draws.append(_fit(*map(np.array, _means(points, name, ss, dict.fromkeys(all_seeds, pick)))))
        d = np.array(draws)
        lo = np.nanpercentile(d, 2.5, axis=0)
        hi = np.nanpercentile(d, 97.5, axis=0)
        rows.append(
            [label, f"{r2:.2f} [{lo[0]:.2f}, {hi[0]:.2f}]", f"{rho:+.2f} [{lo[1]:+.2f}, {hi[1]:+.2f}]", str(len(x))]
        )
    rows.append(["regret of choosing by GF (points of accuracy)", *regret_cells(points, n_seeds), str(len(points))])
    within = regret_cells(points, n_seeds, within_method=True)
    rows.append(["regret of select: gf, the step within each cold start", *within, str(len(points))])
    return ["predictor of after-RL accuracy", "R² [95 %]", "Spearman rho [95 %]", "points"], rows


def seed_regrets(points: dict, n_seeds: int, within_method: bool = False) -> list[float]:
    """Per seed: accuracy after RL from the highest-GF point (ties: earliest step) minus the best point's, over
    all points (which cold start and which step) or, `within_method`, per method (`select: gf`'s own choice
    of a step) and then averaged over the methods."""
    out = []
    groups = sorted({k[0] for k in points}) if within_method else [None]
    for s in range(n_seeds):
        per_group = []
        for g in groups:
            mine = {k: p for k, p in points.items() if g is None or k[0] == g}
            acc = {k: float(np.mean(list(p["acc"][s].values()))) for k, p in mine.items() if p["acc"][s]}
            gf = {k: p["pred"]["gf"][s] for k, p in mine.items() if k in acc and p["pred"]["gf"][s] is not None}
            if not gf:
                continue
            best = max(gf.values())
            chosen = min((k for k, v in gf.items() if v == best), key=lambda k: (k[1], k[0]))
            per_group.append(100 * (acc[chosen] - max(acc.values())))
        if per_group:
            out.append(float(np.mean(per_group)))
    return out


def regret_cells(points: dict, n_seeds: int, within_method: bool = False) -> list[str]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from scipy import stats as sps

    r = seed_regrets(points, n_seeds, within_method)
    if len(r) < 2:
        return [f"{r[0]:+.1f} (one seed)" if r else "—", ""]
    half = sps.t.ppf(0.975, len(r) - 1) * np.std(r, ddof=1) / np.sqrt(len(r))
    return [f"{np.mean(r):+.1f} [{np.mean(r) - half:+.1f}, {np.mean(r) + half:+.1f}], {len(r)} seeds", ""]
