"""One GRPO optimiser step through our stage against bare TRL GRPOTrainer, same work on both sides (JSON out).

"Ours" is `stages.zero.make_grpo_trainer` plus the stage's LogCallback (the
trainer `specs zero`/`specs rl` run); "bare" is GRPOTrainer with the same
GRPOConfig (`grpo_args`, so the same optimiser steps per run), the same reward
callables and dataset, and no callbacks of ours. Each round runs both, in
alternating order, and the ratio is taken within the round.
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


def main(steps: int, rounds: int) -> dict:
    import torch
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOTrainer

    from specs_vl.config import demo_config_path, load_run_config
    from specs_vl.models.load import load_vlm
    from specs_vl.training.grpo import freeze_vision_tower, grpo_args, grpo_rewards, make_grpo_trainer
    from specs_vl.training.trainer import LogCallback, rl_dataset
    from specs_vl.world import build_split
    from specs_vl.world.base_model import build_base_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    cfg = load_run_config(demo_config_path())
    rcfg = cfg.rl.model_copy(update={"steps": steps, "save_steps": 10_000})
    optimizer_steps = rcfg.optimizer_steps()  # both sides: grpo_args' max_steps
    base = build_base_model(cfg.world, cfg.base)
    examples = build_split(cfg.world, "train", 64)

    def one(kind: str) -> float:
        torch.manual_seed(0)
        model, processor = load_vlm(base)
        with tempfile.TemporaryDirectory() as tmp:
            if kind == "ours":
                log = [LogCallback(Path(tmp) / "log.jsonl", "bench", optimizer_steps)]
                trainer = make_grpo_trainer(rcfg, model, processor, examples, Path(tmp), log)
            else:
                processor.tokenizer.padding_side = "left"  # as ours: TRL expects left padding (trl#5785)
                if rcfg.freeze_vision_tower:
                    freeze_vision_tower(model)
                trainer = GRPOTrainer(
                    model=model,
                    processing_class=processor,
                    args=grpo_args(rcfg, Path(tmp)),
                    reward_funcs=grpo_rewards(rcfg),
                    train_dataset=rl_dataset(examples),
                )
                trainer.remove_callback(PrinterCallback)
            assert trainer.args.max_steps == optimizer_steps
            t = time.perf_counter()
            trainer.train()
            return (time.perf_counter() - t) / optimizer_steps

    per: dict[str, list[float]] = {"bare": [], "ours": [], "ratio": []}
    for r in range(rounds):
        order = ("bare", "ours") if r % 2 == 0 else ("ours", "bare")
        got = {kind: one(kind) for kind in order}
        per["bare"].append(got["bare"])
        per["ours"].append(got["ours"])
        per["ratio"].append(got["ours"] / got["bare"])
    return {
        "benchmark": "GRPO optimiser step: our stage vs bare TRL",
        "optimizer_steps_per_run": optimizer_steps,
        "rollouts_per_rollout_batch": rcfg.prompts_per_step * rcfg.num_generations,
        "bare_seconds_per_optimizer_step": spread(per["bare"]),
        "ours_seconds_per_optimizer_step": spread(per["ours"]),
        "overhead_ratio": spread(per["ratio"]),
        "goal": "overhead_ratio median <= 1.03",
        **machine(),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=6, help="rollout batches per run")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    print(json.dumps(main(a.steps, a.rounds), indent=2))
