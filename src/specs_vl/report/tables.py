"""Numbers read back from a run directory: seeds, model tables, GF tables, stage times, example pairs."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from specs_vl.evaluation.stats import FindingsSettings, bootstrap, gf_statistic
from specs_vl.report.evidence import first_epoch_step, gf_point, gf_seeds, read_json

SUITE_ORDER = (
    "world-dev",
    "world-id",
    "world-ood",
    "world-ood-domain",
    "world-ood-surface",
    "world-ood-requirement",
    "world-retention",
)
MODEL_ORDER = (
    "base",
    "zero",
    "coldstart-dpo-sft",
    "coldstart-sft",
    "coldstart-dpo",
    "rl-dpo-sft",
    "rl-sft",
    "rl-dpo",
    "rl-base",
)
PER_SET = (
    ("accuracy", "Accuracy"),
    ("format_valid_rate", "Compliance (format validity)"),
    ("strict_success", "Strict success"),
)
Table = tuple[list[str], list[list[str]]]


def seed_dirs(run_dir: Path) -> list[Path]:
    seeds = sorted((p for p in Path(run_dir).glob("seed-*") if p.is_dir()), key=lambda p: (len(p.name), p.name))
    return seeds or [Path(run_dir)]


def model_names(dirs: list[Path]) -> list[str]:
    """base, zero, cold starts, RL runs: in recipe order, those any seed has."""
    found = {p.name for d in dirs for p in (d / "eval").glob("*") if p.is_dir()}
    found |= {p.name for d in dirs for p in d.glob("coldstart-*")} | {p.name for d in dirs for p in d.glob("rl-*")}
    return [m for m in MODEL_ORDER if m in found] + sorted(found - set(MODEL_ORDER))


def suite_names(dirs: list[Path]) -> list[str]:
    found = {p.name for d in dirs for p in (d / "eval").glob("*/*") if p.is_dir()}
    return [s for s in SUITE_ORDER if s in found] + sorted(found - set(SUITE_ORDER))


def overall(d: Path, model: str, suite: str) -> dict[str, Any] | None:
    m = read_json(d / "eval" / model / suite / "metrics.json")
    return m.get("overall") if isinstance(m, dict) else None


def _agg(values: list[float | None]) -> tuple[float, float, int] | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return statistics.mean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0), len(vals)


def fmt(a: tuple[float, float, int] | None, digits: int = 3, missing: str = "not run") -> str:
    if a is None:
        return missing
    mean, std, n = a
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f}"


def per_set_tables(dirs: list[Path]) -> list[tuple[str, Table]]:
    """One table per metric (accuracy, compliance, strict success): a row per model, a column per eval set."""
    suites, models = suite_names(dirs), model_names(dirs)
    out = []
    for key, title in PER_SET:
        rows = [[m] + [fmt(_agg([(overall(d, m, s) or {}).get(key) for d in dirs])) for s in suites] for m in models]
        out.append((title, (["model"] + suites, rows)))
    return out


def exploration_table(dirs: list[Path], suite: str = "world-id") -> Table:
    """pass@1, pass@k (the largest k evaluated; best@k is the same number, evaluation/voting.py), maj@k
    and the Rollout Branching Factor on `suite`. maj@k reads "—" for an eval written before it existed."""
    models = model_names(dirs)
    kmax = max(
        (
            int(k[5:])
            for d in dirs
            for m in models
            for k in (overall(d, m, suite) or {})
            if k.startswith("pass@") and k[5:].isdigit()
        ),
        default=1,
    )
    keys = ["pass@1"] + ([f"pass@{kmax}", f"maj@{kmax}"] if kmax > 1 else [])
    names = {f"pass@{kmax}": f"pass@{kmax} = best@{kmax}"} if kmax > 1 else {}
    header = ["model"] + [f"{suite} {names.get(k, k)}" for k in keys] + [f"{suite} RBF"]

    def cell(m: str, k: str, digits: int = 3) -> str:
        found = [o for d in dirs if (o := overall(d, m, suite)) is not None]
        return fmt(_agg([o.get(k) for o in found]), digits, "—" if found else "not run")

    rows = [[m] + [cell(m, k) for k in keys] + [cell(m, "rbf", 2)] for m in models]
    return header, rows


def calibration_table(run_dir: Path) -> Table | None:
    """The base model's calibration.json per family (world/base_model.py), when the run recorded its path."""
    path = ((read_json(Path(run_dir) / "manifest.json") or {}).get("stages", {}).get("base") or {}).get("path")
    calib = read_json(Path(path) / "calibration.json") if path else None
    fams = (calib or {}).get("per_family")
    if not isinstance(fams, dict) or not fams:
        return None
    cols = ("accuracy", "oracle", "blank_image", "format_valid", "n")
    rows = [
        [f] + [("—" if v.get(c) is None else f"{v[c]:.3f}" if isinstance(v.get(c), float) else str(v[c])) for c in cols]
        for f, v in sorted(fams.items())
        if isinstance(v, dict)
    ]
    return ["family", *cols], rows


def lr_table(dirs: list[Path]) -> Table | None:
    """The learning-rate rule's record per cold-start method (recipe/tune_lr.py): grid, choice, reason."""
    rows = []
    for d in dirs:
        for f in sorted(d.glob("tune-lr-*/result.json")):
            r = read_json(f) or {}
            tried = ", ".join(f"{t['lr']:g}: {t['format_valid']:.0%}" for t in r.get("tried", []))
            rows.append(
                [
                    (f"{d.name} " if len(dirs) > 1 else "") + f.parent.name[8:],
                    " ".join(f"{x:g}" for x in r.get("grid", [])),
                    tried,
                    "—" if r.get("chosen") is None else f"{r['chosen']:g}",
                    r.get("reason", ""),
                ]
            )
    return (["method", "grid", "dev format validity reached", "chosen lr", "why"], rows) if rows else None


def _ci(iv: Any) -> str:
    return "—" if iv is None or iv.low is None else f"[{iv.low:.1f}, {iv.high:.1f}]"


def _compliance(p: dict[str, Any], role: str) -> float | None:
    vals = [
        v["format_valid"]
        for v in (p.get("sets") or {}).values()
        if v.get("role") == role and v.get("format_valid") is not None
    ]
    if vals:
        return 100 * float(np.mean(vals))
    old = (p.get(role) or {}).get("format_valid_rate")  # curves written before per-set data
    return None if old is None else 100 * old


def gf_table(dirs: list[Path], run_dir: Path, s: FindingsSettings) -> tuple[Table, dict[str, list[dict[str, Any]]]]:
    """Each cold start at the GF step fixed in the config (default: end of the first epoch), GF "—" where
    it is undefined (a gain <= 0), its 95 % interval, and compliance at that step; plus the full curves."""
    header = ["method", "step", "Psi_ID", "Psi_OOD", "G_ID", "G_OOD", "GF", "GF 95% CI", "format ID", "format OOD"]
    # G_OOD and GF over the OOD sets whose requirement changes (curve.with_gains): format carried is not in it
    header += ["G_OOD changed", "GF changed"]
    rows, curves = [], {}
    for method in ("dpo-sft", "sft", "dpo"):
        picked = []
        for d in dirs:
            curve = read_json(d / f"coldstart-{method}" / "gf_curve.json")
            if not (curve or {}).get("points"):
                continue
            curves.setdefault(method, curve["points"])
            n = s.gf_step or first_epoch_step(run_dir, d) or max(p["step"] for p in curve["points"])
            if pts := gf_point(curve, n):
                picked.append(pts[1])
        if not picked:
            if method in curves:
                rows.append([method] + ["no point after step 0"] + [""] * 10)
            continue
        gfs = [p.get("gf") for p in picked]
        seeds, roles, _, why = gf_seeds(dirs, run_dir, [method], s.gf_step)
        iv = None if why else bootstrap(gf_statistic(roles), seeds, s.n_boot, s.level, np.random.default_rng(s.seed))
        rows.append(
            [method, fmt(_agg([p["step"] for p in picked]), 0)]
            + [fmt(_agg([p.get(k) for p in picked]), 1) for k in ("psi_id", "psi_ood", "g_id", "g_ood")]
            + ["—" if any(g is None for g in gfs) else fmt(_agg(gfs), 1), _ci(iv)]
            + [fmt(_agg([_compliance(p, r) for p in picked]), 1, "—") for r in ("id", "ood")]
            + _changed(picked)
        )
    return (header, rows), curves


def _changed(picked: list[dict[str, Any]]) -> list[str]:
    """G_OOD and GF over the requirement-changed OOD sets; n/a where the curve has no such parts (own data)."""
    if not any("g_ood_changed" in p for p in picked):
        return ["n/a", "n/a"]
    gfs = [p.get("gf_changed") for p in picked]
    return [
        fmt(_agg([p.get("g_ood_changed") for p in picked]), 1, "—"),
        "—" if any(g is None for g in gfs) else fmt(_agg(gfs), 1),
    ]


def psi_note(dirs: list[Path]) -> str:
    """What Psi is in this run's GF curves, as the curve recorded it (metric, temperature, samples)."""
    for d in dirs:
        for f in sorted(d.glob("coldstart-*/gf_curve.json")):
            c = read_json(f) or {}
            st = c.get("settings") or {}
            metric = st.get("psi") or c.get("psi") or "strict"
            temp, n = st.get("temperature"), st.get("samples")
            how = (f"sampled at T={temp:g}" if temp else "greedy") if temp is not None else "decoding not recorded"
            return f"Psi = {metric} in percent, {how}" + (f", {n} samples per prompt" if n else "")
    return "Psi: no GF curve yet"


def mask_secrets(text: str) -> str:
    return re.sub(r"(?m)^(\s*[\w.]*api_key\s*:\s*)(?!null\s*$)\S.*$", r"\1***", text)


def stage_times(run_dir: Path) -> list[list[str]]:
    stages = (read_json(run_dir / "manifest.json") or {}).get("stages", {})
    return [
        [k, f"{v['seconds']:.1f}" if v.get("seconds") is not None else v.get("status", "")] for k, v in stages.items()
    ]


def example_pairs(d: Path, out: Path, n: int = 4) -> list[dict[str, Any]]:
    """A few pairs, one per corruption kind where possible, with their images saved beside the report."""
    if not (d / "pairs" / "dataset_info.json").exists():
        return []
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import load_from_disk

    ds = load_from_disk(str(d / "pairs"))
    picked, seen = [], set()
    for i, kind in enumerate(ds["corruption"] if "corruption" in ds.column_names else [0] * len(ds)):
        if kind not in seen or len(seen) >= n:
            picked.append(i)
            seen.add(kind)
        if len(picked) == n:
            break
    shown = []
    for j, i in enumerate(picked):
        row = ds[i]
        name = f"pair-{j}.png"
        row["images"][0].convert("RGB").save(out / name)
        text = next((p["text"] for p in row["prompt"][0]["content"] if p.get("type") == "text"), "")
        shown.append(
            {
                "image": name,
                "prompt": text,
                "chosen": row["chosen"][0]["content"],
                "rejected": row["rejected"][0]["content"],
                "corruption": row.get("corruption", 0),
            }
        )
    return shown
