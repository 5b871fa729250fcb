"""Differences with 95 % intervals: one paired bootstrap for the report, the study and `specs compare`.

The unit that is resampled is the prompt (its samples stay together), inside
each seed; with several seeds the seeds are resampled first, then prompts
within each drawn seed. A statistic is computed per seed from that seed's
per-prompt arrays and averaged over seeds, so seeds weigh equally whatever
their prompt counts.

A verdict reads the interval, never the point estimate: `held` only when the
whole interval lies on the claim's side of 0, so a tie is never "held".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

Seed = Mapping[str, np.ndarray]  # set name -> per-prompt values, shape (prompts,) or (prompts, columns)
Statistic = Callable[[Seed], "float | None"]

HELD, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "held", "contradicted", "inconclusive", "not testable"


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

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _mean_over_seeds(stat: Statistic, seeds: Sequence[Seed]) -> float | None:
    vals = [stat(s) for s in seeds]
    if any(v is None for v in vals):
        return None
    return float(np.mean(vals))


def bootstrap(stat: Statistic, seeds: Sequence[Seed], n_boot: int = 2000, level: float = 0.95,
              rng: int | np.random.Generator = 0) -> Interval:
    """Percentile interval of `mean over seeds of stat(seed)`; seeds, then prompts, resampled.

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
    estimate = _mean_over_seeds(stat, seeds)
    if estimate is None:
        return Interval(None, None, None, len(seeds), prompts, level)
    reps, undefined = [], 0
    for _ in range(n_boot):
        picked = [seeds[i] for i in gen.integers(0, len(seeds), len(seeds))] if len(seeds) > 1 else seeds
        drawn = [{k: v[gen.integers(0, len(v), len(v))] for k, v in s.items()} for s in picked]
        r = _mean_over_seeds(stat, drawn)
        if r is None:
            undefined += 1
        else:
            reps.append(r)
    if not reps:
        return Interval(estimate, None, None, len(seeds), prompts, level, 1.0)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(reps, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high), len(seeds), prompts, level, undefined / n_boot)


def paired_difference(a: Sequence[np.ndarray], b: Sequence[np.ndarray], n_boot: int = 2000,
                      rng: int | np.random.Generator = 0) -> Interval:
    """mean(a) - mean(b) over the same prompts: `a[s][p]` and `b[s][p]` are seed s, prompt p (sample means)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} seeds against {len(b)}")
    seeds = []
    for s, (x, y) in enumerate(zip(a, b)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape:
            raise ValueError(f"seed {s}: {x.shape[0]} prompts against {y.shape[0]}; a paired comparison needs the same prompts")
        seeds.append({"pair": np.stack([x, y], axis=1)})
    return bootstrap(lambda d: float(d["pair"][:, 0].mean() - d["pair"][:, 1].mean()), seeds, n_boot, rng=rng)


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
