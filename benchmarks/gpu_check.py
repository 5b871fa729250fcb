"""The GPU check (issue 28): what a CPU cannot show, in <= 8 minutes on one H200, no internet, no vLLM.

    python benchmarks/gpu_check.py [--out DIR]

One JSON line per check; a check that cannot run here says why (`"skipped"`), it never passes silently:
- image_tokens: the tokens of a 4000 x 3000 image under the 7B config's images.max_pixels (runs anywhere);
- memory: peak memory of one forward/backward at 14,336 tokens with gradient checkpointing on a random
  Qwen2.5-VL with the 7B's widths and 4 layers, and HF generate's KV bytes per token, both extrapolated to 28
  layers and set against `specs plan`'s figures (CUDA);
- zero3_finished_resume, zero3_precompute_ref, fsdp_precompute_ref, zero3_curve_generate: the stages under
  `accelerate launch` with DeepSpeed ZeRO-3 / FSDP on one GPU, on the world's shipped base (CUDA + deepspeed,
  which installs from its sdist with DS_BUILD_OPS=0).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEVEN_B = ROOT / "configs" / "qwen2.5-vl-7b.yaml"
CHECK = ROOT / "configs" / "gpu-check.yaml"
GB = 1024**3


def emit(check: str, **fields) -> None:
    print(json.dumps({"check": check, **fields}), flush=True)


def image_tokens() -> None:
    from PIL import Image
    from transformers.image_utils import SizeDict
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    from specs_vl.config import load_run_config

    cfg = load_run_config(SEVEN_B, ())
    ip = Qwen2VLImageProcessor()  # the class Qwen2.5-VL-7B's preprocessor_config.json names, its patch/merge
    ip.size = SizeDict(shortest_edge=cfg.images.min_pixels, longest_edge=cfg.images.max_pixels)
    grid = ip(images=[Image.new("RGB", (4000, 3000))], return_tensors="pt")["image_grid_thw"][0].tolist()
    tokens = grid[0] * grid[1] * grid[2] // ip.merge_size**2
    emit("image_tokens", image="4000x3000", max_pixels=cfg.images.max_pixels, grid_thw=grid, tokens=tokens,
         ok=tokens <= cfg.images.max_pixels // 784)  # fmt: skip


def memory() -> None:
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from specs_vl.orchestration.model_shape import KNOWN
    from specs_vl.orchestration.plan import _activations

    if not torch.cuda.is_available():
        emit("memory", skipped="no CUDA")
        return
    shape = KNOWN["qwen2.5-vl-7b"]
    text = dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        max_position_embeddings=32768,
        rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]},
    )
    out = {}
    for layers in (4, 2):  # two depths: the per-layer slope and the rest
        conf = Qwen2_5_VLConfig(text_config={**text, "num_hidden_layers": layers}, vision_config={"depth": 2})
        model = Qwen2_5_VLForConditionalGeneration(conf).to("cuda", torch.bfloat16)
        model.gradient_checkpointing_enable()
        model.train()
        ids = torch.randint(0, 150000, (1, 14336), device="cuda")
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        model(input_ids=ids, labels=ids).loss.backward()
        out[layers] = torch.cuda.max_memory_allocated() - base
        model.eval()
        with torch.no_grad():
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            model.generate(input_ids=ids[:, :4096], max_new_tokens=64, do_sample=False, min_new_tokens=64)
            kv_per_token = (torch.cuda.max_memory_allocated() - before) / (4096 + 64)
        out[f"kv{layers}"] = kv_per_token
        del model
        torch.cuda.empty_cache()
    per_layer = (out[4] - out[2]) / 2
    measured = out[4] + 24 * per_layer
    kv_layer = (out["kv4"] - out["kv2"]) / 2
    plan_kv = 2 * shape.layers * shape.kv_heads * shape.head_dim * 2
    emit("memory", tokens=14336, step_peak_gb_4_layers=round(out[4] / GB, 2),
         step_peak_gb_28_layers_extrapolated=round(measured / GB, 2),
         plan_activations_gb=round(_activations(shape, 14336, True) / GB, 2),
         kv_bytes_per_token_28_layers=round(out["kv4"] + 24 * kv_layer), plan_kv_bytes_per_token=plan_kv)  # fmt: skip


def _launch(config: str, stage: list[str], out: Path, timeout: int) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", config, "--num_processes", "1",
           "-m", "specs_vl.cli", *stage, "-c", str(CHECK), "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return done.returncode, (done.stdout + done.stderr)[-600:]


def stages(work: Path) -> None:
    import torch

    if not torch.cuda.is_available() or importlib.util.find_spec("deepspeed") is None:
        why = "deepspeed not installed (DS_BUILD_OPS=0 pip install deepspeed)"
        why = why if torch.cuda.is_available() else "no CUDA"
        for check in ("zero3_finished_resume", "zero3_precompute_ref", "fsdp_precompute_ref", "zero3_curve_generate"):
            emit(check, skipped=why)
        return
    z3, fsdp = "configs/accelerate/deepspeed_zero3.yaml", "configs/accelerate/fsdp.yaml"
    zero = work / "zero"
    rc, tail = _launch(z3, ["zero"], zero, 200)
    if rc == 0:
        shutil.rmtree(zero / "model")  # the kill after the last checkpoint
        t = time.time()
        rc, tail = _launch(z3, ["zero"], zero, 200)
        emit("zero3_finished_resume", ok=rc == 0 and (zero / "model" / "config.json").exists(),
             seconds=round(time.time() - t), tail=tail if rc else "")  # fmt: skip
    else:
        emit("zero3_finished_resume", ok=False, stage="first run", tail=tail)
    pairs = work / "pairs"
    subprocess.run([sys.executable, "-m", "specs_vl.cli", "distill", "-c", str(CHECK), "--zero", str(zero / "model"),
                    "--out", str(pairs)], capture_output=True, timeout=200, cwd=ROOT)  # fmt: skip
    for name, acc in (("zero3_precompute_ref", z3), ("fsdp_precompute_ref", fsdp)):
        rc, tail = _launch(acc, ["coldstart", "--pairs", str(pairs), "--precompute-ref"], work / name, 200)
        emit(name, rc=rc, ok=rc == 0 if acc == z3 else rc == 2, tail=tail)  # FSDP: refused with exit 2
    rc, tail = _launch(z3, ["rl", "--from", "base"], work / "rl", 200)  # its eval curve generates under ZeRO-3
    emit("zero3_curve_generate", ok=rc == 0, tail=tail if rc else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-check-issue28"))
    args = parser.parse_args()
    image_tokens()
    memory()
    stages(args.out)


if __name__ == "__main__":
    main()
