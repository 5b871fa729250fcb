"""What RL did, beside its control: the tune-rl grid and the gain by family and within valid answers.

The findings test RL's gain overall (`rl-gain-over-noise`, the primary claim,
and `rl-gain-base`); these tables say where it comes from. Each cell is a
paired difference on the same world-id prompts with the seed-level interval
of evaluation/stats.py. "valid answers" compares accuracy over the samples
whose format is valid, so a gain there is not format alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from specs_vl.evaluation.stats import bootstrap, mean_difference
from specs_vl.report.evidence import paired_seeds, read_json
from specs_vl.world.tasks import TRAIN_FAMILIES

Table = tuple[list[str], list[list[str]]]


def tune_rl_table(run_dir: Path) -> tuple[Table, str] | None:
    """The grid (dev accuracy with the real reward and with its control), and the choice, from tune-rl."""
    r = read_json(Path(run_dir) / "tune-rl" / "result.json")
    if not r:
        return None
    rows = [
        [
            g["setting"],
            f"{100 * g['accuracy']:.1f}",
            f"{100 * g['control']:.1f}",
            f"{100 * g['gain']:+.1f}",
            f"{100 * g['gain_over_control']:+.1f}",
            "chosen" if r.get("chosen") and g["setting"] == r["chosen"]["setting"] else "",
        ]
        for g in r["grid"]
    ]
    rule = r["rule"]
    text = (
        f"The GRPO settings rule, fixed in the config before any test prompt was read: {rule['steps']} rollout "
        f"batches per setting from the base, scored on {rule['n']} {rule['suite']} prompts x {rule['samples']} "
        f"samples; a setting qualifies when it beats the start ({100 * r['start_accuracy']:.1f}) and its own "
        f"random-reward control by {100 * rule['margin']:.1f} points; the best qualifying one is chosen "
        f"(within {100 * rule['tie']:.1f}: the cheaper). " + (r.get("note") or "")
    )
    return (["setting", "dev acc", "control acc", "vs start", "vs control", ""], rows), text


def _cell(dirs: list[Path], a: str, b: str, keep: Any, fs: Any) -> str:
    seeds = paired_seeds(dirs, a, b, ["world-id"], "correct", keep)
    if not seeds:
        return "—"
    iv = bootstrap(mean_difference, seeds, fs.n_boot, fs.level, np.random.default_rng(fs.seed))
    if iv.estimate is None or iv.low is None:
        return "—"
    return f"{100 * iv.estimate:+.1f} [{100 * iv.low:+.1f}, {100 * iv.high:+.1f}]"


def rl_gain_table(dirs: list[Path], fs: Any) -> Table | None:
    """rl-base - base and rl-base - rl-random on world-id accuracy, per family and within valid answers."""
    if not dirs or not (dirs[0] / "eval" / "rl-base").is_dir():
        return None
    control = (dirs[0] / "eval" / "rl-random").is_dir()
    groups: list[tuple[str, Any]] = [("all prompts", None), ("valid answers", lambda r: bool(r.get("valid")))]
    groups += [(f"family {f}", lambda r, f=f: r.get("family") == f) for f in TRAIN_FAMILIES]
    rows = [
        [
            name,
            _cell(dirs, "rl-base", "base", keep, fs),
            _cell(dirs, "rl-base", "rl-random", keep, fs) if control else "not run",
        ]
        for name, keep in groups
    ]
    return ["world-id", "rl-base - base (points)", "rl-base - rl-random (points)"], rows


def _rollout_accuracy(log: Path, share: float = 0.2) -> tuple[float, float] | None:
    """Mean rollout accuracy over the first and the last `share` of a GRPO run's rollout batches (log.jsonl: TRL
    logs the rewards once per generation). The random control logs its shuffled rewards, whose mean is the
    batch's true accuracy (a permutation keeps the mean)."""
    if not log.exists():
        return None
    accs = []
    for line in log.read_text().splitlines():
        row = json.loads(line)
        if "rewards/accuracy_reward/mean" in row:
            accs.append(row["rewards/accuracy_reward/mean"])
    k = max(1, int(len(accs) * share))
    if len(accs) < 2 * k:
        return None
    return float(np.mean(accs[:k])), float(np.mean(accs[-k:]))


def rollout_rise_table(dirs: list[Path]) -> Table | None:
    """Per seed, rollout accuracy over the first and last 20 % of rollout batches of every RL run, and the rise
    of rl-base over rl-random's: the two see the same prompts in the same order (TRL shuffles with the seed),
    so the difference of rises leaves out what the prompt order does to both."""
    rows = []
    for d in dirs:
        runs = sorted(p.name for p in d.glob("rl-*") if (p / "log.jsonl").exists())
        rise = {}
        for name in runs:
            fl = _rollout_accuracy(d / name / "log.jsonl")
            if fl is None:
                continue
            rise[name] = 100 * (fl[1] - fl[0])
            rows.append([d.name, name, f"{100 * fl[0]:.1f}", f"{100 * fl[1]:.1f}", f"{rise[name]:+.1f}", ""])
        if "rl-base" in rise and "rl-random" in rise:
            rows[-1][-1] = f"rl-base {rise['rl-base'] - rise['rl-random']:+.1f}"
    if not rows:
        return None
    return ["seed", "run", "first 20 % (%)", "last 20 % (%)", "rise (points)", "rise over rl-random"], rows
