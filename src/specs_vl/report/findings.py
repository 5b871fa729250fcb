"""Did the paper's claims hold on this run? Each verdict is read off a 95 % interval, never a point.

Every claim is a paired difference (or a difference of GFs) over the same
prompts: with several seeds a t-interval over seeds with prompts resampled
jointly, with one a bootstrap over prompts (evaluation/stats.py, the one
implementation the study and `specs compare` share). One claim is primary,
fixed before the run: RL from the base beats its random-reward control (a
training effect against the control that shares everything but the signal);
every other claim is secondary, reported uncorrected and marked so.
`held` needs the whole interval on the claim's side of 0, so a tie or
a single noisy seed reads `inconclusive`; a claim whose data is missing or
whose GF is undefined reads `not testable`. The list is also written as
`report/findings.json`: [{claim, verdict, estimate, ci_low, ci_high, seeds,
prompts, metric, models, ...}], rates in percentage points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specs_vl.evaluation.stats import (
    NOT_TESTABLE,
    FindingsSettings,
    Interval,
    bootstrap,
    gf_statistic,
    mean_difference,
    verdict,
)
from specs_vl.report.evidence import METRIC_KEYS, gf_seeds, max_k, ood_sets, paired_seeds, run_config
from specs_vl.report.tables import seed_dirs

METHODS = ("dpo-sft", "sft", "dpo")


def settings(run_dir: Path) -> FindingsSettings:
    """The `findings` section of the run's config.yaml (defaults when absent or invalid)."""
    try:
        return FindingsSettings.model_validate(run_config(run_dir).get("findings") or {})
    except ValueError:
        return FindingsSettings()


def _finding(
    cid: str,
    claim: str,
    metric: str,
    models: list[str],
    iv: Interval | None,
    direction: int,
    s: FindingsSettings,
    scale: float = 100.0,
    unit: str = "points",
    note: str = "",
) -> dict[str, Any]:
    def num(x: float | None) -> float | None:
        return None if x is None else round(float(x) * scale, 4)

    if iv is None:
        est = lo = hi = None
        seeds = prompts = 0
        v = NOT_TESTABLE
    else:
        est, lo, hi, seeds, prompts, v = (
            num(iv.estimate),
            num(iv.low),
            num(iv.high),
            iv.seeds,
            iv.prompts,
            verdict(iv, direction),
        )
        if iv.estimate is not None and iv.undefined > 0:
            note = (note + "; " if note else "") + f"GF undefined in {iv.undefined:.0%} of bootstrap replicates"
        if seeds == 1 and v != NOT_TESTABLE:  # nothing to resample between seeds: training noise is not in it
            note = (note + "; " if note else "") + "one seed: the interval covers prompt noise only"
    return {
        "id": cid,
        "claim": claim,
        "verdict": v,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "seeds": seeds,
        "prompts": prompts,
        "metric": metric,
        "models": models,
        "unit": unit,
        "direction": direction,
        "seed_sd": num(iv.seed_sd) if iv is not None else None,
        "prediction": s.predictions.get(cid),
        "note": note,
    }


def _compare(
    dirs: list[Path],
    s: FindingsSettings,
    cid: str,
    claim: str,
    a: str,
    b: str,
    suites: list[str],
    key: str,
    metric: str,
    direction: int = 1,
    scale: float = 100.0,
    unit: str = "points",
) -> dict[str, Any]:
    """A paired difference a - b on `suites` (equal-weight mean over them)."""
    if not suites:
        return _finding(cid, claim, metric, [a, b], None, direction, s, scale, unit, "not evaluated")
    try:
        seeds = paired_seeds(dirs, a, b, suites, key)
    except ValueError as e:
        return _finding(cid, claim, metric, [a, b], None, direction, s, scale, unit, str(e))
    if not seeds:
        return _finding(
            cid,
            claim,
            metric,
            [a, b],
            None,
            direction,
            s,
            scale,
            unit,
            f"{a} or {b} was not evaluated on {', '.join(suites)}",
        )
    iv = bootstrap(mean_difference, seeds, s.n_boot, s.level, np.random.default_rng(s.seed))
    note = "" if len(suites) == 1 else f"equal-weight mean over {', '.join(suites)}"
    return _finding(cid, claim, metric, [a, b], iv, direction, s, scale, unit, note)


def _gf_claim(dirs: list[Path], run_dir: Path, s: FindingsSettings, other: str) -> dict[str, Any]:
    cid, claim = f"gf-dpo-sft-vs-{other}", f"GF(dpo-sft) > GF({other})"
    models = ["coldstart-dpo-sft", f"coldstart-{other}"]
    metric = "GF of Psi gains (points)"
    seeds, roles, used, why = gf_seeds(dirs, run_dir, ["dpo-sft", other], s.gf_step)
    if why:
        return _finding(cid, claim, metric, models, None, 1, s, 1.0, "points", why)
    try:
        iv = bootstrap(gf_statistic(roles), seeds, s.n_boot, s.level, np.random.default_rng(s.seed))
    except ValueError as e:
        return _finding(cid, claim, metric, models, None, 1, s, 1.0, "points", str(e))
    where = f"at step {s.gf_step}" if s.gf_step else "at the end of the first epoch"
    note = f"{where} (curve points used: step {', '.join(map(str, sorted(set(used))))})"
    if iv.estimate is None:
        note = "GF is undefined (a gain <= 0) in at least one seed, " + note
    return _finding(cid, claim, metric, models, iv, 1, s, 1.0, "points", note)


def findings(run_dir: Path) -> list[dict[str, Any]]:
    """Every claim of the paper this run can speak to, with its interval and verdict."""
    run_dir = Path(run_dir)
    dirs, s = seed_dirs(run_dir), settings(run_dir)
    metric, key = s.metric, METRIC_KEYS[s.metric]
    out = [
        _compare(
            dirs,
            s,
            "rl-gain-over-noise",
            "RL (from the base) beats its random-reward control on ID",
            "rl-base",
            "rl-random",
            ["world-id"],
            key,
            metric,
        ),
        _compare(
            dirs,
            s,
            "rl-gain-base",
            "RL raises the base's ID accuracy (rl-base - base)",
            "rl-base",
            "base",
            ["world-id"],
            key,
            metric,
        ),
    ]
    out += [
        _compare(
            dirs,
            s,
            f"rl-gain-{m}",
            f"RL raises coldstart-{m}'s ID accuracy",
            f"rl-{m}",
            f"coldstart-{m}",
            ["world-id"],
            key,
            metric,
        )
        for m in rl_starts(dirs)
    ]
    out.append(
        _compare(
            dirs,
            s,
            "zero-format",
            "zero >> base on format (format validity)",
            "zero",
            "base",
            ["world-id"],
            "valid",
            "format validity",
        )
    )
    out += [
        _compare(
            dirs, s, "zero-strict", "zero >> base on strict success", "zero", "base", ["world-id"], "strict", "strict"
        ),
        _compare(
            dirs,
            s,
            "zero-accuracy",
            "zero keeps the base's ID accuracy (zero - base; contradicted: the interval lies below 0)",
            "zero",
            "base",
            ["world-id"],
            "correct",
            "accuracy",
        ),
    ]
    out += [_gf_claim(dirs, run_dir, s, other) for other in ("sft", "dpo")]
    for base_model, label in (("rl-sft", "the SFT cold start"), ("rl-base", "no cold start (RL from the base)")):
        tag = "sft" if base_model == "rl-sft" else "base"
        out.append(
            _compare(
                dirs,
                s,
                f"rl-id-vs-{tag}",
                f"after RL, SPECS >= {label} on ID",
                "rl-dpo-sft",
                base_model,
                ["world-id"],
                key,
                metric,
            )
        )
        out.append(
            _compare(
                dirs,
                s,
                f"rl-ood-vs-{tag}",
                f"after RL, SPECS >= {label} on Psi_OOD",
                "rl-dpo-sft",
                base_model,
                ood_sets(dirs, "rl-dpo-sft"),
                key,
                metric,
            )
        )
    k = max_k(dirs, "rl-dpo-sft", "world-id")
    if k and k > 1:
        out.append(
            _compare(
                dirs,
                s,
                "explore-pass@k",
                f"SPECS explores more: pass@{k} after RL, vs SFT",
                "rl-dpo-sft",
                "rl-sft",
                ["world-id"],
                f"pass@{k}",
                f"pass@{k}",
            )
        )
    else:
        out.append(
            _finding(
                "explore-pass@k",
                "SPECS explores more: pass@k after RL, vs SFT",
                "pass@k",
                ["rl-dpo-sft", "rl-sft"],
                None,
                1,
                s,
                note="no pass@k with k > 1 was evaluated",
            )
        )
    out.append(
        _compare(
            dirs,
            s,
            "explore-rbf",
            "SPECS explores more: Rollout Branching Factor after RL, vs SFT",
            "rl-dpo-sft",
            "rl-sft",
            ["world-id"],
            "rbf",
            "RBF (tokens)",
            scale=1.0,
            unit="tokens",
        )
    )
    for m in METHODS:
        out.append(
            _compare(
                dirs,
                s,
                f"retention-{m}",
                f"coldstart-{m} costs retention (base - cold start, strict)",
                "base",
                f"coldstart-{m}",
                ["world-retention"],
                "strict",
                "strict success",
            )
        )
    for f in out:
        f["primary"] = f["id"] == PRIMARY
    return out


PRIMARY = "rl-gain-over-noise"


def rl_starts(dirs: list[Path]) -> list[str]:
    """The cold-start methods RL ran from in the first seed dir."""
    return [m for m in METHODS if dirs and (dirs[0] / f"rl-{m}").is_dir()]
