"""Bad configs fail before any work: exit code 2, a message naming the file and the key, nothing written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from specs_vl.cli import app

runner = CliRunner()

CASES = {
    "unknown key": ("zero:\n  stepz: 3\n", "zero.stepz", "unknown key"),
    "wrong type": ("coldstart:\n  batch_size: eight\n", "coldstart.batch_size", "integer"),
    "negative learning rate": ("rl:\n  learning_rate: -1.0e-6\n", "rl.learning_rate", "greater than 0"),
    "rollout batch not whole groups": ("rl:\n  num_generations: 8\n  rollout_batch_size: 12\n", "rl",
                                       "not a multiple of num_generations"),
    "unknown method": ("methods: [dpo-sft, ppo]\n", "methods.1", "'dpo-sft', 'dpo' or 'sft'"),
    "unknown coldstart method": ("coldstart:\n  method: orpo\n", "coldstart.method", "'dpo-sft', 'dpo' or 'sft'"),
    "unknown suite": ("eval:\n  suites: [world-id, mmlu]\n", "eval", "unknown suite"),
    "not a mapping": ("- a\n- b\n", "top level", "mapping"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_refused_with_file_and_key(case, tmp_path, monkeypatch):
    text, key, problem = CASES[case]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["pipeline", str(cfg), "-q"])
    assert res.exit_code == 2, res.output
    assert "bad.yaml" in res.output and key in res.output and problem in res.output, res.output
    assert not (tmp_path / "runs").exists()  # nothing written


def test_bad_override_on_the_command_line_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["coldstart", "--method", "ppo", "--pairs", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "command line: method" in res.output, res.output
    res = runner.invoke(app, ["coldstart", "--beta", "-1", "--pairs", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "command line: beta" in res.output, res.output
