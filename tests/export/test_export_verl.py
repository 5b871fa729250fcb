"""Scaling out: `specs export verl` parquet, verl's `compute_score`, and the accelerate configs."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from datasets import Dataset, load_dataset
from PIL import Image
from typer.testing import CliRunner

from specs_vl.cli.export_cmds import export_app
from specs_vl.export.verl import export_verl
from specs_vl.scoring.rewards import compute_score
from specs_vl.util.errors import ConfigError, DataError
from specs_vl.world import WorldConfig, build_split
from specs_vl.world.export import FEATURES

ROOT = Path(__file__).resolve().parents[2]
VERL_COLUMNS = ["data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
WORLD = WorldConfig(train_size=8)


def verl_messages(prompt: list[dict]) -> list[dict]:
    """What verl's RLHFDataset._build_messages does to a row's prompt when the row has images."""
    out = []
    for m in prompt:
        parts = [
            {"type": "image"} if s == "<image>" else {"type": "text", "text": s}
            for s in re.split("(<image>|<video>)", m["content"])
        ]
        out.append({"role": m["role"], "content": parts})
    return out


def check_verl_parquet(path: Path, n: int) -> pd.DataFrame:
    df = pd.read_parquet(path)
    assert list(df.columns) == VERL_COLUMNS and len(df) == n
    for _, row in df.iterrows():
        prompt = [dict(m) for m in row["prompt"]]
        slots = sum(p["type"] == "image" for m in verl_messages(prompt) for p in m["content"])
        assert slots == len(row["images"]) >= 1
        for img in row["images"]:  # {"bytes", "path"}: what verl's process_image opens
            assert Image.open(io.BytesIO(img["bytes"])).convert("RGB").size[0] > 0
        assert row["reward_model"]["style"] == "rule" and row["reward_model"]["ground_truth"]
        assert row["extra_info"]["answer"] == row["reward_model"]["ground_truth"]
        assert row["ability"] and row["data_source"] == "specs_vl"
    assert list(df["extra_info"].map(lambda e: e["index"])) == list(range(n))
    decoded = load_dataset("parquet", data_files=str(path))["train"]  # how verl reads it
    assert isinstance(decoded[0]["images"][0], Image.Image)
    return df


def test_world_export(tmp_path: Path) -> None:
    out = tmp_path / "train.parquet"
    summary = export_verl(out, n=4, world=WORLD)
    assert summary["rows"] == 4
    df = check_verl_parquet(out, 4)
    examples = build_split(WORLD, "train", 4)
    for (_, row), ex in zip(df.iterrows(), examples):
        info = row["extra_info"]
        assert (info["id"], info["answer_type"], list(info["choices"])) == (ex["id"], ex["answer_type"], ex["choices"])
        assert row["prompt"][0]["content"].startswith("<image>" + ex["question"])
        assert "<think>" in row["prompt"][0]["content"]  # the format instruction is in the prompt


def test_rl_data_dir_via_cli(tmp_path: Path) -> None:
    Dataset.from_list(build_split(WORLD, "train", 3), features=FEATURES).save_to_disk(str(tmp_path / "rl"))
    out = tmp_path / "rl.parquet"
    res = CliRunner().invoke(export_app, ["verl", "--rl-data", str(tmp_path / "rl"), "--n", "2", str(out), "-q"])
    assert res.exit_code == 0, res.output
    check_verl_parquet(out, 2)
    res = CliRunner().invoke(export_app, ["verl", "--rl-data", str(tmp_path / "rl"), str(out)])
    assert res.exit_code == 2 and "--force" in res.output  # no silent overwrite
    res = CliRunner().invoke(export_app, ["verl", "--pairs", "a", "--rl-data", "b", str(tmp_path / "x.parquet")])
    assert res.exit_code == 2 and "not both" in res.output


def make_pairs(path: Path) -> None:
    """What `specs distill` writes: two pairs for q1 (one RL row), one for q2."""

    def row(id_: str, answer: str, color: str) -> dict:
        return {
            "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": f"Color? ({id_})"}]}],
            "chosen": [{"role": "assistant", "content": f"<think>look</think> <answer>{answer}</answer>"}],
            "rejected": [{"role": "assistant", "content": f"look. Answer: {answer}"}],
            "images": [Image.new("RGB", (16, 12), color)],
            "id": id_,
            "answer": answer,
            "family": "color",
            "corruption": 5,
        }

    Dataset.from_list([row("q1", "red", "red"), row("q1", "red", "red"), row("q2", "blue", "blue")]).save_to_disk(
        str(path)
    )


def test_pairs_export(tmp_path: Path) -> None:
    make_pairs(tmp_path / "pairs")
    out = tmp_path / "pairs.parquet"
    assert export_verl(out, pairs=tmp_path / "pairs")["rows"] == 2  # one row per unique id
    df = check_verl_parquet(out, 2)
    assert list(df["extra_info"].map(lambda e: e["id"])) == ["q1", "q2"]
    assert df.iloc[1]["prompt"][0]["content"] == "<image>Color? (q2)"
    assert Image.open(io.BytesIO(df.iloc[1]["images"][0]["bytes"])).getpixel((0, 0)) == (0, 0, 255)
    Dataset.load_from_disk(str(tmp_path / "pairs")).remove_columns("answer").save_to_disk(str(tmp_path / "no_answer"))
    with pytest.raises(DataError, match="answer"):
        export_verl(tmp_path / "no_answer.parquet", pairs=tmp_path / "no_answer")


def test_bad_row_names_row_and_field_and_leaves_nothing(tmp_path: Path) -> None:
    rows = build_split(WORLD, "train", 3)
    rows[1]["question"] = "  "
    Dataset.from_list(rows, features=FEATURES).save_to_disk(str(tmp_path / "bad"))
    out = tmp_path / "out" / "train.parquet"
    with pytest.raises(DataError) as e:
        export_verl(out, rl_data=tmp_path / "bad")
    assert (e.value.row, e.value.field) == (1, "question") and "row 1" in str(e.value)
    rows = build_split(WORLD, "train", 2)
    rows[1]["image"] = {"bytes": b"not an image", "path": None}
    Dataset.from_list(rows, features=FEATURES).save_to_disk(str(tmp_path / "bad_img"))
    with pytest.raises(DataError) as e:
        export_verl(out, rl_data=tmp_path / "bad_img")
    assert (e.value.row, e.value.field) == (1, "image")
    with pytest.raises(ConfigError):
        export_verl(tmp_path / "train.json", n=1, world=WORLD)
    assert not out.exists() and not any(p.is_file() for p in tmp_path.rglob("*parquet*"))


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_write(self: Dataset, path: str, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(Dataset, "to_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        export_verl(tmp_path / "train.parquet", n=2, world=WORLD)
    assert list(tmp_path.iterdir()) == []


VALID = "<think>Two circles.</think> <answer>{}</answer>"


@pytest.mark.parametrize(
    "response, gold, expected",
    [
        (VALID.format(2), "2", (1.5, 1.0, 1.0)),  # format and answer
        ("There are two circles. <answer>2</answer>", "2", (1.0, 1.0, 0.0)),  # answer only
        (VALID.format(3), "2", (0.5, 0.0, 1.0)),  # format only
        ("I think 3.", "2", (0.0, 0.0, 0.0)),
        (VALID.format("blue"), "B", (1.5, 1.0, 1.0)),  # option text, with choices from extra_info
    ],
)
def test_compute_score(response: str, gold: str, expected: tuple) -> None:
    """verl takes `score` as the reward and logs `acc` and `format` apart (a float would be logged as acc)."""
    info = {"answer_type": "mc", "choices": ["red", "blue"]} if gold == "B" else {"answer_type": "integer"}
    got = compute_score(data_source="specs_vl", solution_str=response, ground_truth=gold, extra_info=info)
    assert got == dict(zip(("score", "acc", "format"), expected))


@pytest.mark.parametrize(
    "args",
    [
        ("specs_vl", None, "2", None),
        ("specs_vl", 123, None, "junk"),
        (None, ["odd"], object(), {"choices": 5}),
        ("specs_vl", "\x00" * 10_000 + "<answer>", "2", {"answer_type": ["x"]}),
    ],
)
def test_compute_score_never_raises(args: tuple) -> None:
    zero = {"score": 0.0, "acc": 0.0, "format": 0.0}
    assert compute_score(*args) == zero
    assert compute_score(*args, reward_router_address=None) == zero  # unknown keywords from newer verl


@pytest.mark.parametrize("name", ["cpu_2proc", "ddp", "deepspeed_zero2", "deepspeed_zero3", "fsdp"])
def test_accelerate_config(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each config loads in accelerate's own classes, has only known keys, and gives the launcher its env."""
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import (
        _validate_launch_command,
        launch_command_parser,
        prepare_multi_gpu_env,
        prepare_simple_launcher_cmd_env,
    )

    path = ROOT / "configs" / "accelerate" / f"{name}.yaml"
    cfg = ClusterConfig.from_yaml_file(str(path))  # unknown top-level keys raise
    parser = launch_command_parser()
    known = vars(parser.parse_args(["train.py"]))
    for key in (cfg.deepspeed_config or {}) | (cfg.fsdp_config or {}):
        assert key in known, f"{name}: unknown key {key}"
    args, _, _ = _validate_launch_command(parser.parse_args(["--config_file", str(path), "train.py"]))
    if name == "cpu_2proc":
        assert (cfg.distributed_type, cfg.num_processes, cfg.use_cpu) == ("MULTI_CPU", 2, True)
        _, env = prepare_simple_launcher_cmd_env(args)
        assert env["ACCELERATE_USE_CPU"] == "True"
    elif name.startswith("deepspeed"):
        assert args.use_deepspeed and args.zero_stage == int(name[-1])
    else:
        env = prepare_multi_gpu_env(args)
        if name == "fsdp":
            from accelerate.utils import FullyShardedDataParallelPlugin

            for k, v in env.items():
                if k.startswith(("ACCELERATE_", "FSDP_")):
                    monkeypatch.setenv(k, v)
            plugin = FullyShardedDataParallelPlugin()
            assert plugin.fsdp_version == 2 and plugin.reshard_after_forward is True


def test_split_gives_held_out_val_rows(tmp_path: Path) -> None:
    train, val = tmp_path / "train.parquet", tmp_path / "val.parquet"
    export_verl(train, n=4, world=WORLD)
    export_verl(val, n=4, world=WORLD, split="id_test")
    t, v = pd.read_parquet(train), pd.read_parquet(val)
    assert {r["split"] for r in v["extra_info"]} == {"id_test"} and {r["split"] for r in t["extra_info"]} == {"train"}
    assert not {r["id"] for r in t["extra_info"]} & {r["id"] for r in v["extra_info"]}
    with pytest.raises(ConfigError, match="--split 'nosuch'"):
        export_verl(tmp_path / "x.parquet", world=WORLD, split="nosuch")
    with pytest.raises(ConfigError, match="pairs are training prompts"):
        export_verl(tmp_path / "x.parquet", pairs=tmp_path, split="id_test")


def test_print_command_writes_the_whole_verl_command(tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "name: r\nworld:\n  train_size: 8\n  id_test_size: 4\nrl:\n  num_generations: 6\n"
        "  prompts_per_step: 3\n  max_completion_length: 300\n"
    )
    out, val = tmp_path / "train.parquet", tmp_path / "val.parquet"
    res = CliRunner().invoke(export_app, ["verl", str(out), "-c", str(cfg), "--print-command", "-q"])
    assert res.exit_code == 2 and "needs --val" in res.output and not out.exists()  # checked before writing
    assert CliRunner().invoke(export_app, ["verl", str(val), "-c", str(cfg), "--split", "id_test"]).exit_code == 0
    res = CliRunner().invoke(
        export_app,
        [
            "verl",
            str(out),
            "-c",
            str(cfg),
            "--print-command",
            "--val",
            str(val),
            "--model",
            "Qwen/Qwen3-VL-8B-Instruct",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = [ln.strip(" \\'") for ln in res.stdout.splitlines()]
    assert lines[0] == "python3 -m verl.trainer.main_ppo" and out.exists()
    keys = dict(ln.split("=", 1) for ln in lines[1:])
    assert keys["actor_rollout_ref.rollout.n"] == "6" and keys["data.train_batch_size"] == "3"
    assert keys["data.max_response_length"] == "300" and keys["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    assert keys["data.val_files"] == str(val.resolve()) and keys["data.image_patch_size"] == "16"  # Qwen3-VL
    assert keys["actor_rollout_ref.model.path"] == "Qwen/Qwen3-VL-8B-Instruct"
    assert keys["reward.custom_reward_function.path"].endswith("specs_vl/scoring/rewards.py")
    assert not any(k.startswith("custom_reward_function.") for k in keys)  # the key verl no longer reads


def test_the_verl_command_trains_the_trl_paths_schedule_decay_and_correction(tmp_path: Path) -> None:
    """The exported verl run and our TRL run: the same schedule, weight decay, warm-up, IS correction, tower."""
    from specs_vl.config import RunConfig
    from specs_vl.export.verl_command import verl_overrides
    from specs_vl.recipe.rl import RLConfig
    from specs_vl.training.grpo import grpo_args
    from specs_vl.training.lora import LoraSettings, peft_lora

    for rl in (
        RLConfig(),
        RLConfig(
            lr_scheduler_type="cosine",
            warmup_ratio=0.05,
            weight_decay=0.01,
            is_correction="token_truncate",
            is_clip_max=2.0,
            freeze_vision_tower=True,
        ),
    ):
        cfg = RunConfig(rl=rl)
        verl = verl_overrides(cfg, tmp_path / "t.parquet", tmp_path / "v.parquet", "Qwen/Qwen2.5-VL-7B-Instruct")
        trl = grpo_args(rl, tmp_path)
        kind = getattr(trl.lr_scheduler_type, "value", trl.lr_scheduler_type).replace("_with_warmup", "")
        assert verl["actor_rollout_ref.actor.optim.lr_scheduler_type"] == kind
        assert verl["actor_rollout_ref.actor.optim.lr_warmup_steps_ratio"] == trl.warmup_steps
        assert verl["actor_rollout_ref.actor.optim.weight_decay"] == trl.weight_decay
        assert verl["actor_rollout_ref.actor.optim.clip_grad"] == trl.max_grad_norm
        assert verl["actor_rollout_ref.actor.freeze_vision_tower"] == rl.freeze_vision_tower
        corrected = verl["algorithm.rollout_correction.rollout_is"]
        assert (corrected is not None) == trl.vllm_importance_sampling_correction
        if corrected:
            assert trl.vllm_importance_sampling_mode == f"{corrected}_truncate"
            assert verl["algorithm.rollout_correction.rollout_is_threshold"] == trl.vllm_importance_sampling_clip_max
    plain = verl_overrides(RunConfig(rl=RLConfig()), tmp_path / "t.parquet", tmp_path / "v.parquet", "m")
    assert plain["actor_rollout_ref.model.lora_rank"] == 0  # verl's own default, written out
    lora = RLConfig(lora=LoraSettings(r=8, alpha=16), freeze_vision_tower=True)
    lv = verl_overrides(RunConfig(rl=lora), tmp_path / "t.parquet", tmp_path / "v.parquet", "m")
    assert (lv["actor_rollout_ref.model.lora_rank"], lv["actor_rollout_ref.model.lora_alpha"]) == (8, 16)
    assert lv["actor_rollout_ref.model.exclude_modules"] == peft_lora(lora.lora, True).exclude_modules
    assert lv["actor_rollout_ref.model.target_modules"] == "all-linear"
    with pytest.raises(ValueError, match="no masked importance-sampling mode"):
        verl_overrides(RunConfig(rl=RLConfig(is_correction="sequence_mask")), tmp_path, tmp_path, "m")


def test_the_verl_command_saves_and_validates_on_the_trl_paths_clock_and_sampling(tmp_path: Path) -> None:
    """TRL saves (and we evaluate) every N optimiser steps; verl counts rollout steps; its validation samples
    as ours does, not greedily with n = 1 (its val_kwargs defaults)."""
    from specs_vl.config import RunConfig
    from specs_vl.export.verl_command import verl_overrides
    from specs_vl.recipe.rl import RLConfig

    rl = RLConfig(prompts_per_step=8, mini_batch_prompts=2, save_steps=40, eval_every=20, steps=100)  # 4 per batch
    verl = verl_overrides(RunConfig(rl=rl), tmp_path / "t.parquet", tmp_path / "v.parquet", "m")
    assert verl["trainer.save_freq"] == 10 and verl["trainer.test_freq"] == 5  # rollout steps: 40 / 4, 20 / 4
    assert verl["actor_rollout_ref.rollout.val_kwargs.n"] == rl.eval_samples == 4
    assert verl["actor_rollout_ref.rollout.val_kwargs.temperature"] == rl.eval_temperature == 1.0
    assert verl["actor_rollout_ref.rollout.val_kwargs.do_sample"] is True
    at_end = verl_overrides(RunConfig(rl=rl.model_copy(update={"eval_every": 0})), "t", "v", "m")
    assert at_end["trainer.test_freq"] == 100  # only at the end, as ours


def test_a_vllm_context_shorter_than_prompt_plus_completion_is_refused() -> None:
    from pydantic import ValidationError

    from specs_vl.recipe.rl import RLConfig

    with pytest.raises(ValidationError, match=r"vllm_max_model_length 4000 is below max_prompt_length 4096 \+ "):
        RLConfig(max_prompt_length=4096, max_completion_length=1024, vllm_max_model_length=4000)
    assert RLConfig(max_prompt_length=4096, max_completion_length=1024, vllm_max_model_length=5120)


def test_the_export_bounds_images_as_the_trl_path_does(tmp_path: Path) -> None:
    """verl's process_image does not resize a decoded image, so the export writes them at the run's bound."""
    from specs_vl.export.verl import bounded, image_bound
    from specs_vl.models.loading import Loading

    big, small = Image.new("RGB", (640, 480), "red"), Image.new("RGB", (56, 56), "blue")
    rows = build_split(WORLD, "train", 2)
    rows = [{**rows[0], "image": big}, {**rows[1], "image": small}]
    Dataset.from_list(rows, features=FEATURES).save_to_disk(str(tmp_path / "rl"))
    stored = load_dataset("arrow", data_files=str(next((tmp_path / "rl").glob("*.arrow"))))["train"]
    small_bytes = stored.cast_column("image", stored.features["image"].__class__(decode=False))[1]["image"]["bytes"]
    cfg = tmp_path / "run.yaml"
    cfg.write_text("images: {max_pixels: 50176}\n")  # 64 tokens of 28 x 28
    out = tmp_path / "rl.parquet"
    args = ["verl", "--rl-data", str(tmp_path / "rl"), "-c", str(cfg), str(out), "-q"]
    res = CliRunner().invoke(export_app, args)
    assert res.exit_code == 0, res.output
    df = check_verl_parquet(out, 2)
    first, second = (Image.open(io.BytesIO(df["images"][i][0]["bytes"])) for i in (0, 1))
    assert first.size == bounded(big, image_bound(Loading(max_pixels=50_176))).size
    w, h = first.size
    assert w * h <= 50_176 and w % 28 == 0 and h % 28 == 0 and first.size != big.size
    assert df["images"][1][0]["bytes"] == small_bytes and second.size == (56, 56)  # inside the bound: untouched
    out2 = tmp_path / "unbounded.parquet"
    assert CliRunner().invoke(export_app, ["verl", "--rl-data", str(tmp_path / "rl"), str(out2), "-q"]).exit_code == 0
    assert Image.open(io.BytesIO(pd.read_parquet(out2)["images"][0][0]["bytes"])).size == (640, 480)
