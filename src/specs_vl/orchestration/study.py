"""`specs study`: the powered replication. The whole recipe over several seeds, eval sets sized by a power
calculation that is printed (and recorded in `study.json`) before anything runs, and verdicts read off the
same paired-bootstrap intervals as every report (evaluation/stats.py).

The predictions are part of the run config (`findings.predictions`), written before the run; the report
shows them beside the verdicts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from specs_vl.config import RunConfig, read_yaml, validate_model
from specs_vl.evaluation.stats import minimal_detectable_difference, required_prompts
from specs_vl.orchestration.pipeline import run_pipeline
from specs_vl.report import write_report
from specs_vl.report.evidence import paired_seeds
from specs_vl.report.findings import findings
from specs_vl.report.html import findings_table
from specs_vl.report.tables import seed_dirs
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import say


class StudySettings(BaseModel):
    """Power-calculation inputs. Without a pilot run the per-prompt SD comes from a binomial bound."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=2)
    target_difference: float = Field(0.03, gt=0, lt=1)  # accuracy after RL, as a fraction (0.03 = 3 points)
    power: float = Field(0.8, gt=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    accuracy: float = Field(0.3, gt=0, lt=1)  # expected accuracy after RL (binomial bound on the per-prompt SD)
    correlation: float = Field(0.5, ge=0, lt=1)  # of two RL models' per-prompt accuracy on the same prompt
    seed_sd: float = Field(0.01, ge=0)  # SD of the seed-level difference (training noise)
    max_prompts: int = Field(600, ge=1)  # the largest eval set per suite the time budget allows
    time_budget_minutes: float = Field(90, gt=0)


class StudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    run: RunConfig = Field(default_factory=RunConfig)
    study: StudySettings = Field(default_factory=StudySettings)


def load_study(path: Path) -> StudyConfig:
    cfg = validate_model(read_yaml(path), StudyConfig, str(path))
    return cfg


def study_config_path() -> Path:
    return Path(__file__).parents[1] / "configs" / "study.yaml"


def pilot_estimates(run_dir: Path) -> dict[str, float | None]:
    """Per-prompt SD of the after-RL ID accuracy difference (rl-dpo-sft - rl-sft) and, with several seeds,
    the SD of its per-seed mean: measured on an earlier run instead of assumed."""
    dirs = seed_dirs(Path(run_dir))
    seeds = paired_seeds(dirs, "rl-dpo-sft", "rl-sft", ["world-id"], "correct")
    if not seeds:
        raise ValueError(f"{run_dir}: no after-RL eval of rl-dpo-sft and rl-sft on world-id to size the study from")
    diffs = [s["world-id"][:, 0] - s["world-id"][:, 1] for s in seeds]
    sd_prompt = float(np.mean([d.std(ddof=1) for d in diffs]))
    means = [d.mean() for d in diffs]
    return {
        "sd_prompt": sd_prompt,
        "seed_sd": float(np.std(means, ddof=1)) if len(means) > 1 else None,
        "pilot_seeds": len(seeds),
        "pilot_prompts": int(min(len(d) for d in diffs)),
    }


def power_plan(s: StudySettings, pilot: dict[str, Any] | None = None) -> dict[str, Any]:
    """Prompts per eval set for the target difference at the target power, or the most the budget allows."""
    sd_prompt = pilot["sd_prompt"] if pilot else float(np.sqrt(2 * s.accuracy * (1 - s.accuracy) * (1 - s.correlation)))
    seed_sd = pilot["seed_sd"] if pilot and pilot.get("seed_sd") is not None else s.seed_sd
    seeds = len(s.seeds)
    need = required_prompts(s.target_difference, sd_prompt, seeds, seed_sd, s.power, s.alpha)
    prompts = min(need, s.max_prompts) if need else s.max_prompts
    mdd = minimal_detectable_difference(sd_prompt, seeds, prompts, seed_sd, s.power, s.alpha)
    target = f"{100 * s.target_difference:.1f}-point accuracy difference after RL at {s.power:.0%} power"
    if need is not None and need <= s.max_prompts:
        statement = f"{prompts} prompts per set over {seeds} seeds reach the target: a {target}."
    else:
        why = (
            "the seed-to-seed noise alone exceeds it"
            if need is None
            else f"it needs {need} prompts per set, over the time budget's {s.max_prompts}"
        )
        statement = (
            f"The target ({target}) is out of reach: {why}. With {prompts} prompts per set the minimal "
            f"detectable difference is {100 * mdd:.1f} points."
        )
    return {
        "prompts": prompts,
        "required": need,
        "mdd_points": round(100 * mdd, 2),
        "sd_prompt": round(sd_prompt, 4),
        "seed_sd": round(seed_sd, 4),
        "source": "pilot run" if pilot else "binomial bound from the config",
        "reached_target": need is not None and need <= s.max_prompts,
        "statement": statement,
        **(pilot or {}),
    }


def run_study(
    cfg: StudyConfig, runs_root: Path = Path("runs"), pilot_dir: Path | None = None, plan_only: bool = False
) -> dict[str, Any]:
    """Print the power calculation, run the recipe over the seeds, and return study.json's content."""
    s = cfg.study
    pilot = pilot_estimates(pilot_dir) if pilot_dir else None
    plan = power_plan(s, pilot)
    say(
        f"power ({plan['source']}): per-prompt SD of the difference {plan['sd_prompt']:.3f}, seed SD "
        f"{plan['seed_sd']:.3f}, {len(s.seeds)} seeds, alpha {s.alpha}: {plan['statement']}"
    )
    if len(s.seeds) < 5:
        say(f"note: {len(s.seeds)} seeds; fewer than 5 estimate the seed-to-seed SD poorly")
    doc: dict[str, Any] = {"seeds": s.seeds, "power": plan, "settings": s.model_dump(mode="json"), "seconds": None}
    if plan_only:
        return doc
    run = cfg.run.model_copy(update={"eval": cfg.run.eval.model_copy(update={"n": plan["prompts"]})})
    run_dir = Path(runs_root) / run.name
    t0 = time.time()
    run_pipeline(run, runs_root, s.seeds, report=False)
    doc["seconds"] = round(time.time() - t0, 1)
    doc["budget_seconds"] = 60 * s.time_budget_minutes
    atomic_write(run_dir / "study.json", json.dumps(doc, indent=2))
    write_report(run_dir)
    doc["findings"] = findings(run_dir)
    return doc


def verdict_lines(found: list[dict[str, Any]]) -> list[str]:
    """The findings table as aligned text for the terminal."""
    header, rows = findings_table(found)
    keep = [0, 1, 2, 3, 4, 6, 7]
    table = [[header[i] for i in keep]] + [[r[i] for i in keep] for r in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(keep))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
