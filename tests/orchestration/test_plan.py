"""`specs plan`: per-stage batch split, steps, token budget and memory per GPU, with fit warnings."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from specs_vl.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
SEVEN_B = ROOT / "configs" / "qwen2.5-vl-7b.yaml"
runner = CliRunner()


def test_plan_says_the_papers_7b_settings_fit_on_8_gpus():
    res = runner.invoke(app, ["plan", str(SEVEN_B), "--gpus", "8"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "sharding zero3" in out and "8.29B params" in out
    assert "128 prompts x 8 = 1024 completions (global); 128 per GPU" in out
    assert "micro-batch 1 completions, gradient accumulation 32, steps_per_generation 128" in out
    assert "800 rollout batches = 3200 optimiser steps" in out
    assert "batch: 64 pairs per optimiser step (global); per GPU: micro-batch 1 pairs, gradient accumulation 8" in out
    assert "completion <= 10,240" in out and "<= 16,384" in out
    assert "vLLM colocate: 40% of the card, max length 14,336" in out
    assert "warning" not in out and out.count("\n  fits") == 4
    assert out.strip().endswith("every training stage fits on 8 x 80 GB: the paper's settings fit")


def test_plan_warns_with_the_setting_to_change_when_a_stage_will_not_fit(tmp_path):
    res = runner.invoke(app, ["plan", str(SEVEN_B), "--gpus", "8", "--gpu-memory", "40"])
    assert res.exit_code == 1
    assert (
        "warning: rl: vLLM's KV cache cannot hold one 14,336-token sequence; raise rl.vllm_gpu_memory_utilization"
        in res.output
    )
    cfg = yaml.safe_load(SEVEN_B.read_text())
    cfg["launcher"]["config_file"] = str(ROOT / "configs/accelerate/ddp.yaml")  # a whole 7B + Adam per GPU
    cfg["coldstart"]["precompute_ref"] = False
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(path), "--gpus", "8"])
    assert res.exit_code == 1
    assert "warning: coldstart: needs ~" in res.output and "shard it: launcher.config_file" in res.output
    assert "reference 15.4" in res.output  # the reference copy is counted when it is not precomputed


def test_plan_on_the_demo_config_is_a_small_single_process_run():
    res = runner.invoke(app, ["plan", str(ROOT / "src/specs_vl/configs/demo.yaml")])
    assert res.exit_code == 0, res.output
    assert "on 1 x 80 GB" in res.output and "sharding none" in res.output
    assert "4 prompts x 8 = 32 completions (global); 32 per GPU" in res.output
    assert "2 optimiser steps per rollout batch" in res.output  # the demo's mini-batches: clip-higher can act
    assert "on-policy: clip-higher cannot act" not in res.output
    assert "these differ from the paper's settings" in res.output


def test_plan_without_a_launcher_on_several_gpus_says_so(tmp_path):
    cfg = yaml.safe_load(SEVEN_B.read_text())
    del cfg["launcher"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(path), "--gpus", "8"])
    assert res.exit_code == 1 and "launcher: unset" in res.output


def test_plan_bad_input_is_one_error_line(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("base_model: some/unknown-model\n")
    res = runner.invoke(app, ["plan", str(bad), "--gpus", "2"])
    assert res.exit_code == 2 and "error: base_model 'some/unknown-model'" in res.output


def test_plan_counts_image_tokens_from_the_bound_and_warns_without_one(tmp_path):
    res = runner.invoke(app, ["plan", str(SEVEN_B), "--gpus", "8"])
    assert "one image <= 1,280 tokens, from images.max_pixels 1,003,520" in res.output
    assert "logits" not in res.output  # TRL 1.16's fused LM head holds none (fused_lm_head=True)
    cfg = yaml.safe_load(SEVEN_B.read_text())
    del cfg["images"]  # the checkpoint's own bound: 12,845,056 pixels, 16,384 tokens, over the 4,096 budget
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(tmp_path / "c.yaml"), "--gpus", "8"])
    assert res.exit_code == 1
    assert "one image <= 16,384 tokens, from the checkpoint's own max_pixels" in res.output
    assert "rl: one image can take 16,384 tokens" in res.output and "set images.max_pixels" in res.output


def test_plan_counts_the_rl_evals_kv_cache_beside_the_training_state_and_vllm(tmp_path):
    res = runner.invoke(app, ["plan", str(SEVEN_B), "--gpus", "8"])
    assert "RL eval (HF generate): 16 sequences of <= 14,336 tokens per call, KV cache 12.2 GB" in res.output
    cfg = yaml.safe_load(SEVEN_B.read_text())
    cfg["rl"]["eval_batch_size"] = 64  # the old default: 49 GB of KV cache beside 47 GB resident
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(tmp_path / "c.yaml"), "--gpus", "8"])
    assert res.exit_code == 1
    assert (
        "rl: the eval's KV cache (49 GB) does not fit beside the training state and vLLM; set rl.eval_batch_size"
        in (res.output)
    )


def test_plan_reads_the_gpu_count_from_the_launcher_and_takes_c():
    res = runner.invoke(app, ["plan", "-c", str(SEVEN_B)])  # launcher.num_processes: 8
    assert res.exit_code == 0, res.output
    assert "fits on 8 x 80 GB" in res.output
    res = runner.invoke(app, ["plan"])
    assert res.exit_code == 2 and "needs a run config" in res.output


def test_plan_counts_distills_workers_beside_the_judge_and_the_host_ram(tmp_path):
    res = runner.invoke(app, ["plan", str(SEVEN_B), "--gpus", "8"])
    assert res.exit_code == 0, res.output
    assert "[distill]" in res.output and "GPUs: 4 sampling + 4 judge of 8" in res.output
    # ZeRO-3 with the TRL config built before the model (zero.Init): one bf16 copy per node, partitioned
    assert "host RAM while loading: ~15 GB per node (ZeRO-3 builds the weights partitioned: 1.9 GB per rank)" in (
        res.output
    )
    cfg = yaml.safe_load(SEVEN_B.read_text())
    cfg["distill"]["data_parallel_size"] = 6  # 6 + 4 judge GPUs on an 8-GPU node
    cfg["launcher"]["config_file"] = str(ROOT / "configs/accelerate/deepspeed_zero2.yaml")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(tmp_path / "c.yaml"), "--gpus", "8"])
    assert "distill: 6 sampling GPUs and 4 judge GPUs are more than the node's 8" in res.output
    assert "host RAM while loading: ~124 GB per node (8 full copies of 15.4 GB, one per rank)" in res.output
    cfg["distill"]["data_parallel_size"], cfg["distill"]["judge_gpus"] = 4, 0  # the judge on 127.0.0.1, uncounted
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["plan", str(tmp_path / "c.yaml"), "--gpus", "8"])
    assert "runs on this node but distill.judge_gpus is 0" in res.output
