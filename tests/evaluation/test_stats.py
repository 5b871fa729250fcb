"""The verdict machinery: paired bootstrap intervals, verdicts that never call a tie "held", GF intervals,
per-prompt grouping and the power calculation. Every random draw has a fixed seed."""

from __future__ import annotations

import numpy as np
import pytest

from specs_vl.evaluation.stats import (
    CONTRADICTED,
    HELD,
    INCONCLUSIVE,
    NOT_TESTABLE,
    Interval,
    align,
    bootstrap,
    gf_statistic,
    minimal_detectable_difference,
    paired_difference,
    per_prompt,
    required_prompts,
    verdict,
)


def test_a_tie_is_inconclusive_never_held():
    same = [np.array([0.095] * 50)]
    iv = paired_difference(same, same, n_boot=200)
    assert iv.estimate == 0 and iv.low == 0 and iv.high == 0
    assert verdict(iv) == INCONCLUSIVE and verdict(iv, -1) == INCONCLUSIVE


def test_a_wide_interval_is_inconclusive_even_with_a_positive_estimate():
    assert verdict(Interval(0.042, -0.05, 0.14, 1, 120)) == INCONCLUSIVE
    rng = np.random.default_rng(1)
    a, b = rng.binomial(1, 0.34, 120).astype(float), rng.binomial(1, 0.30, 120).astype(float)
    iv = paired_difference([a], [b], n_boot=500)
    assert iv.low < 0 < iv.high and verdict(iv) == INCONCLUSIVE


def test_held_and_contradicted_read_the_whole_interval():
    assert verdict(Interval(0.1, 0.01, 0.2, 1, 10)) == HELD
    assert verdict(Interval(0.1, 0.01, 0.2, 1, 10), direction=-1) == CONTRADICTED
    assert verdict(Interval(-0.1, -0.2, -0.01, 1, 10)) == CONTRADICTED
    assert verdict(Interval(None, None, None, 1, 10)) == NOT_TESTABLE
    assert verdict(Interval(0.1, 0.01, 0.2, 1, 10, undefined=0.3)) == INCONCLUSIVE  # GF often undefined


def _coverage(true_diff: float, seeds: int, prompts: int, seed_sd: float, trials: int = 150) -> float:
    """Fraction of 95 % intervals that contain the true mean difference, on binary per-sample data
    (4 samples per prompt, prompt difficulty shared by both models: the clustering the bootstrap must respect)."""
    rng = np.random.default_rng(1234)
    hits = 0
    for t in range(trials):
        a_seeds, b_seeds = [], []
        for _ in range(seeds):
            difficulty = rng.uniform(0.05, 0.6, prompts)
            shift = rng.normal(0, seed_sd)
            pa = np.clip(difficulty + true_diff / 2 + shift / 2, 0, 1)
            pb = np.clip(difficulty - true_diff / 2 - shift / 2, 0, 1)
            a_seeds.append(rng.binomial(4, pa) / 4)
            b_seeds.append(rng.binomial(4, pb) / 4)
        iv = paired_difference(a_seeds, b_seeds, n_boot=300, rng=t)
        hits += iv.low <= true_diff <= iv.high
    return hits / trials


def test_bootstrap_covers_a_known_difference_one_seed():
    cov = _coverage(0.05, seeds=1, prompts=80, seed_sd=0.0)
    assert 0.88 <= cov <= 0.99, cov


def test_bootstrap_covers_a_known_difference_across_seeds():
    # prompts drawn anew in every seed: the seed variance already holds the prompt draw, and the joint prompt
    # part counts it again, so the interval is conservative here (the study's seeds share their prompts)
    cov = _coverage(0.05, seeds=5, prompts=40, seed_sd=0.03)
    assert 0.93 <= cov <= 1.0, cov
    narrow = paired_difference([np.full(40, 0.5)] * 5, [np.full(40, 0.4)] * 5, n_boot=100)
    assert narrow.seeds == 5 and narrow.prompts == 40 and narrow.seed_sd == pytest.approx(0.0)


def test_paired_difference_refuses_different_prompts():
    with pytest.raises(ValueError, match="same prompts"):
        paired_difference([np.zeros(3)], [np.zeros(4)])


def test_per_prompt_groups_samples_by_example_id_and_computes_pass_at_k():
    rows = [{"id": "a", "correct": c, "valid": True, "rbf": 2.0} for c in (1, 0, 0, 0)]
    rows += [
        {"id": "b", "correct": c, "valid": v, "rbf": None} for c, v in ((1, True), (1, False), (1, False), (0, True))
    ]
    assert per_prompt(rows, "correct") == {"a": 0.25, "b": 0.75}
    assert per_prompt(rows, "valid") == {"a": 1.0, "b": 0.5}
    assert per_prompt(rows, "rbf") == {"a": 2.0}  # no RBF recorded for b
    assert per_prompt(rows, "pass@4") == {"a": 1.0, "b": 1.0}
    assert per_prompt(rows, "pass@2")["a"] == pytest.approx(0.5)
    x, y = align({"a": 1.0, "b": 2.0, "c": 3.0}, {"c": 0.0, "a": 1.0})
    assert list(x) == [1.0, 3.0] and list(y) == [1.0, 0.0]
    with pytest.raises(ValueError, match="no prompt"):
        align({"a": 1.0}, {"b": 1.0})


def _gf_seed(start_id, end_id, start_ood, end_ood, n=20):
    def cols(a, b):
        return np.stack([np.full(n, a), np.full(n, b)], axis=1)

    return {"world-id": cols(start_id, end_id), "world-ood-domain": cols(start_ood, end_ood)}


def test_gf_statistic_matches_the_paper_and_is_undefined_for_a_lost_gain():
    roles = {"world-id": "id", "world-ood-domain": "ood"}
    stat = gf_statistic(roles)
    assert round(stat(_gf_seed(0.0, 0.98, 0.0, 0.69)), 2) == 73.34  # the paper's SFT point
    assert stat(_gf_seed(0.2, 0.5, 0.3, 0.25)) is None
    iv = bootstrap(stat, [_gf_seed(0.2, 0.5, 0.3, 0.25)], n_boot=50)
    assert iv.estimate is None and verdict(iv) == NOT_TESTABLE
    both = {
        k: np.concatenate([a, b], axis=1)
        for (k, a), b in zip(_gf_seed(0.0, 0.98, 0.0, 0.95).items(), _gf_seed(0.0, 0.98, 0.0, 0.69).values())
    }
    assert stat(both) == pytest.approx(95.59 - 73.34, abs=0.01)


def test_power_calculation_round_trips_and_says_when_seed_noise_forbids_it():
    n = required_prompts(0.03, sd_prompt=0.4, seeds=5, seed_sd=0.01)
    assert n is not None and minimal_detectable_difference(0.4, 5, n, 0.01) <= 0.03
    assert minimal_detectable_difference(0.4, 5, n - 1, 0.01) > 0.03
    assert required_prompts(0.03, sd_prompt=0.4, seeds=5, seed_sd=0.1) is None
    assert minimal_detectable_difference(0.5, 1, 100) == pytest.approx(2.8016 * 0.05, rel=1e-3)


def _study_like(gen, seeds=5, prompts=60, seed_sd=0.03, true_diff=0.0):
    """Two models scored on the same prompts in every seed: prompt effects drawn once and shared by the
    seeds, a training-noise offset per seed, and per-prompt noise (4 samples at T=1)."""
    prompt_effect = gen.normal(0, 0.08, prompts)
    out = []
    for _ in range(seeds):
        offset = gen.normal(true_diff, seed_sd)
        diff = prompt_effect + offset + gen.normal(0, 0.25, prompts)
        base = gen.uniform(0.3, 0.7, prompts)
        out.append((base + diff, base))
    return out


def test_the_seed_level_interval_covers_at_5_seeds():
    from specs_vl.evaluation.stats import paired_difference

    gen = np.random.default_rng(0)
    hits, reps = 0, 300
    for _ in range(reps):
        data = _study_like(gen)
        iv = paired_difference([a for a, _ in data], [b for _, b in data], n_boot=200, rng=gen)
        hits += iv.low <= 0.0 <= iv.high
    assert hits / reps >= 0.93, hits / reps


def test_seeds_share_their_prompts_when_resampled():
    """Resampled jointly, a prompt effect shared by every seed widens the interval; independent draws per seed
    would average it away and read it as noise that cancels."""
    from specs_vl.evaluation.stats import _joint, paired_difference

    gen = np.random.default_rng(1)
    shared = gen.normal(0, 0.3, 40)
    a = [shared + gen.normal(0, 0.01, 40) for _ in range(5)]
    b = [np.zeros(40) for _ in range(5)]
    assert _joint([{"pair": np.stack([x, y], 1)} for x, y in zip(a, b)])
    iv = paired_difference(a, b, n_boot=400, rng=0)
    se_prompts = shared.std(ddof=1) / np.sqrt(40)
    assert (iv.high - iv.low) / 2 > 1.9 * se_prompts  # the prompt draw's uncertainty is in the interval
