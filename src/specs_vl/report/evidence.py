"""Per-prompt evidence read back from a run: what the bootstrap resamples for each comparison.

Eval comparisons read `eval/<model>/<suite>/generations.jsonl` (one row per
sample, runner.score_responses) and group the rows by example id. GF
comparisons read the per-prompt Psi arrays of `coldstart-<m>/gf_curve.json`
(evaluation/curve.py), whose prompt order is fixed per set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from specs_vl.evaluation.stats import align, per_prompt

OOD_SETS = ("world-ood-domain", "world-ood-surface", "world-ood-requirement")
METRIC_KEYS = {"accuracy": "correct", "strict": "strict", "format": "valid"}


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.yaml as written by the pipeline ({} when absent or unreadable)."""
    try:
        data = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _rows(d: Path, model: str, suite: str) -> list[dict[str, Any]] | None:
    path = d / "eval" / model / suite / "generations.jsonl"
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return None


def ood_sets(dirs: list[Path], model: str) -> list[str]:
    """The OOD sets Psi_OOD averages: world v2's three sets where evaluated, else world-ood."""
    have = {p.name for d in dirs for p in (d / "eval" / model).glob("*") if p.is_dir()}
    split = [s for s in OOD_SETS if s in have]
    return split or (["world-ood"] if "world-ood" in have else [])


def paired_seeds(
    dirs: list[Path], a: str, b: str, suites: list[str], key: str, keep: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, np.ndarray]]:
    """Per seed: {suite: (prompts, 2) array of a's and b's per-prompt values}; seeds lacking either are left out.
    `keep` selects the sample rows that count (a family, valid-format answers); prompts left with none drop."""
    seeds = []
    for d in dirs:
        seed = {}
        for suite in suites:
            ra, rb = _rows(d, a, suite), _rows(d, b, suite)
            if keep is not None and ra and rb:
                ra, rb = [r for r in ra if keep(r)], [r for r in rb if keep(r)]
            if not ra or not rb:
                break
            pa, pb = per_prompt(ra, key), per_prompt(rb, key)
            if not pa or not pb:
                break
            x, y = align(pa, pb, f"{d / 'eval'}: {a} vs {b} on {suite}")
            seed[suite] = np.stack([x, y], axis=1)
        else:
            if seed:
                seeds.append(seed)
    return seeds


def max_k(dirs: list[Path], model: str, suite: str) -> int | None:
    """The largest pass@k the eval recorded for `model` on `suite`."""
    ks = [
        int(k[5:])
        for d in dirs
        for k in ((read_json(d / "eval" / model / suite / "metrics.json") or {}).get("overall") or {})
        if k.startswith("pass@") and k[5:].isdigit()
    ]
    return max(ks) if ks else None


def first_epoch_step(run_dir: Path, d: Path) -> int | None:
    """Optimizer steps in one epoch of the cold start: ceil(pairs / (batch_size * grad accumulation))."""
    cs = run_config(run_dir).get("coldstart") or {}
    pairs = next(
        (
            r["pairs"]
            for m in ("dpo-sft", "sft", "dpo")
            if isinstance(r := read_json(d / f"coldstart-{m}" / "result.json"), dict) and r.get("pairs")
        ),
        None,
    )
    pairs = pairs or (read_json(d / "pairs" / "stats.json") or {}).get("pairs")
    if not pairs:
        return None
    return math.ceil(pairs / (int(cs.get("batch_size", 16)) * int(cs.get("gradient_accumulation_steps", 1))))


def gf_point(curve: dict[str, Any] | None, step: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The step-0 point and the last point at or before `step` (the curve may not hold `step` itself)."""
    points = sorted((curve or {}).get("points") or [], key=lambda p: p["step"])
    before = [p for p in points if p["step"] <= step]
    if len(before) < 2 or before[0]["step"] != 0:
        return None
    return before[0], before[-1]


def _psi_arrays(start: dict[str, Any], end: dict[str, Any]) -> dict[str, tuple[str, np.ndarray, np.ndarray]] | None:
    """{set: (role, per-prompt Psi at step 0, at step n)} in fractions; None without per-prompt data."""
    out = {}
    for name, s in (end.get("sets") or {}).items():
        s0 = (start.get("sets") or {}).get(name)
        pp, pp0 = (s.get("per_prompt") or {}).get("psi"), ((s0 or {}).get("per_prompt") or {}).get("psi")
        if not pp or not pp0 or len(pp) != len(pp0):
            return None
        x0, x1 = np.asarray(pp0, dtype=float), np.asarray(pp, dtype=float)
        # Psi is in percent in the curve; per-prompt values may be fractions or percent: match the set's Psi
        if s.get("psi") is not None and abs(x1.mean() * 100 - s["psi"]) < abs(x1.mean() - s["psi"]):
            x0, x1 = x0 * 100, x1 * 100
        out[name] = (s.get("role", "ood"), x0 / 100, x1 / 100)
    return out or None


def gf_seeds(
    dirs: list[Path], run_dir: Path, methods: list[str], step: int | None
) -> tuple[list[dict[str, np.ndarray]], dict[str, str], list[int], str | None]:
    """Per seed: {set: (prompts, 2 * len(methods)) columns [m step 0, m step n, ...]}, the set roles, the
    steps used, and why nothing could be read (None when all went well)."""
    seeds, roles, used = [], {}, []
    for d in dirs:
        n = step or first_epoch_step(run_dir, d)
        if n is None:
            return [], {}, [], "the end of the first epoch is unknown (no pairs count)"
        cols: dict[str, list[np.ndarray]] = {}
        for m in methods:
            pts = gf_point(read_json(d / f"coldstart-{m}" / "gf_curve.json"), n)
            if pts is None:
                return [], {}, [], f"coldstart-{m} has no GF curve reaching past step 0 in {d.name}"
            arrays = _psi_arrays(*pts)
            if arrays is None:
                return [], {}, [], f"coldstart-{m}'s gf_curve.json has no per-prompt Psi"
            used.append(pts[1]["step"])
            for name, (role, x0, x1) in arrays.items():
                roles[name] = role
                cols.setdefault(name, []).extend([x0, x1])
        if any(len(v) != 2 * len(methods) for v in cols.values()):
            return [], {}, [], "the cold starts' curves were measured on different sets"
        seeds.append({k: np.stack(v, axis=1) for k, v in cols.items()})
    return seeds, roles, used, None
