"""Rollout accuracy first vs last 20 % of each RL run, and rl-base's rise over its control's."""

from __future__ import annotations

import json

from specs_vl.report.rl_gains import rollout_rise_table


def _log(path, accs):
    path.mkdir(parents=True)
    rows = []
    for i, a in enumerate(accs):  # TRL logs the rewards on the generation step only, then a step without them
        rows += [{"step": 2 * i + 1, "rewards/accuracy_reward/mean": a, "loss": 0.1}, {"step": 2 * i + 2, "loss": 0.1}]
    (path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_first_and_last_fifth_and_the_rise_over_the_control(tmp_path):
    seed = tmp_path / "seed-0"
    _log(seed / "rl-base", [0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 0.8])  # fifths: 0.55 -> 0.75
    _log(seed / "rl-random", [0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.6])  # 0.50 -> 0.55
    header, rows = rollout_rise_table([seed])
    assert header[1] == "run" and [r[1] for r in rows] == ["rl-base", "rl-random"]
    base, ctrl = rows
    assert base[2:5] == ["55.0", "75.0", "+20.0"] and ctrl[2:5] == ["50.0", "55.0", "+5.0"]
    assert ctrl[5] == "rl-base +15.0" and base[5] == ""
    assert rollout_rise_table([tmp_path / "seed-9"]) is None  # no RL run: no table
