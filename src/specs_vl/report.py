"""The run report: `report/index.html` and `report.md` with PNG plots, from a run directory.

Everything is read back from the files the stages wrote (nothing is held in
memory between stages), so `specs report runs/NAME` can redraw any run, and a
partial run renders with "not run" where a stage is missing. With several
seeds (`seed-S/` directories) every table number is mean ± std.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from specs_vl.atomic import atomic_dir
from specs_vl.report_findings import findings

SUITES = (("world-id", "ID"), ("world-ood", "OOD"))
METRICS = (("accuracy", "acc"), ("format_valid_rate", "format"), ("strict_success", "strict"), ("pass@1", "pass@1"))


def seed_dirs(run_dir: Path) -> list[Path]:
    seeds = sorted(p for p in Path(run_dir).glob("seed-*") if p.is_dir())
    return seeds or [Path(run_dir)]


def _json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def model_names(dirs: list[Path]) -> list[str]:
    """base, zero, cold starts, RL runs: in recipe order, those any seed has."""
    found = {p.name for d in dirs for p in (d / "eval").glob("*") if p.is_dir()}
    found |= {p.name for d in dirs for p in d.glob("coldstart-*")} | {p.name for d in dirs for p in d.glob("rl-*")}
    order = ["base", "zero", "coldstart-dpo-sft", "coldstart-sft", "coldstart-dpo",
             "rl-dpo-sft", "rl-sft", "rl-dpo", "rl-base"]
    return [m for m in order if m in found] + sorted(found - set(order))


def overall(d: Path, model: str, suite: str) -> dict[str, Any] | None:
    m = _json(d / "eval" / model / suite / "metrics.json")
    return m["overall"] if m else None


def _agg(values: list[float | None]) -> tuple[float, float, int] | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return statistics.mean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0), len(vals)


def fmt(a: tuple[float, float, int] | None, digits: int = 3) -> str:
    if a is None:
        return "not run"
    mean, std, n = a
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f}"


def model_table(dirs: list[Path]) -> tuple[list[str], list[list[str]]]:
    kmax = max((int(k[5:]) for d in dirs for m in model_names(dirs) for s, _ in SUITES
                for k in (overall(d, m, s) or {}) if k.startswith("pass@")), default=1)
    cols = [(key, label) for key, label in METRICS] + ([(f"pass@{kmax}", f"pass@{kmax}")] if kmax > 1 else [])
    header = ["model"] + [f"{sl} {label}" for _, sl in SUITES for _, label in cols] + ["ID RBF", "OOD RBF"]
    rows = []
    for m in model_names(dirs):
        row = [m]
        for suite, _ in SUITES:
            for key, _ in cols:
                row.append(fmt(_agg([(overall(d, m, suite) or {}).get(key) for d in dirs])))
        for suite, _ in SUITES:
            row.append(fmt(_agg([(overall(d, m, suite) or {}).get("rbf") for d in dirs]), 2))
        rows.append(row)
    return header, rows


def gf_table(dirs: list[Path]) -> tuple[list[str], list[list[str]], dict[str, list[dict[str, Any]]]]:
    header = ["method", "steps", "Psi_ID", "Psi_OOD", "G_ID", "G_OOD", "GF"]
    rows, curves = [], {}
    for method in ("dpo-sft", "sft", "dpo"):
        finals = [(_json(d / f"coldstart-{method}" / "gf_curve.json") or {}).get("points") for d in dirs]
        if not any(finals):
            continue
        curves[method] = next(p for p in finals if p)
        last = [p[-1] for p in finals if p]
        rows.append([method, str(last[0]["step"])] + [fmt(_agg([p[k] for p in last]), 1)
                                                      for k in ("psi_id", "psi_ood", "g_id", "g_ood", "gf")])
    return header, rows, curves


def _mask(text: str) -> str:
    return re.sub(r"(?m)^(\s*[\w.]*api_key\s*:\s*)(?!null\s*$)\S.*$", r"\1***", text)


def stage_times(run_dir: Path) -> list[list[str]]:
    stages = (_json(run_dir / "manifest.json") or {}).get("stages", {})
    return [[k, f"{v['seconds']:.1f}" if v.get("seconds") is not None else v.get("status", "")]
            for k, v in stages.items()]


def example_pairs(d: Path, out: Path, n: int = 4) -> list[dict[str, Any]]:
    """A few pairs, one per corruption kind where possible, with their images saved beside the report."""
    if not (d / "pairs" / "dataset_info.json").exists():
        return []
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
        shown.append({"image": name, "prompt": text, "chosen": row["chosen"][0]["content"],
                      "rejected": row["rejected"][0]["content"], "corruption": row.get("corruption", 0)})
    return shown


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of `run_dir` (default into `run_dir/report`); returns index.html's path."""
    from specs_vl.evaluation.plots import plot_gf_curve, plot_rl_curves
    from specs_vl.report_html import render_html, render_markdown

    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "report"
    dirs = seed_dirs(run_dir)
    with atomic_dir(out) as tmp:
        gf_header, gf_rows, curves = gf_table(dirs)
        plots = {}
        if curves:
            plots["gf"] = plot_gf_curve(curves, tmp / "gf_curves.png").name
        rl = {p.name: _json(p / "curve.json") for p in sorted(dirs[0].glob("rl-*")) if _json(p / "curve.json")}
        if rl:
            plots["rl"] = plot_rl_curves(rl, tmp / "rl_curves.png").name
        config = run_dir / "config.yaml"
        doc = {
            "name": run_dir.name, "seeds": [d.name for d in dirs] if len(dirs) > 1 else ["single seed"],
            "models": model_table(dirs), "gf": (gf_header, gf_rows), "plots": plots,
            "pair_stats": _json(dirs[0] / "pairs" / "stats.json"), "pairs": example_pairs(dirs[0], tmp),
            "times": stage_times(run_dir), "findings": findings(run_dir),
            "config": _mask(config.read_text()) if config.exists() else "(no config.yaml)",
            "trust_remote_code": bool(re.search(r"(?m)^trust_remote_code:\s*true\s*$", config.read_text()))
            if config.exists() else False,
        }
        (tmp / "index.html").write_text(render_html(doc))
        (tmp / "report.md").write_text(render_markdown(doc))
    return out / "index.html"

