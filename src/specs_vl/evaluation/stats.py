"""Differences with 95 % intervals: one paired bootstrap for the report, the study and `specs compare`.

A statistic is computed per seed from that seed's per-prompt arrays and
averaged over seeds, so seeds weigh equally whatever their prompt counts.
- One seed: the percentile bootstrap over prompts (a prompt's samples stay
  together).
- Several seeds: a t-interval with two variance parts, honest at 5 seeds
  where a bootstrap over 5 seeds behaves like a z-interval (too narrow):
  the seed part is the per-seed statistics' variance / seeds; the prompt part
  is the bootstrap variance of the seed mean when prompts are resampled
  jointly, the same prompt indices in every seed (every seed scores the same
  prompts, so their draw is shared, not independent per seed). Degrees of
  freedom by Welch-Satterthwaite, between seeds - 1 and seeds - 1 + prompts - 1.

A verdict reads the interval, never the point estimate: `held` only when the
whole interval lies on the claim's side of 0, so a tie is never "held".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from specs_vl.evaluation.metrics import generalization_factor
from specs_vl.evaluation.voting import at_k, prompt_at_k

Seed = Mapping[str, np.ndarray]  # set name -> per-prompt values, shape (prompts,) or (prompts, columns)
Statistic = Callable[[Seed], "float | None"]

HELD, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "held", "contradicted", "inconclusive", "not testable"
VERDICTS = (HELD, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE)


class FindingsSettings(BaseModel):
    """How the report decides its claims; fixed in the run config before the run (pre-registration)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    gf_step: int | None = Field(None, ge=1)
    """cold-start step where GF is compared; None = end of the first epoch"""
    metric: Literal["accuracy", "strict", "format"] = "accuracy"
    """what "after RL, A >= B" compares"""
    n_boot: int = Field(2000, ge=100)
    """bootstrap resamples per interval"""
    level: float = Field(0.95, gt=0.5, lt=1)
    """interval coverage (0.95: a 95 % interval)"""
    seed: int = 0
    """the bootstrap's RNG"""
    predictions: dict[str, Literal["held", "contradicted", "inconclusive", "not testable"]] = Field(
        default_factory=dict
    )  # claim id -> the verdict predicted before the run
    """pre-registered predictions, written before the run, shown beside the verdicts"""


def mean_difference(seed: Seed) -> float:
    """Equal-weight mean over sets of mean(column 0) - mean(column 1): a paired difference of two models."""
    return float(np.mean([v[:, 0].mean() - v[:, 1].mean() for v in seed.values()]))


@dataclass(frozen=True)
class Interval:
    """A statistic's estimate and its percentile interval, with what it was computed on."""

    estimate: float | None
    low: float | None
    high: float | None
    seeds: int
    prompts: int  # rows per seed, summed over the sets the statistic reads (the first seed's)
    level: float = 0.95
    undefined: float = 0.0  # fraction of bootstrap replicates where the statistic was undefined
    seed_sd: float | None = None  # SD of the per-seed statistic across seeds (None with one seed)

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _mean_over_seeds(stat: Statistic, seeds: Sequence[Seed]) -> float | None:
    vals = [stat(s) for s in seeds]
    if any(v is None for v in vals):
        return None
    return float(np.mean(vals))


def _joint(seeds: Sequence[Seed]) -> bool:
    """Whether every seed has the same prompts per set (same lengths): then prompts are resampled jointly."""
    return all(set(s) == set(seeds[0]) and all(len(s[k]) == len(seeds[0][k]) for k in s) for s in seeds)


def bootstrap(
    stat: Statistic, seeds: Sequence[Seed], n_boot: int = 2000, level: float = 0.95, rng: int | np.random.Generator = 0
) -> Interval:
    """The interval of `mean over seeds of stat(seed)` (the module docstring says which, by seed count).

    All arrays of one set within one seed are indexed by the same prompts, so a
    paired comparison resamples both models' rows together. The estimate is
    None (and the interval too) when the statistic is undefined on the data.
    """
    if not seeds:
        raise ValueError("bootstrap needs at least one seed")
    seeds = [{k: np.asarray(v, dtype=float) for k, v in s.items()} for s in seeds]
    for s in seeds:
        for k, v in s.items():
            if len(v) == 0:
                raise ValueError(f"set {k!r} has no prompts")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    prompts = sum(len(v) for v in seeds[0].values())
    per_seed = [stat(s) for s in seeds]
    if any(v is None for v in per_seed):
        return Interval(None, None, None, len(seeds), prompts, level)
    estimate = float(np.mean(per_seed))
    sd = float(np.std(per_seed, ddof=1)) if len(seeds) > 1 else None
    joint = _joint(seeds)
    reps, undefined = [], 0
    for _ in range(n_boot):
        if joint:  # one draw of prompt indices per set, used by every seed
            idx = {k: gen.integers(0, len(v), len(v)) for k, v in seeds[0].items()}
            drawn = [{k: v[idx[k]] for k, v in s.items()} for s in seeds]
        else:
            drawn = [{k: v[gen.integers(0, len(v), len(v))] for k, v in s.items()} for s in seeds]
        r = _mean_over_seeds(stat, drawn)
        if r is None:
            undefined += 1
        else:
            reps.append(r)
    if not reps:
        return Interval(estimate, None, None, len(seeds), prompts, level, 1.0, sd)
    if len(seeds) == 1:
        tail = (1 - level) / 2 * 100
        low, high = np.percentile(reps, [tail, 100 - tail])
        return Interval(estimate, float(low), float(high), len(seeds), prompts, level, undefined / n_boot, sd)
    half = t_half_width(
        sd,
        len(seeds),
        float(np.var(reps, ddof=1)) if len(reps) > 1 else 0.0,
        min(len(v) for v in seeds[0].values()),
        level,
    )
    return Interval(estimate, estimate - half, estimate + half, len(seeds), prompts, level, undefined / n_boot, sd)


def t_half_width(seed_sd: float, seeds: int, prompt_var: float, prompts: int, level: float = 0.95) -> float:
    """t quantile x sqrt(seed_sd^2 / seeds + prompt_var), df by Welch-Satterthwaite over the two parts."""
    # deferred: scipy is only needed once an interval is computed
    from scipy.stats import t

    a, b = seed_sd**2 / seeds, prompt_var
    if a + b == 0:
        return 0.0
    df = (a + b) ** 2 / (a**2 / (seeds - 1) + b**2 / max(prompts - 1, 1))
    return float(t.ppf(1 - (1 - level) / 2, df) * math.sqrt(a + b))


def paired_difference(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], n_boot: int = 2000, rng: int | np.random.Generator = 0
) -> Interval:
    """mean(a) - mean(b) over the same prompts: `a[s][p]` and `b[s][p]` are seed s, prompt p (sample means)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} seeds against {len(b)}")
    seeds = []
    for s, (x, y) in enumerate(zip(a, b)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape:
            raise ValueError(
                f"seed {s}: {x.shape[0]} prompts against {y.shape[0]}; a paired comparison needs the same prompts"
            )
        seeds.append({"pair": np.stack([x, y], axis=1)})
    return bootstrap(mean_difference, seeds, n_boot, rng=rng)


def verdict(iv: Interval, direction: int = 1, max_undefined: float = 0.025) -> str:
    """`held` when the interval lies wholly on the claim's side of 0 (direction +1: claim says > 0)."""
    if iv.estimate is None or iv.low is None or iv.high is None or iv.undefined > max_undefined:
        return NOT_TESTABLE if iv.estimate is None else INCONCLUSIVE
    low, high = (iv.low, iv.high) if direction > 0 else (-iv.high, -iv.low)
    if low > 0:
        return HELD
    if high < 0:
        return CONTRADICTED
    return INCONCLUSIVE


# --- per-prompt values: what the bootstrap resamples ------------------------------------------------


def per_prompt(rows: Iterable[Mapping], key: str) -> dict[str, float]:
    """Per-prompt means from generations.jsonl rows (runner.score_responses), grouped by example id.

    `key` is a row field ("correct", "valid", "strict", "rbf") or "pass@K", "maj@K", "best@K" of the
    prompt's samples (voting.py; a prompt with fewer than K samples is left out). First-seen id order is kept.
    """
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        groups[str(r["id"])].append(r)
    out: dict[str, float] = {}
    for pid, rs in groups.items():
        if at_k(key):
            if (v := prompt_at_k(rs, key)) is not None:
                out[pid] = v
        else:
            vals = [float(r[key]) for r in rs if r.get(key) is not None]
            if vals:
                out[pid] = float(np.mean(vals))
    return out


def align(a: Mapping[str, float], b: Mapping[str, float], what: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Two models' per-prompt values on the prompts both have, in `a`'s order (a paired comparison)."""
    common = [k for k in a if k in b]
    if not common:
        raise ValueError(f"{what}: the two models share no prompt; a paired comparison needs the same prompts")
    return np.array([a[k] for k in common]), np.array([b[k] for k in common])


# --- GF with an interval: per-prompt Psi of each set, resampled within the set ----------------------


def gf_statistic(roles: Mapping[str, str], beta: float = 2.0, scale: float = 100.0) -> Statistic:
    """GF(A) - GF(B) per seed from arrays set -> (prompts, 4) with columns [A step 0, A step n, B 0, B n].

    Psi_ID is the mean over the "id" sets, Psi_OOD the equal-weight mean over
    the "ood" sets (gf_curve.json's definition), in points (`scale` 100 turns
    fractions into percent). With two columns [step 0, step n] it is GF itself.
    None when a GF is undefined (a gain <= 0).
    """
    ids = [k for k, r in roles.items() if r == "id"]
    oods = [k for k, r in roles.items() if r == "ood"]
    if not ids or not oods:
        raise ValueError(f"GF needs an id and an ood set, got roles {dict(roles)}")

    def gf(seed: Seed, start: int, end: int) -> float | None:
        def psi(names: list[str], col: int) -> float:
            return scale * float(np.mean([seed[n][:, col].mean() for n in names]))

        return generalization_factor(psi(ids, end) - psi(ids, start), psi(oods, end) - psi(oods, start), beta)

    def stat(seed: Seed) -> float | None:
        a = gf(seed, 0, 1)
        if next(iter(seed.values())).shape[1] == 2:
            return a
        b = gf(seed, 2, 3)
        return None if a is None or b is None else a - b

    return stat


# --- power: how many prompts a study needs ---------------------------------------------------------


def _z(power: float, alpha: float) -> float:
    return NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)


def minimal_detectable_difference(
    sd_prompt: float, seeds: int, prompts: int, seed_sd: float = 0.0, power: float = 0.8, alpha: float = 0.05
) -> float:
    """The paired difference a two-sided test at `alpha` detects with `power`.

    Var(mean difference) = seed_sd^2 / seeds + sd_prompt^2 / (seeds * prompts):
    `sd_prompt` is the SD of the per-prompt difference between the two models,
    `seed_sd` the SD of the seed-level difference (training noise).
    """
    return _z(power, alpha) * math.sqrt(seed_sd**2 / seeds + sd_prompt**2 / (seeds * prompts))


def required_prompts(
    delta: float, sd_prompt: float, seeds: int, seed_sd: float = 0.0, power: float = 0.8, alpha: float = 0.05
) -> int | None:
    """Prompts per set so that `delta` is detectable; None when the seed noise alone forbids it."""
    z2 = _z(power, alpha) ** 2
    room = delta**2 - z2 * seed_sd**2 / seeds
    if room <= 0:
        return None
    return max(1, math.ceil(z2 * sd_prompt**2 / (seeds * room)))
