"""maj@k and best@k beside pass@k: hand-computed cases, ties, k = 1, and where they are shown."""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import combinations

import pytest
from typer.testing import CliRunner

from specs_vl.cli.app import app
from specs_vl.evaluation.metrics import pass_at_k
from specs_vl.evaluation.runner import aggregate
from specs_vl.evaluation.stats import per_prompt
from specs_vl.evaluation.voting import maj_at_k, prompt_at_k
from specs_vl.scoring.answers import answer_key

R, W = True, False


@pytest.mark.parametrize(
    "votes, k, expected",
    [
        ([("a", R), ("a", R), ("b", W)], 1, 2 / 3),
        ([("a", R), ("a", R), ("b", W)], 2, 1 / 3),  # {a,a} right; {a,b} twice, a tie: wrong
        ([("a", R), ("a", R), ("b", W)], 3, 1.0),
        ([("a", R), ("b", W)], 2, 0.0),  # a right-wrong tie is wrong
        ([("B", R), ("blue", R)], 2, 1.0),  # a tie of two right forms is right
        ([("a", R), ("a", R), ("b", W), ("b", W)], 4, 0.0),
        ([("a", R), ("a", R), ("b", W), ("b", W)], 3, 0.5),  # aab twice right, abb twice wrong, of 4
        ([("a", R), ("a", R), ("b", W), ("b", W)], 2, 1 / 6),  # aa right; bb and the 4 ties wrong
        ([(None, W), (None, W), ("a", R)], 3, 0.0),  # "no answer" wins the vote, and is wrong
        ([(None, W), (None, W), ("a", R)], 1, 1 / 3),
        ([("a", W), ("b", W)], 1, 0.0),
        ([("a", R), ("b", W), ("c", W), ("d", W)], 3, 0.0),  # every 3-subset is a 3-way tie or wrong-led
        ([("a", R), ("a", R), ("b", W), ("c", W)], 3, 0.5),  # aab, aac right; abc twice a tie
    ],
)
def test_maj_at_k_hand_computed(votes, k, expected):
    assert maj_at_k(votes, k) == pytest.approx(expected, abs=1e-12)


def test_maj_at_k_is_the_mean_over_all_k_subsets_and_maj_at_1_is_pass_at_1():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 8)
        votes = [(a, a in "xy") for a in (rng.choice("xyzw") for _ in range(n))]
        right = sum(ok for _, ok in votes)
        assert maj_at_k(votes, 1) == pytest.approx(pass_at_k(n, right, 1))
        k = rng.randint(1, n)
        wins = []
        for sub in combinations(votes, k):
            tally = Counter(sub)
            top = max(tally.values())
            wins.append(all(ok for (_, ok), c in tally.items() if c == top))
        assert maj_at_k(votes, k) == pytest.approx(sum(wins) / len(wins), abs=1e-12), (votes, k)


def test_maj_at_k_refuses_k_out_of_range():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        maj_at_k([("a", R)], 2)


@pytest.mark.parametrize(
    "raw, key",
    [("3", "3"), ("3.0", "3"), ("$3$", "3"), (" 3. ", "3"), ("30", "30"), ("(b)", "B"), ("B.", "B")]
    + [("Blue  Whale", "blue whale"), ("", None), (None, None)],
)
def test_votes_count_the_normalised_answer(raw, key):
    assert answer_key(raw) == key


def rec(pid, extracted, correct):
    return {
        "id": pid,
        "extracted": extracted,
        "correct": correct,
        "valid": True,
        "strict": correct,
        "length": 3,
        "family": "f",
        "instruction_style": "s",
    }


RECORDS = [rec("p", "3.0", R), rec("p", "3", R), rec("p", "4", W)] + [
    rec("q", "5", W),
    rec("q", "5", W),
    rec("q", "6", R),
]


def test_aggregate_writes_maj_and_best_beside_pass():
    o = aggregate(RECORDS, (1, 3))["overall"]
    # p: "3.0" and "3" are one answer, so the 3-vote majority is right (unnormalised, a 3-way tie: wrong)
    assert o["maj@3"] == pytest.approx(0.5) and o["pass@3"] == pytest.approx(1.0)
    assert o["maj@1"] == pytest.approx(o["pass@1"]) == pytest.approx(0.5)
    assert o["best@3"] == o["pass@3"] and o["best@1"] == o["pass@1"]
    assert prompt_at_k(RECORDS[:3], "maj@4") is None  # fewer samples than k
    assert per_prompt(RECORDS, "maj@3") == {"p": 1.0, "q": 0.0}


def write_eval(d, rows, suite="world-id"):
    d.mkdir(parents=True)
    (d / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "metrics.json").write_text(json.dumps({"suite": suite}))
    return d


def test_compare_reads_maj_at_k(tmp_path):
    a = write_eval(tmp_path / "a", RECORDS)
    flipped = [rec("p", "4", W), rec("p", "4", W), rec("p", "3", R)] + RECORDS[3:]
    b = write_eval(tmp_path / "b", flipped)
    res = CliRunner().invoke(app, ["compare", str(a), str(b), "--metric", "maj@3", "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    assert "maj@3 a" in res.output and "| 0.500 | 0.000 | +0.500 |" in res.output
    res = CliRunner().invoke(app, ["compare", str(a), str(b), "--metric", "maj@4"])
    assert res.exit_code == 2 and "maj@4 needs 4 samples of a prompt, the most here is 3" in res.output
    assert "generations.jsonl" in res.output


def test_report_model_table_shows_maj_at_k(tmp_path):
    from specs_vl.report.tables import exploration_table

    for model, rows in (("base", RECORDS), ("zero", RECORDS[:3])):
        out = tmp_path / "eval" / model / "world-id"
        out.mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps(aggregate(rows, (1, 3))))
    old = tmp_path / "eval" / "rl-base" / "world-id"  # written before maj@k existed
    old.mkdir(parents=True)
    (old / "metrics.json").write_text(json.dumps({"overall": {"pass@1": 0.5, "pass@3": 0.75, "rbf": None}}))
    header, rows = exploration_table([tmp_path])
    assert header == ["model", "world-id pass@1", "world-id pass@3 = best@3", "world-id maj@3", "world-id RBF"]
    by = {r[0]: r[1:] for r in rows}
    assert by["base"][:3] == ["0.500", "1.000", "0.500"] and by["zero"][:3] == ["0.667", "1.000", "1.000"]
    assert by["rl-base"] == ["0.500", "0.750", "—", "—"]
