"""Numbers read back from a run directory: seeds, model tables, GF tables, stage times, example pairs."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

SUITES = (("world-id", "ID"), ("world-ood", "OOD"))
METRICS = (("accuracy", "acc"), ("format_valid_rate", "format"), ("strict_success", "strict"), ("pass@1", "pass@1"))


def seed_dirs(run_dir: Path) -> list[Path]:
    seeds = sorted(p for p in Path(run_dir).glob("seed-*") if p.is_dir())
    return seeds or [Path(run_dir)]


def read_json(path: Path) -> Any:
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
    m = read_json(d / "eval" / model / suite / "metrics.json")
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
        finals = [(read_json(d / f"coldstart-{method}" / "gf_curve.json") or {}).get("points") for d in dirs]
        if not any(finals):
            continue
        curves[method] = next(p for p in finals if p)
        last = [p[-1] for p in finals if p]
        rows.append([method, str(last[0]["step"])] + [fmt(_agg([p[k] for p in last]), 1)
                                                      for k in ("psi_id", "psi_ood", "g_id", "g_ood", "gf")])
    return header, rows, curves


def mask_secrets(text: str) -> str:
    return re.sub(r"(?m)^(\s*[\w.]*api_key\s*:\s*)(?!null\s*$)\S.*$", r"\1***", text)


def stage_times(run_dir: Path) -> list[list[str]]:
    stages = (read_json(run_dir / "manifest.json") or {}).get("stages", {})
    return [[k, f"{v['seconds']:.1f}" if v.get("seconds") is not None else v.get("status", "")]
            for k, v in stages.items()]


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
        shown.append({"image": name, "prompt": text, "chosen": row["chosen"][0]["content"],
                      "rejected": row["rejected"][0]["content"], "corruption": row.get("corruption", 0)})
    return shown
