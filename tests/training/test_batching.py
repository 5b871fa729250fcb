"""Issue 15: global batch values split over 1, 2 and 8 processes (computed, not launched); resume and
checkpoint clean-up decisions under several ranks; the pipeline's accelerate launcher."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from specs_vl.config import load_run_config
from specs_vl.recipe.coldstart import ColdstartConfig, batching
from specs_vl.recipe.rl import RLConfig
from specs_vl.training.batching import grpo_batching, pair_batching, pair_steps
from specs_vl.util.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("world,micro,accum,spg", [(1, 4, 64, 256), (2, 4, 32, 128), (8, 4, 8, 32)])
def test_grpo_rollout_batch_is_global(world, micro, accum, spg):
    b = grpo_batching(128, 8, world, mini_batch_prompts=32, micro_batch=4)
    assert (b.micro_batch, b.grad_accum, b.steps_per_generation) == (micro, accum, spg)
    assert b.micro_batch * world * b.steps_per_generation == 128 * 8  # TRL's generation_batch_size
    assert b.micro_batch * world * b.grad_accum == 32 * 8  # completions per optimiser step, any world size
    assert b.optimizer_steps_per_rollout == 4


def test_grpo_default_is_one_step_per_rollout_and_the_whole_share_per_device():
    for world in (1, 2, 8):
        b = grpo_batching(16, 8, world)
        assert b.micro_batch == 128 // world and b.grad_accum == 1 and b.steps_per_generation == 1


def test_grpo_batches_that_do_not_split_name_the_setting():
    with pytest.raises(ConfigError, match="zero.mini_batch_prompts=3"):
        grpo_batching(8, 2, 1, mini_batch_prompts=3)
    with pytest.raises(ConfigError, match="multiple of 8"):
        grpo_batching(3, 2, 8)
    with pytest.raises(ConfigError, match=r"rl.micro_batch_size=3 must divide the 16"):
        grpo_batching(16, 2, 2, micro_batch=3, section="rl")


@pytest.mark.parametrize("world,micro,accum", [(1, 1, 64), (2, 1, 32), (8, 1, 8)])
def test_coldstart_batch_is_global(world, micro, accum):
    cfg = ColdstartConfig(batch_size=64, micro_batch_size=1)
    b = batching(cfg, world)
    assert (b.micro_batch, b.grad_accum) == (micro, accum)
    assert b.trl_args() == {"per_device_train_batch_size": micro, "gradient_accumulation_steps": accum}


@pytest.mark.parametrize("world", [1, 2, 8])
def test_planned_steps_count_pairs_per_optimiser_step_on_any_world_size(world):
    b = pair_batching(64, world)
    assert pair_steps(9000, b, 1.0) == 141  # ceil(9000 / 64)
    assert pair_steps(640, b, 2.0) == 20
    assert pair_steps(640, b, 1.0, max_steps=7) == 7
    with pytest.raises(ConfigError, match="coldstart.batch_size=63"):
        pair_batching(63, 2)


def test_grpo_optimiser_steps_and_world_size_from_the_environment(monkeypatch):
    cfg = RLConfig(steps=10, num_generations=4, prompts_per_step=8, mini_batch_prompts=2)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cfg.batching().world_size == 2 and cfg.batching().micro_batch == 4
    assert cfg.optimizer_steps() == 40
    with pytest.raises(ValueError, match="mini_batch_prompts 3 does not divide"):
        RLConfig(prompts_per_step=8, mini_batch_prompts=3)


def test_the_7b_config_splits_like_the_paper_on_8_gpus():
    cfg = load_run_config(ROOT / "configs" / "qwen2.5-vl-7b.yaml")
    rl = cfg.rl.batching(8)
    assert rl.rollout_completions == 1024 and rl.micro_batch == 1 and rl.optimizer_steps_per_rollout == 4
    assert batching(cfg.coldstart, 8).grad_accum == 8  # 64 pairs = 8 GPUs x 1 pair x 8 accumulation steps
    assert cfg.launcher.config_file.endswith("deepspeed_zero3.yaml") and cfg.launcher.num_processes == 8
    assert cfg.rl.loss_type == "dapo" and cfg.rl.scale_rewards == "group"


def test_strict_reload_is_skipped_under_zero3_only(monkeypatch, tiny_base):
    import transformers.integrations.deepspeed as ds

    from specs_vl.training.trainer import strict_reload

    model, _ = tiny_base
    assert strict_reload(model)  # plain / DDP / ZeRO-2 / FSDP: our strict reload fixes transformers' key names

    class Zero3:
        def is_zero3(self):
            return True

    cfg = Zero3()
    monkeypatch.setattr(ds, "_hf_deepspeed_config_weak_ref", lambda: cfg)
    assert ds.is_deepspeed_zero3_enabled() and not strict_reload(model)  # the engine restores the weights


class _Rank:
    def __init__(self, main: bool, on_wait=None):
        self.is_main_process, self.on_wait, self.waits = main, on_wait, 0

    def wait_for_everyone(self):
        self.waits += 1
        if self.on_wait:
            self.on_wait()


def _ckpts(tmp_path: Path) -> Path:
    d = tmp_path / "checkpoints"
    (d / "checkpoint-2").mkdir(parents=True)
    (d / "checkpoint-2" / "trainer_state.json").write_text("{}")
    (d / "checkpoint-4").mkdir()  # killed mid-save: no trainer_state.json
    return d


def test_incomplete_checkpoint_is_removed_by_the_main_process_only(monkeypatch, tmp_path):
    import shutil

    from specs_vl.training import trainer as train

    d = _ckpts(tmp_path)
    main = _Rank(True)
    monkeypatch.setattr(train, "_process_state", lambda: main)
    assert train.last_checkpoint(d, True).endswith("checkpoint-2")
    assert not (d / "checkpoint-4").exists() and main.waits == 1

    d = _ckpts(tmp_path / "other")
    seen = []
    other = _Rank(
        False, on_wait=lambda: (seen.append((d / "checkpoint-4").exists()), shutil.rmtree(d / "checkpoint-4"))
    )  # the main process removes it
    monkeypatch.setattr(train, "_process_state", lambda: other)
    assert train.last_checkpoint(d, True).endswith("checkpoint-2")
    assert seen == [True]  # this rank left it alone and waited for the main process


def test_launch_command_uses_accelerate_with_the_config_settings():
    from specs_vl.config import LauncherSettings
    from specs_vl.orchestration.launch import launch_command

    cmd = launch_command(
        LauncherSettings(config_file="configs/accelerate/deepspeed_zero3.yaml", num_processes=8),
        ["zero", "-c", "x.yaml"],
    )
    assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert cmd[3:7] == ["--config_file", "configs/accelerate/deepspeed_zero3.yaml", "--num_processes", "8"]
    assert cmd[7:] == ["-m", "specs_vl.cli", "zero", "-c", "x.yaml"]
    assert not LauncherSettings().active and LauncherSettings(num_processes=2).active


def test_launch_command_spans_several_nodes_and_refuses_half_a_node_setup():
    import pytest
    from pydantic import ValidationError

    from specs_vl.config import LauncherSettings
    from specs_vl.orchestration.launch import launch_command

    two = LauncherSettings(
        num_processes=16, num_machines=2, machine_rank=1, main_process_ip="10.0.0.1", main_process_port=29500
    )
    cmd = launch_command(two, ["rl"])
    assert cmd[3:15] == [
        "--num_processes", "16", "--num_machines", "2", "--machine_rank", "1",
        "--main_process_ip", "10.0.0.1", "--main_process_port", "29500", "-m", "specs_vl.cli",
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="num_machines 2 needs main_process_ip, main_process_port"):
        LauncherSettings(num_machines=2, machine_rank=0)
    with pytest.raises(ValidationError, match="machine_rank 2 is not below num_machines 2"):
        LauncherSettings(num_machines=2, machine_rank=2, main_process_ip="h", main_process_port=1)


def test_pipeline_launches_training_stages_through_accelerate(monkeypatch, tmp_path, tiny_base_dir, tiny_world):
    from specs_vl.config import RunConfig
    from specs_vl.orchestration import pipeline, stage_plan

    calls = []

    class Stop(Exception):
        pass

    def fake_launch(launcher, argv, name):
        calls.append((launcher, argv, name))
        raise Stop

    monkeypatch.setattr(stage_plan, "launch_stage", fake_launch)
    cfg = RunConfig(
        name="l",
        base_model=str(tiny_base_dir),
        world=tiny_world,
        launcher={"config_file": str(ROOT / "configs/accelerate/cpu_2proc.yaml"), "num_processes": 2},
    )
    with pytest.raises(Stop):
        pipeline.run_pipeline(cfg, tmp_path, report=False)
    ((launcher, argv, name),) = calls
    assert name == "zero" and launcher.num_processes == 2
    assert argv[:3] == ["zero", "-q", "-c"] and argv[4:] == [
        "--resume",
        "--base",
        str(tiny_base_dir),
        "--out",
        str(tmp_path / "l" / "zero"),
    ]
    written = yaml.safe_load(Path(argv[3]).read_text())
    assert written["zero"] == cfg.zero.model_dump(mode="json") and written["launcher"]["num_processes"] == 2


def test_a_finished_run_under_an_engine_is_finished_through_train(monkeypatch, tiny_base_dir, tiny_world, tmp_path):
    """Killed after its last checkpoint: under DeepSpeed/FSDP the weights load only into the engine `train`
    prepares, so the finished run goes through `trainer.train(resume)`, which prepares, loads and trains no
    step; the plain path restores the weights itself and never prepares an engine."""
    import json
    import shutil

    from trl import GRPOTrainer

    from specs_vl.recipe.zero import ZeroConfig, run_zero
    from specs_vl.training import trainer as training

    cfg = ZeroConfig(
        steps=2, num_generations=2, prompts_per_step=2, max_completion_length=8, save_steps=2, train_size=4
    )
    out = tmp_path / "zero"
    run_zero(cfg, tiny_base_dir, out, tiny_world)
    trained = [r["step"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]
    calls: list = []
    real_train = GRPOTrainer.train

    def spy(self, *a, **k):
        calls.append(k.get("resume_from_checkpoint"))
        result = real_train(self, *a, **k)
        calls.append(("optimizer", self.optimizer is not None, self.state.global_step))
        return result

    monkeypatch.setattr(GRPOTrainer, "train", spy)
    for engine in (False, True):
        shutil.rmtree(out / "model")  # the kill: every step saved, the model not yet written
        monkeypatch.setattr(training, "sharded", lambda t, e=engine: e)
        calls.clear()
        res = run_zero(cfg, tiny_base_dir, out, tiny_world)
        assert res["steps"] == 2 and (out / "model" / "config.json").exists()
        if engine:
            assert calls[0].endswith("checkpoint-2") and calls[1] == ("optimizer", True, 2)  # prepared, no step
        else:
            assert calls == []
        log = [r["step"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]
        assert log == trained  # no step trained again
