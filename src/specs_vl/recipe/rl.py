"""Stage 3, `specs rl`: GRPO with verifiable rewards from a cold start (or from the base, the baseline).

Same trainer and settings as zero (`zero.grpo_args`): reward 0.5 * format +
1.0 * accuracy, beta = 0, clip-higher, `num_generations` rollouts a prompt.
What differs is length and what is watched: every step logs reward mean/std,
format rate, accuracy, response length, entropy and the fraction of groups
whose rewards all tie (no signal); ID and OOD are evaluated at the end, and
every `eval_every` steps when asked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from specs_vl.evaluation.curve import CurveCallback, CurveSettings, start_point_cache
from specs_vl.evaluation.plots import plot_rl_curves
from specs_vl.models.load import load_vlm
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.recipe.rl_config import RLConfig
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

# TRL's GRPO log keys -> the names our curves and report use.
LOG_KEYS = {
    "reward": "reward",
    "reward_std": "reward_std",
    "entropy": "entropy",
    "completions/mean_length": "completion_length",
    "frac_reward_zero_std": "frac_reward_zero_std",
}


CLIP = "clip_ratio/region_mean"  # TRL: share of completion tokens whose ratio left [1 - eps, 1 + eps_high]


def rl_curve(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per rollout batch, with the issue's names, from TRL's log lines.

    TRL logs the rollout's rewards on the first optimiser step after each
    generation only, where the policy ratio is exactly 1 and nothing clips;
    the later mini-batches' lines carry the clip fractions. So each row keeps
    every mini-batch's clip fraction (`clip_fractions`) and their mean
    (`clip_fraction`), not the first one's. Rewards are logged unweighted
    (GRPOConfig.reward_weights), so their means are rates.
    """
    rows: list[dict[str, Any]] = []
    for r in log:
        if "reward" in r:
            row = {
                "step": r["step"],
                **{ours: r.get(theirs) for theirs, ours in LOG_KEYS.items()},
                "format_rate": r.get("rewards/format_reward/mean"),
                "accuracy": r.get("rewards/accuracy_reward/mean"),
                "clip_fractions": [],
            }
            rows.append(row)
        if rows and r.get(CLIP) is not None and "train_runtime" not in r:
            rows[-1]["clip_fractions"].append(r[CLIP])
    for row in rows:
        clips = row["clip_fractions"]
        row["clip_fraction"] = sum(clips) / len(clips) if clips else None
    return rows


def rollout_trend(curve: list[dict[str, Any]], share: float = 0.2) -> dict[str, float | None]:
    """Mean rollout accuracy over the first and the last `share` of the rollout batches, and the gain."""
    acc = [r["accuracy"] for r in curve if r.get("accuracy") is not None]
    if not acc:
        return {"first": None, "last": None, "gain": None}
    k = max(1, round(len(acc) * share))
    first, last = sum(acc[:k]) / k, sum(acc[-k:]) / k
    return {"first": first, "last": last, "gain": last - first}


def run_rl(
    cfg: RLConfig,
    start: str | Path,
    out: Path,
    world: Any = None,
    resume: bool = True,
    label: str = "rl",
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """GRPO from `start`; writes `out/{model,log.jsonl,curve.json,eval_curve.json,rl_curve.png,result.json}`."""

    out = Path(out)
    t0 = time.time()
    world = world or WorldConfig()
    examples = load_examples(cfg.data, world, cfg.train_size)
    check_enough(examples, cfg.prompts_per_step, cfg.data or "the world's train split")
    cfg.batching()  # a batch that does not split over the processes fails before the model loads
    args = grpo_args(cfg, out / "checkpoints")  # before the model: ZeRO-3 init (training/grpo.grpo_args)
    model, processor = load_vlm(start, dtype=train_dtype(), loading=loading)
    examples, dropped = grpo_examples(cfg, processor, examples, cfg.data or "the world's train split")
    out.mkdir(parents=True, exist_ok=True)  # only once the inputs are good: no empty dir on bad input
    ckpt_dir, resume_from = resume_point(out, resume, ("log.jsonl", "eval_curve.json"))
    log_path, eval_path = out / "log.jsonl", out / "eval_curve.json"
    settings = CurveSettings(
        every=cfg.eval_every,
        id_n=cfg.eval_id_n,
        ood_n=cfg.eval_ood_n,
        samples=cfg.eval_samples,
        batch_size=cfg.eval_batch_size,
        temperature=cfg.eval_temperature,
        seed=cfg.seed,
        max_new_tokens=cfg.eval_max_new_tokens or max(64, cfg.max_completion_length),
        id_set=cfg.eval_id,
        ood_sets=tuple(cfg.eval_ood),
    )
    # rl-base and rl-random start from one model: its step-0 point is computed once (run_dir/cache)
    cache = start_point_cache(out.parent / "cache", start, settings, world, cfg.lora)
    evals = CurveCallback(
        eval_path, settings, processor, world, meta={"run": label, "start": str(start)}, start_cache=cache
    )
    trainer = make_grpo_trainer(
        cfg,
        model,
        processor,
        examples,
        ckpt_dir,
        [LogCallback(log_path, label, cfg.optimizer_steps()), evals],
        args=args,
    )
    if not train(trainer, resume_from):
        evals.complete(trainer.model, trainer.state.global_step)
    if not save_final(trainer, processor, out / "model"):
        return {"steps": trainer.state.global_step}  # not the main process: it writes the rest
    curve = rl_curve(read_log(log_path))
    atomic_write(out / "curve.json", json.dumps(curve))
    plot_rl_curves({label: curve}, out / "rl_curve.png")
    final = evals.points[-1] if evals.points else {}
    result = {
        "run": label,
        "start": str(start),
        "steps": trainer.state.global_step,
        "seconds": round(time.time() - t0, 1),
        "resumed_from": resume_from,
        "prompts_dropped": dropped,
        "id": final.get("id"),
        "ood": final.get("ood"),
        "initial": {"id": evals.points[0]["id"], "ood": evals.points[0]["ood"]} if evals.points else None,
        "reward": cfg.reward,
        "rollout_accuracy": rollout_trend(curve),
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    fid, food = result["id"] or {}, result["ood"] or {}
    say(
        f"{label}: {result['steps']} GRPO steps in {result['seconds']}s; ID acc {fid.get('accuracy', 0):.1%} "
        f"format {fid.get('format_valid_rate', 0):.1%}; OOD acc {food.get('accuracy', 0):.1%} "
        f"strict {food.get('strict_success', 0):.1%}"
    )
    return result
