"""A training stage killed with SIGKILL mid-run resumes from its last checkpoint and ends at the configured step."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from kill_points import command, run_until_paused


def _run_config(tmp_path: Path, world, base_dir: Path, section: str, settings: dict) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": "kill", "world": world.model_dump(mode="json"), "base_model": str(base_dir), section: settings}
        )
    )
    return path


def _steps(log: Path) -> list[int]:
    return [json.loads(line)["step"] for line in log.read_text().splitlines() if '"loss"' in line]


def test_coldstart_killed_mid_training_resumes_to_the_configured_step(
    tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path
):
    cfg = _run_config(
        tmp_path,
        tiny_world,
        tiny_base_dir,
        "coldstart",
        {"batch_size": 2, "max_steps": 8, "save_steps": 2, "curve_every": 0, "curve_id_n": 4, "curve_ood_n": 4},
    )
    out = tmp_path / "cs"
    cmd = command("coldstart", "-q", "-c", str(cfg), "--pairs", str(tiny_pairs_dir), "--out", str(out))
    # killed once checkpoint-4 is whole, before step 5 begins: the rerun must resume from exactly there
    run_until_paused(cmd, "saved:cs/checkpoints/checkpoint-4", tmp_path / "paused", cwd=tmp_path)
    assert not (out / "result.json").exists() and not (out / "model").exists()  # it died mid-training
    assert not (out / "checkpoints" / "checkpoint-6").exists()
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["resumed_from"].endswith("checkpoint-4") and result["steps"] == 8
    assert set(_steps(out / "log.jsonl")) == set(range(1, 9))
    curve = json.loads((out / "gf_curve.json").read_text())
    assert [p["step"] for p in curve["points"]] == [0, 8]  # step 0 kept from before the kill


def test_rl_killed_mid_training_resumes_to_the_configured_step(tiny_world, tiny_base_dir, tmp_path):
    cfg = _run_config(
        tmp_path,
        tiny_world,
        tiny_base_dir,
        "rl",
        {
            "steps": 8,
            "num_generations": 2,
            "prompts_per_step": 2,
            "max_completion_length": 16,
            "save_steps": 2,
            "train_size": 16,
            "eval_id_n": 4,
            "eval_ood_n": 4,
        },
    )
    out = tmp_path / "rl"
    cmd = command("rl", "-q", "-c", str(cfg), "--from", str(tiny_base_dir), "--out", str(out))
    run_until_paused(cmd, "saved:rl/checkpoints/checkpoint-4", tmp_path / "paused", cwd=tmp_path)
    assert not (out / "result.json").exists()
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["resumed_from"].endswith("checkpoint-4") and result["steps"] == 8
    assert [r["step"] for r in json.loads((out / "curve.json").read_text())][-1] == 8


def test_a_save_cut_short_by_a_kill_resumes_from_the_checkpoint_before(
    tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path
):
    """SIGKILL after checkpoint-4's weights are written but before its trainer_state.json."""
    cfg = _run_config(
        tmp_path,
        tiny_world,
        tiny_base_dir,
        "coldstart",
        {"batch_size": 2, "max_steps": 6, "save_steps": 2, "curve_every": 0, "curve_id_n": 4, "curve_ood_n": 4},
    )
    out = tmp_path / "cs"
    cmd = command("coldstart", "-q", "-c", str(cfg), "--pairs", str(tiny_pairs_dir), "--out", str(out))
    run_until_paused(cmd, "saving:cs/checkpoints/checkpoint-4", tmp_path / "paused", cwd=tmp_path)
    cut = out / "checkpoints" / "checkpoint-4"
    assert cut.is_dir() and not (cut / "trainer_state.json").exists()
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["resumed_from"].endswith("checkpoint-2") and result["steps"] == 6
    assert set(_steps(out / "log.jsonl")) == set(range(1, 7))


def test_a_run_killed_after_its_last_checkpoint_keeps_the_trained_weights(
    tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path
):
    """Resuming a checkpoint at max_steps makes transformers skip both training and weight loading;
    the stage must still end with the trained model, not the start model."""
    import shutil

    import torch

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart import ColdstartConfig, run_coldstart

    cfg = ColdstartConfig(
        batch_size=2, max_steps=4, save_steps=2, curve_every=0, curve_id_n=4, curve_ood_n=4, learning_rate=2e-3
    )
    out = tmp_path / "cs"
    run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, out, tiny_world)
    trained, _ = load_vlm(out / "model")
    shutil.rmtree(out / "model")
    (out / "result.json").unlink()  # as if killed while writing outputs
    res = run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, out, tiny_world)
    assert res["resumed_from"].endswith("checkpoint-4") and res["steps"] == 4
    again, _ = load_vlm(out / "model")
    base, _ = load_vlm(tiny_base_dir)
    for a, b, _c in zip(again.parameters(), trained.parameters(), base.parameters()):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, c) for a, c in zip(again.parameters(), base.parameters()))


def test_a_resumed_run_ends_with_the_weights_of_an_unbroken_run(tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path):
    """The trap: transformers 5 resumes Qwen2.5-VL checkpoints with strict=False under renamed keys, so
    a resumed run would silently restart from the start weights while its step counter says otherwise."""
    import shutil

    import torch

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart import ColdstartConfig, run_coldstart

    cfg = ColdstartConfig(
        batch_size=2, max_steps=4, save_steps=2, curve_every=0, curve_id_n=4, curve_ood_n=4, learning_rate=2e-3
    )
    unbroken = tmp_path / "a"
    run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, unbroken, tiny_world)
    broken = tmp_path / "b"
    shutil.copytree(unbroken, broken)
    for p in ("model", "checkpoints/checkpoint-4"):
        shutil.rmtree(broken / p)
    (broken / "result.json").unlink()  # as if killed between checkpoint-2 and checkpoint-4
    res = run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, broken, tiny_world)
    assert res["resumed_from"].endswith("checkpoint-2") and res["steps"] == 4
    a, _ = load_vlm(unbroken / "model")
    b, _ = load_vlm(broken / "model")
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-5), name


def test_a_checkpoint_cut_short_while_saving_is_skipped(tmp_path):
    from specs_vl.training.trainer import last_checkpoint

    ckpts = tmp_path / "checkpoints"
    for step, whole in ((2, True), (4, True), (6, False)):
        d = ckpts / f"checkpoint-{step}"
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"x")
        if whole:
            (d / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    assert last_checkpoint(ckpts, resume=True).endswith("checkpoint-4")
    assert not (ckpts / "checkpoint-6").exists()
    assert last_checkpoint(ckpts, resume=False) is None


def test_a_non_finite_loss_stops_the_stage_naming_the_step_and_keeps_the_checkpoint(
    tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path, monkeypatch
):
    import torch
    from transformers import TrainerCallback

    import specs_vl.recipe.coldstart as coldstart
    from specs_vl.recipe.coldstart_config import ColdstartConfig
    from specs_vl.util.errors import TrainingError

    class PoisonAtStep3(TrainerCallback):  # weights go NaN as step 3 begins, after checkpoint-2 is saved
        def on_step_begin(self, args, state, control, model=None, **kwargs):
            if state.global_step == 2:
                with torch.no_grad():
                    next(model.parameters()).fill_(float("nan"))

    real = coldstart.make_trainer
    monkeypatch.setattr(coldstart, "make_trainer", lambda *a, **k: real(*a[:-1], [*a[-1], PoisonAtStep3()], **k))
    cfg = ColdstartConfig(batch_size=2, max_steps=6, save_steps=2, curve_every=0, curve_id_n=4, curve_ood_n=4)
    out = tmp_path / "cs"
    with pytest.raises(TrainingError, match=r"step 3: the loss is nan.*checkpoint-2"):
        coldstart.run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, out, tiny_world)
    assert (out / "checkpoints" / "checkpoint-2" / "trainer_state.json").exists()
    assert not (out / "checkpoints" / "checkpoint-4").exists()
    assert not (out / "model").exists() and not (out / "result.json").exists()
