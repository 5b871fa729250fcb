import itertools
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from specs_vl.evaluation import generalization_factor, nucleus_size, pass_at_k, rollout_branching_factor


@pytest.mark.parametrize("g_ood, expected", [(69, 73.34), (90, 91.49), (95, 95.59)])
def test_gf_paper_figures(g_ood, expected):
    assert round(generalization_factor(98, g_ood), 2) == expected


def test_gf_weights_ood_and_zero_for_nonpositive_gains():
    assert generalization_factor(10, 50) > generalization_factor(50, 10)
    assert generalization_factor(0, 5) == 0.0 and generalization_factor(5, -1) == 0.0
    assert generalization_factor(7, 7) == pytest.approx(7)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_matches_brute_force(n):
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(outcomes, k))
            brute = sum(any(s) for s in subsets) / len(subsets)
            assert pass_at_k(n, c, k) == pytest.approx(brute)


def test_pass_at_k_rejects_impossible():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 8)


def test_nucleus_size_and_rbf():
    v = 40
    uniform = torch.zeros(3, v)
    assert nucleus_size(uniform, 0.95).tolist() == [math.ceil(0.95 * v)] * 3
    peaked = torch.full((3, v), -1e4)
    peaked[:, 0] = 0
    assert nucleus_size(peaked).tolist() == [1, 1, 1]
    steps = [uniform[:2], peaked[:2]]
    assert rollout_branching_factor(steps) == pytest.approx((38 + 1) / 2)
    mask = torch.tensor([[1, 0], [1, 0]])
    assert rollout_branching_factor(steps, mask) == pytest.approx(38)
