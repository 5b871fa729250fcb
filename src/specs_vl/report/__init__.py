"""The run report: `report/index.html` and `report.md` with PNG plots, from a run directory.

It opens on a forest plot of every finding, then each model's metrics per
eval set (figures.py), then the tables.

Everything is read back from the files the stages wrote (nothing is held in
memory between stages), so `specs report runs/NAME` can redraw any run, and a
partial run renders with "not run" where a stage is missing. With several
seeds (`seed-S/` directories) every table number is mean ± std over seeds;
every comparison is a paired-bootstrap interval (findings.py), also written
to `findings.json`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from specs_vl.evaluation.plots import plot_gf_curve, plot_prediction, plot_rl_curves
from specs_vl.report.decisions import decision_table
from specs_vl.report.figures import draw_first_screen
from specs_vl.report.findings import findings, settings
from specs_vl.report.gf_prediction import prediction_panels, prediction_table
from specs_vl.report.html import render_html, render_markdown
from specs_vl.report.rl_gains import rl_gain_table, rollout_rise_table, tune_rl_table
from specs_vl.report.tables import (
    calibration_table,
    example_pairs,
    exploration_table,
    gf_table,
    lr_table,
    mask_secrets,
    per_set_tables,
    psi_note,
    read_json,
    seed_dirs,
    stage_times,
)
from specs_vl.util.atomic import atomic_dir

__all__ = ["write_report", "seed_dirs"]


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of `run_dir` (default into `run_dir/report`); returns index.html's path."""
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "report"
    dirs = seed_dirs(run_dir)
    fs = settings(run_dir)
    with atomic_dir(out) as tmp:
        gf, curves = gf_table(dirs, run_dir, fs)
        plots = {}
        if curves:
            plots["gf"] = plot_gf_curve(curves, tmp / "gf_curves.png").name
        rl = {p.name: read_json(p / "curve.json") for p in sorted(dirs[0].glob("rl-*")) if read_json(p / "curve.json")}
        if rl:
            plots["rl"] = plot_rl_curves(rl, tmp / "rl_curves.png").name
        if panels := prediction_panels(dirs):
            plots["gf_prediction"] = plot_prediction(panels, tmp / "gf_prediction.png").name
        found = findings(run_dir)
        plots.update(draw_first_screen(found, dirs, tmp))
        config = run_dir / "config.yaml"
        doc = {
            "name": run_dir.name,
            "seeds": [d.name for d in dirs] if len(dirs) > 1 else ["single seed"],
            "per_set": per_set_tables(dirs),
            "exploration": exploration_table(dirs),
            "gf": gf,
            "decisions": decision_table(dirs),
            "gf_prediction": prediction_table(dirs),
            "plots": plots,
            "gf_step": f"step {fs.gf_step}" if fs.gf_step else "the end of the first epoch",
            "psi_note": psi_note(dirs),
            "calibration": calibration_table(run_dir),
            "lr": lr_table(dirs),
            "study": read_json(run_dir / "study.json"),
            "pair_stats": read_json(dirs[0] / "pairs" / "stats.json"),
            "pairs": example_pairs(dirs[0], tmp),
            "times": stage_times(run_dir),
            "findings": found,
            "tune_rl": tune_rl_table(run_dir),
            "rl_gains": rl_gain_table(dirs, fs),
            "rollout_rise": rollout_rise_table(dirs),
            "config": mask_secrets(config.read_text()) if config.exists() else "(no config.yaml)",
            "trust_remote_code": bool(re.search(r"(?m)^trust_remote_code:\s*true\s*$", config.read_text()))
            if config.exists()
            else False,
        }
        (tmp / "findings.json").write_text(json.dumps(doc["findings"], indent=2))
        (tmp / "index.html").write_text(render_html(doc))
        (tmp / "report.md").write_text(render_markdown(doc))
    return out / "index.html"
