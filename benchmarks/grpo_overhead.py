"""One GRPO step through our stage against bare TRL GRPOTrainer, same model and data (JSON out).

"Ours" is `stages.zero.make_grpo_trainer` plus the stage's LogCallback (the
trainer `specs zero`/`specs rl` run); "bare" is GRPOTrainer with the same
GRPOConfig values, the same reward callables and dataset, and no callbacks
of ours. Runs alternate (bare, ours, bare, ours, ...) and the medians of the
per-step times are compared, so drift on a noisy machine hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SPECS_QUIET", "1")


def main(steps: int, rounds: int) -> dict:
    import torch
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOTrainer

    from specs_vl.config import demo_config_path, load_run_config
    from specs_vl.models.load import load_vlm
    from specs_vl.scoring.rewards import make_accuracy_reward, make_format_reward
    from specs_vl.stages.train import LogCallback, rl_dataset
    from specs_vl.stages.zero import grpo_args, make_grpo_trainer
    from specs_vl.world import build_split
    from specs_vl.world.base_model import build_base_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    cfg = load_run_config(demo_config_path())
    rcfg = cfg.rl.model_copy(update={"steps": steps, "save_steps": 10_000})
    base = build_base_model(cfg.world, cfg.base)
    examples = build_split(cfg.world, "train", 64)
    times: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(rounds):
        for kind in ("bare", "ours"):
            torch.manual_seed(0)
            model, processor = load_vlm(base)
            with tempfile.TemporaryDirectory() as tmp:
                if kind == "ours":
                    trainer = make_grpo_trainer(
                        rcfg,
                        model,
                        processor,
                        examples,
                        Path(tmp),
                        [LogCallback(Path(tmp) / "log.jsonl", "bench", steps)],
                    )
                else:
                    trainer = GRPOTrainer(
                        model=model,
                        processing_class=processor,
                        args=grpo_args(rcfg, Path(tmp), steps),
                        reward_funcs=[make_format_reward(), make_accuracy_reward()],
                        train_dataset=rl_dataset(examples),
                    )
                    trainer.remove_callback(PrinterCallback)
                t = time.perf_counter()
                trainer.train()
                times[kind].append((time.perf_counter() - t) / steps)
    bare, ours = statistics.median(times["bare"]), statistics.median(times["ours"])
    return {
        "benchmark": "GRPO step: our stage vs bare TRL",
        "steps_per_run": steps,
        "rounds": rounds,
        "rollouts_per_step": rcfg.prompts_per_step * rcfg.num_generations,
        "bare_seconds_per_step": round(bare, 4),
        "ours_seconds_per_step": round(ours, 4),
        "overhead_ratio": round(ours / bare, 4),
        "goal": "overhead_ratio <= 1.05",
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(json.dumps(main(a.steps, a.rounds), indent=2))
