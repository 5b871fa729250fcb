import itertools
import math
import os
from fractions import Fraction

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from specs_vl.evaluation import generalization_factor, pass_at_k
from specs_vl.evaluation.rbf import rollout_branching_factor
from specs_vl.models.nucleus import nucleus_size


@pytest.mark.parametrize("g_ood, expected", [(69, 73.34), (90, 91.49), (95, 95.59)])
def test_gf_paper_figures(g_ood, expected):
    assert round(generalization_factor(98, g_ood), 2) == expected


def test_gf_is_an_f_beta_that_weights_ood():
    assert generalization_factor(10, 50) > generalization_factor(50, 10)
    assert generalization_factor(7, 7) == pytest.approx(7)
    assert generalization_factor(3, 6, beta=1.0) == pytest.approx(2 * 3 * 6 / (3 + 6))  # harmonic mean
    assert generalization_factor(98, 69, beta=0.0) == pytest.approx(98)  # beta 0: ID gain only


@pytest.mark.parametrize("g_id, g_ood", [(0, 5), (5, 0), (5, -1), (-5, -1), (-1, 4)])
def test_gf_is_undefined_for_nonpositive_gains(g_id, g_ood):
    assert generalization_factor(g_id, g_ood) is None


def _brute_pass_at_k(n, c, k):
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(outcomes, k))
    return Fraction(sum(any(s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 10])
def test_pass_at_k_matches_brute_force_over_all_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(_brute_pass_at_k(n, c, k)), abs=1e-12)


@pytest.mark.parametrize("n, c, k", [(200, 3, 64), (1000, 1, 8), (500, 499, 1), (64, 0, 64)])
def test_pass_at_k_is_stable_for_large_n(n, c, k):
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9, abs=1e-12)


def test_pass_at_1_is_the_success_rate():
    assert pass_at_k(8, 3, 1) == pytest.approx(3 / 8)


@pytest.mark.parametrize("n, c, k", [(4, 5, 1), (4, 1, 8), (-1, 0, 1), (4, -1, 1), (4, 1, -2), (4, 1, 0)])
def test_pass_at_k_rejects_impossible(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def _brute_nucleus(probs, top_p):
    total, count = 0.0, 0
    for p in sorted(probs, reverse=True):
        count += 1
        total += p
        if total >= top_p - 1e-9:
            return count
    return count


@pytest.mark.parametrize("v", [1, 7, 20, 40, 100, 1000])
def test_uniform_nucleus_is_ceil_top_p_vocab(v):
    assert nucleus_size(torch.zeros(3, v), 0.95).tolist() == [math.ceil(0.95 * v)] * 3


def test_one_hot_like_nucleus_is_one():
    peaked = torch.full((2, 50), -1e4)
    peaked[:, 7] = 0
    assert nucleus_size(peaked).tolist() == [1, 1]
    peaked[:, 3] = float("-inf")  # as after top-k filtering
    assert nucleus_size(peaked).tolist() == [1, 1]


@pytest.mark.parametrize("top_p, expected", [(0.5, 1), (0.8, 2), (0.81, 3), (0.95, 3), (0.96, 4), (1.0, 4)])
def test_nucleus_boundaries(top_p, expected):
    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log()
    assert nucleus_size(logits, top_p).item() == expected


def test_nucleus_matches_brute_force_on_random_logits():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, 30, generator=gen) * 3
    sizes = nucleus_size(logits, 0.9)
    assert sizes.shape == (4, 6)
    probs = torch.softmax(logits.double(), -1)
    for i, j in itertools.product(range(4), range(6)):
        assert sizes[i, j].item() == _brute_nucleus(probs[i, j].tolist(), 0.9)


def test_rbf_averages_over_masked_positions():
    v = 40
    uniform, peaked = torch.zeros(2, v), torch.full((2, v), -1e4)
    peaked[:, 0] = 0
    steps = (uniform, peaked)  # as generate(output_logits=True) returns them
    assert rollout_branching_factor(steps) == pytest.approx((38 + 1) / 2)
    assert rollout_branching_factor(steps, torch.tensor([[1, 0], [1, 0]])) == pytest.approx(38)
    assert rollout_branching_factor(steps, torch.tensor([[1, 1], [1, 0]])) == pytest.approx((38 + 1 + 38) / 3)
    assert rollout_branching_factor(steps, torch.tensor([[0, 1], [0, 1]], dtype=torch.bool)) == pytest.approx(1)
    assert rollout_branching_factor(torch.stack(steps, dim=1)) == pytest.approx(rollout_branching_factor(steps))


def test_rbf_edge_cases():
    assert rollout_branching_factor(()) == 0.0
    assert rollout_branching_factor((torch.zeros(1, 10),), torch.zeros(1, 1)) == 0.0
    with pytest.raises(ValueError, match="mask"):
        rollout_branching_factor((torch.zeros(2, 10),), torch.ones(2, 5))
    with pytest.raises(ValueError):
        nucleus_size(torch.zeros(3), top_p=0.0)
