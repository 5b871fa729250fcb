"""Bad configs fail before any work: exit code 2, a message naming the file and the key, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from specs_vl.cli.app import app

ROOT = Path(__file__).resolve().parents[2]

runner = CliRunner()

CASES = {
    "unknown key": ("zero:\n  stepz: 3\n", "zero.stepz", "unknown key"),
    "wrong type": ("coldstart:\n  batch_size: eight\n", "coldstart.batch_size", "integer"),
    "negative learning rate": ("rl:\n  learning_rate: -1.0e-6\n", "rl.learning_rate", "greater than 0"),
    "rollout batch not whole groups": (
        "rl:\n  num_generations: 8\n  rollout_batch_size: 12\n",
        "rl",
        "not a multiple of num_generations",
    ),
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
    assert res.exit_code == 2 and "command-line overrides: coldstart.method" in res.output, res.output
    res = runner.invoke(app, ["coldstart", "--beta", "-1", "--pairs", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "command-line overrides: coldstart.beta" in res.output, res.output


BAD_PAIRS = {
    "missing chosen": ({"prompt": "<image>How many?", "rejected": "2", "images": ["a.png"]}, "row 0", "'chosen'"),
    "empty rejected": (
        {
            "prompt": "<image>How many?",
            "chosen": "<think>x</think> <answer>2</answer>",
            "rejected": "  ",
            "images": ["a.png"],
        },
        "row 0",
        "'rejected'",
    ),
    "missing image file": (
        {"prompt": "<image>How many?", "chosen": "c", "rejected": "r", "images": ["nope.png"]},
        "row 0",
        "'images[0]'",
    ),
    "0-byte image": (
        {"prompt": "<image>How many?", "chosen": "c", "rejected": "r", "images": ["empty.png"]},
        "row 0",
        "'images[0]'",
    ),
    "image but no image token": (
        {"prompt": "How many?", "chosen": "c", "rejected": "r", "images": ["a.png"]},
        "row 0",
        "'prompt'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PAIRS))
def test_bad_pairs_through_the_cli_exit_2_name_the_row_and_write_nothing(case, tmp_path, monkeypatch, tiny_base_dir):
    import json

    from PIL import Image

    row, where, field = BAD_PAIRS[case]
    Image.new("RGB", (28, 28), "red").save(tmp_path / "a.png")
    (tmp_path / "empty.png").write_bytes(b"")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps(row) + "\n")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(
        app, ["coldstart", "-q", "--base", str(tiny_base_dir), "--pairs", str(pairs), "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 2, res.output
    assert "pairs.jsonl" in res.output and where in res.output and field in res.output, res.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_no_unsafe_torch_load_in_the_package():
    """Never torch.load a file that could come from a user without weights_only=True."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    for f in src.rglob("*.py"):
        for call in re.findall(r"torch\.load\([^)]*\)", f.read_text()):
            assert "weights_only=True" in call, f"{f}: {call}"


def test_own_training_data_needs_its_own_held_out_sets(tmp_path):
    """A config that trains on its own data and leaves the GF curve / RL eval at the toy world's sets (64 new
    tokens) is refused with how to fix it; naming them, or writing the world's sets out, passes."""
    from specs_vl.config import load_run_config

    with pytest.raises(Exception, match=r"rl.data is your own data, but coldstart.curve_id, coldstart.curve_ood, "):
        load_run_config(None, ("rl.data=data/train",))
    named = (
        "rl.data=data/train",
        "coldstart.curve_id=data:held.jsonl",
        "coldstart.curve_ood=[mathvista]",
        "rl.eval_id=data:held.jsonl",
        "rl.eval_ood=[mathvista]",
    )
    assert load_run_config(None, named).rl.eval_ood == ["mathvista"]
    kept = ("zero.data=d", "coldstart.curve_id=world-id", "coldstart.curve_ood=[world-ood]", "rl.eval_id=world-id")
    with pytest.raises(Exception, match=r"but rl.eval_ood are left"):
        load_run_config(None, kept)
    assert load_run_config(None, (*kept, "rl.eval_ood=[world-ood]")).zero.data == "d"
    seven_b = load_run_config(ROOT / "configs" / "qwen2.5-vl-7b.yaml", ())
    assert seven_b.coldstart.curve_max_new_tokens == seven_b.rl.eval_max_new_tokens == 10240


def test_a_precomputed_reference_under_fsdp_is_refused_before_the_model_loads(
    tmp_path, monkeypatch, tiny_base_dir, tiny_pairs_dir
):
    """TRL computes the reference before `train` prepares the model: under FSDP the policy is still on the CPU."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")  # what `accelerate launch` sets for an FSDP config
    args = ["coldstart", "-q", "--base", str(tiny_base_dir), "--pairs", str(tiny_pairs_dir), "--out", "out"]
    res = runner.invoke(app, [*args, "--precompute-ref"])
    assert res.exit_code == 2, res.output
    assert "coldstart.precompute_ref under FSDP" in res.output and "deepspeed_zero3.yaml" in res.output
    assert not (tmp_path / "out").exists()
