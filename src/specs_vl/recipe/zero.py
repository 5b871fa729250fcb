"""Stage 1a, `specs zero`: a short GRPO run that teaches the base model the format.

Reward = 0.5 * format + 1.0 * accuracy, no KL (beta=0), clip-higher
(epsilon_high), `num_generations` rollouts per prompt: the paper's settings.
The trainer is TRL's GRPOTrainer as training/grpo.py builds it (rl builds the same).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from specs_vl.models.load import load_vlm
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.recipe.zero_config import ZeroConfig
from specs_vl.training.grpo import grpo_args, grpo_examples, make_grpo_trainer
from specs_vl.training.train_split import check_enough, load_examples
from specs_vl.training.trainer import (
    LogCallback,
    read_log,
    resume_point,
    save_final,
    train,
    train_dtype,
)
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import say
from specs_vl.world import WorldConfig


def run_zero(
    cfg: ZeroConfig,
    base: str | Path,
    out: Path,
    world: Any = None,
    resume: bool = True,
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """Train zero from `base`; writes `out/model`, `out/log.jsonl`, `out/result.json`."""

    out = Path(out)
    t0 = time.time()
    examples = load_examples(cfg.data, world or WorldConfig(), cfg.train_size)
    check_enough(examples, cfg.prompts_per_step, cfg.data or "the world's train split")
    cfg.batching()  # a batch that does not split over the processes fails before the model loads
    args = grpo_args(cfg, out / "checkpoints")  # before the model: ZeRO-3 init (training/grpo.grpo_args)
    model, processor = load_vlm(base, dtype=train_dtype(), loading=loading)
    examples, dropped = grpo_examples(cfg, processor, examples, cfg.data or "the world's train split")
    out.mkdir(parents=True, exist_ok=True)  # only once the inputs are good: no empty dir on bad input
    ckpt_dir, resume_from = resume_point(out, resume, ("log.jsonl",))
    log_path = out / "log.jsonl"
    trainer = make_grpo_trainer(
        cfg,
        model,
        processor,
        examples,
        ckpt_dir,
        [LogCallback(log_path, "zero (GRPO)", cfg.optimizer_steps())],
        args=args,
    )
    train(trainer, resume_from)
    if not save_final(trainer, processor, out / "model"):
        return {"steps": trainer.state.global_step}  # not the main process: it writes the rest
    log = [r for r in read_log(log_path) if "reward" in r]
    last = log[-10:] or [{}]
    fmt_key, acc_key = "rewards/format_reward/mean", "rewards/accuracy_reward/mean"  # unweighted: rates
    result = {
        "steps": trainer.state.global_step,
        "seconds": round(time.time() - t0, 1),
        "resumed_from": resume_from,
        "prompts_dropped": dropped,
        "final_format_rate": sum(r.get(fmt_key, 0) for r in last) / len(last),
        "final_accuracy": sum(r.get(acc_key, 0) for r in last) / len(last),
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    say(
        f"zero: {result['steps']} GRPO steps in {result['seconds']}s; last-10-step format rate "
        f"{result['final_format_rate']:.1%}, accuracy {result['final_accuracy']:.1%}"
    )
    return result
