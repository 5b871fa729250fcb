"""GF over the requirement-changed OOD sets: read from world ids, gained against step 0, undefined at no gain."""

from __future__ import annotations

import pytest

from specs_vl.evaluation.curve import _parts, with_gains
from specs_vl.evaluation.metrics import generalization_factor


def test_parts_split_an_interleaved_ood_suite_by_the_world_set_in_each_id():
    recs = [
        {"id": "ood_domain-0-000000", "strict": 1},
        {"id": "ood_domain-0-000000", "strict": 0},
        {"id": "ood_surface-0-000000", "strict": 1},
        {"id": "ood_requirement-0-000000", "strict": 0},
        {"id": "ood_requirement-0-000001", "strict": 1},
        {"id": "mine-17", "strict": 1},  # a user's row names no world set
    ]
    assert _parts(recs, "strict") == {"ood_domain": 50.0, "ood_surface": 100.0, "ood_requirement": 50.0}


def _pt(step, psi_id, parts):
    return {"step": step, "psi_id": psi_id, "psi_ood": sum(parts.values()) / len(parts), "ood_parts": parts}


def test_gf_changed_counts_only_the_changed_requirement():
    start = {"ood_domain": 50.0, "ood_surface": 50.0, "ood_requirement": 40.0}
    carried = {"ood_domain": 80.0, "ood_surface": 80.0, "ood_requirement": 40.0}  # format carried, not the rule
    learned = {"ood_domain": 60.0, "ood_surface": 60.0, "ood_requirement": 52.0}
    pts = with_gains([_pt(0, 30.0, start), _pt(5, 40.0, carried), _pt(10, 40.0, learned)])
    p5, p10 = pts[1], pts[2]
    assert p5["g_ood"] == pytest.approx(20.0) and p5["gf"] == pytest.approx(generalization_factor(10.0, 20.0))
    assert p5["g_ood_changed"] == 0.0 and p5["gf_changed"] is None  # no gain where the requirement changed
    assert p10["g_ood_changed"] == pytest.approx(12.0)
    assert p10["gf_changed"] == pytest.approx(generalization_factor(10.0, 12.0))
    assert "gf_changed" not in with_gains([{"step": 0, "psi_id": 1.0, "psi_ood": 1.0}])[0]  # no parts: not made up
