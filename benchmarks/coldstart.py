"""dpo-sft against sft on the same pairs, in training samples/s (JSON out).

Each round runs all three; ratios are taken within the round.
Both trainers come from `stages.coldstart.make_trainer`, the code the stage
runs, on the demo base model and the demo run's pairs (or `--pairs DIR`).
DPO is timed with precomputed reference log-probs (the one reference pass
runs when the trainer is built; it is reported on its own) and without. The paper saw DPO ~5 % slower than SFT.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from common import machine, spread

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SPECS_QUIET", "1")


def _time(method: str, pairs, base: Path, steps: int, batch: int, precompute: bool = False) -> dict:
    import torch

    from specs_vl.models.load import load_vlm
    from specs_vl.recipe.coldstart import ColdstartConfig, make_trainer

    torch.manual_seed(0)
    model, processor = load_vlm(base)
    model.config.use_cache = False
    cfg = ColdstartConfig(
        method=method, max_steps=steps, batch_size=batch, curve_every=0, save_steps=10_000, precompute_ref=precompute
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        trainer = make_trainer(cfg, model, processor, pairs, Path(tmp), [])
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
        setup = time.perf_counter() - t0
        t1 = time.perf_counter()
        trainer.train()
        total = time.perf_counter() - t1
    return {"samples_per_s": steps * batch / total, "train_seconds": round(total, 2), "setup_seconds": round(setup, 2)}


def main(pairs_dir: str, steps: int, batch: int, rounds: int) -> dict:
    import torch
    from datasets import load_from_disk

    from specs_vl.config import demo_config_path, load_run_config
    from specs_vl.world.base_model import build_base_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    cfg = load_run_config(demo_config_path())
    base = build_base_model(cfg.world, cfg.base)
    pairs = load_from_disk(pairs_dir)
    pairs = pairs.select(range(min(len(pairs), steps * batch)))
    per: dict[str, list[float]] = {
        k: [] for k in ("sft", "dpo_pre", "dpo_live", "slow_pre", "slow_pre_ref", "slow_live")
    }
    ref_pass: list[float] = []
    for _ in range(rounds):
        sft = _time("sft", pairs, base, steps, batch)
        pre = _time("dpo-sft", pairs, base, steps, batch, precompute=True)
        live = _time("dpo-sft", pairs, base, steps, batch, precompute=False)
        per["sft"].append(sft["samples_per_s"])
        per["dpo_pre"].append(pre["samples_per_s"])
        per["dpo_live"].append(live["samples_per_s"])
        per["slow_pre"].append(sft["samples_per_s"] / pre["samples_per_s"])
        ref = pre["setup_seconds"] - live["setup_seconds"]  # the one reference pass, run when the trainer is built
        ref_pass.append(ref)
        per["slow_pre_ref"].append((pre["train_seconds"] + ref) / sft["train_seconds"])
        per["slow_live"].append(sft["samples_per_s"] / live["samples_per_s"])
    return {
        "benchmark": "coldstart dpo-sft vs sft, per pair",
        "pairs": len(pairs),
        "steps": steps,
        "batch_size": batch,
        "sft_samples_per_s": spread(per["sft"], 2),
        "dpo_sft_precomputed_ref_samples_per_s": spread(per["dpo_pre"], 2),
        "dpo_sft_live_ref_samples_per_s": spread(per["dpo_live"], 2),
        "slowdown_precomputed_ref": spread(per["slow_pre"]),
        "reference_pass_seconds": spread(ref_pass, 2),
        "slowdown_precomputed_ref_including_reference_pass": spread(per["slow_pre_ref"]),
        "slowdown_live_ref": spread(per["slow_live"]),
        "goal": "slowdown_precomputed_ref median <= 1.3",
        **machine(),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", default="runs/demo/pairs")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    print(json.dumps(main(a.pairs, a.steps, a.batch, a.rounds), indent=2))
