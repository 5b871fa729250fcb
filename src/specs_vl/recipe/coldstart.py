"""Stage 2, `specs coldstart`: a shallow cold start from the base model on the distilled pairs.

- dpo-sft (SPECS): TRL's DPOTrainer, `loss_type=["sigmoid", "sft"]`,
  `loss_weights=[1, lambda]`; the reference is the base model.
- dpo: the same with lambda = 0.
- sft: TRL's SFTTrainer on the chosen side of the same pairs, loss on the
  completion only, so it sees exactly the tokens dpo-sft's SFT term sees.
A CurveCallback evaluates world-id and world-ood as it trains; the gains and
GF at each point go to `gf_curve.json` and `gf_curve.png`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from specs_vl.data.pairs import load_pairs
from specs_vl.evaluation.curve import CurveCallback, CurveSettings, start_point_cache
from specs_vl.evaluation.plots import plot_gf_curve
from specs_vl.models.load import load_vlm
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.recipe.coldstart_config import ColdstartConfig
from specs_vl.recipe.select import choose_step
from specs_vl.training.batching import PairBatch, pair_batching, pair_steps, world_size
from specs_vl.training.lora import peft_lora
from specs_vl.training.pair_length import drop_long_pairs
from specs_vl.training.passthrough import with_trainer_kwargs
from specs_vl.training.ref_logps import PrecomputedRefDPOTrainer
from specs_vl.training.trainer import (
    LogCallback,
    NonFiniteLossGuard,
    main_process_value,
    read_log,
    report_to,
    restore_checkpoint,
    resume_point,
    save_final,
    schedule_args,
    train,
    train_dtype,
)
from specs_vl.util.atomic import atomic_write
from specs_vl.util.errors import DataError
from specs_vl.util.progress import say


def batching(cfg: ColdstartConfig, world: int | None = None) -> PairBatch:
    """The global batch split over `world` processes (default: this run's)."""
    return pair_batching(cfg.batch_size, world or world_size(), cfg.micro_batch_size)


def _common_args(cfg: ColdstartConfig, output_dir: Path) -> dict[str, Any]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    cuda = torch.cuda.is_available()
    return dict(
        output_dir=str(output_dir),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        **batching(cfg).trl_args(),
        **schedule_args(cfg),
        gradient_checkpointing=cfg.gradient_checkpointing,
        logging_steps=1,
        save_strategy="steps",
        # select: gf restores the checkpoint of a curve point: one at every point, none deleted
        save_steps=cfg.curve_every if cfg.select == "gf" else cfg.save_steps,
        save_total_limit=None if cfg.select == "gf" else 2,
        report_to=report_to(cfg.report_to),
        use_cpu=not cuda,
        bf16=cuda,
        seed=cfg.seed,
        disable_tqdm=True,
        dataloader_num_workers=0,
        max_length=cfg.max_length,
        remove_unused_columns=False,
        logging_nan_inf_filter=False,  # a NaN must reach NonFiniteLossGuard, not be averaged away
    )


def sft_dataset(pairs: Any) -> Any:
    """The chosen side as TRL's prompt-completion data, so the loss covers the completion only."""
    return pairs.map(
        lambda r: {"completion": r["chosen"]},
        remove_columns=[c for c in pairs.column_names if c not in ("prompt", "images")],
    )


def trainer_args(cfg: ColdstartConfig, ckpt_dir: Path) -> Any:
    """The TRL config of `cfg.method` (SFTConfig or DPOConfig). Built before the model loads: under accelerate
    with DeepSpeed, TrainingArguments.__post_init__ registers the HfDeepSpeedConfig (transformers 5
    training_args.py: DeepSpeedPlugin().set_deepspeed_weakref()), so `from_pretrained` then builds ZeRO-3
    partitions (zero.Init) instead of a full CPU copy of the weights on every rank."""
    if cfg.method == "sft":
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from trl import SFTConfig

        return SFTConfig(
            **with_trainer_kwargs(
                {**_common_args(cfg, ckpt_dir), "completion_only_loss": True},
                cfg.trainer_kwargs,
                "coldstart",
                "SFTConfig",
            )
        )
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from trl import DPOConfig

    lam = 0.0 if cfg.method == "dpo" else cfg.sft_weight
    losses = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, lam]} if lam > 0 else {"loss_type": ["sigmoid"]}
    return DPOConfig(
        **with_trainer_kwargs(
            {**_common_args(cfg, ckpt_dir), "beta": cfg.beta, "precompute_ref_log_probs": cfg.precompute_ref, **losses},
            cfg.trainer_kwargs,
            "coldstart",
            "DPOConfig",
        )
    )


def make_trainer(
    cfg: ColdstartConfig, model: Any, processor: Any, pairs: Any, ckpt_dir: Path, callbacks: list, args: Any = None
):
    """The TRL trainer for `cfg.method` (`args`: its trainer_args, built before the model where it matters);
    public so benchmarks time exactly what the stage runs."""

    callbacks = [*callbacks, NonFiniteLossGuard()]
    peft_config = peft_lora(cfg.lora)
    args = args if args is not None else trainer_args(cfg, ckpt_dir)
    if cfg.method == "sft":
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from trl import SFTTrainer

        return SFTTrainer(
            model=model,
            args=args,
            train_dataset=sft_dataset(pairs),
            processing_class=processor,
            peft_config=peft_config,
            callbacks=callbacks,
        )
    pairs = pairs.select_columns(["prompt", "chosen", "rejected", "images"])
    # ref_model=None: TRL copies the policy at step 0, which is the base model (or, with
    # LoRA, disables the adapters), so the reference is the base as the paper has it.
    # With precompute_ref the reference runs once over the pairs first (ref_logps.py).
    return PrecomputedRefDPOTrainer(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=pairs,
        processing_class=processor,
        peft_config=peft_config,
        callbacks=callbacks,
    )


def run_coldstart(
    cfg: ColdstartConfig,
    base: str | Path,
    pairs_path: str | Path,
    out: Path,
    world: Any = None,
    resume: bool = True,
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """Train a cold start from `base`; writes `out/{model,log.jsonl,gf_curve.json,gf_curve.png,result.json}`."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.trainer_callback import PrinterCallback

    t0 = time.time()
    pairs = load_pairs(pairs_path)  # validated before anything is written
    batch = batching(cfg)
    _check_batch(len(pairs), cfg, str(pairs_path), "")
    out = Path(out)
    args = trainer_args(cfg, out / "checkpoints")  # before the model: ZeRO-3 init (trainer_args)
    model, processor = load_vlm(base, dtype=train_dtype(), loading=loading)
    model.config.use_cache = False  # training; the saved model turns it back on
    pairs, too_long = drop_long_pairs(pairs, processor, cfg.max_length)
    _check_batch(len(pairs), cfg, str(pairs_path), f" after dropping {too_long} over max_length={cfg.max_length}")
    out.mkdir(parents=True, exist_ok=True)  # only once the inputs are good: no empty dir on bad input
    ckpt_dir, resume_from = resume_point(out, resume, ("log.jsonl", "gf_curve.json"))
    log_path, curve_path = out / "log.jsonl", out / "gf_curve.json"
    settings = CurveSettings(
        every=cfg.curve_every,
        psi=cfg.psi,
        id_n=cfg.curve_id_n,
        ood_n=cfg.curve_ood_n,
        samples=cfg.curve_samples,
        temperature=cfg.curve_temperature,
        seed=cfg.seed,
        max_new_tokens=cfg.curve_max_new_tokens,
        id_set=cfg.curve_id,
        ood_sets=tuple(cfg.curve_ood),
    )
    # the methods of one seed start from one base: its step-0 point is computed once (run_dir/cache)
    cache = start_point_cache(out.parent / "cache", base, settings, world, cfg.lora)
    curve = CurveCallback(curve_path, settings, processor, world, meta={"method": cfg.method}, start_cache=cache)
    steps = pair_steps(len(pairs), batch, cfg.epochs, cfg.max_steps)
    callbacks = [LogCallback(log_path, f"coldstart {cfg.method}", steps), curve]
    if too_long and _process_main():
        say(f"coldstart: dropped {too_long} of {len(pairs) + too_long} pairs longer than max_length={cfg.max_length}")
        with log_path.open("a") as f:
            f.write(json.dumps({"step": 0, "pairs_dropped_too_long": too_long, "pairs": len(pairs)}) + "\n")
    trainer = make_trainer(cfg, model, processor, pairs, ckpt_dir, callbacks, args=args)
    trainer.remove_callback(PrinterCallback)
    if not train(trainer, resume_from):
        curve.complete(trainer.model, trainer.state.global_step)
    # every rank holds the whole curve (psi_point gathers); rank 0's choice is still sent to all, so one float
    # compared differently on one rank cannot make two ranks restore two checkpoints
    selected = main_process_value(choose_step(curve.points, cfg.select))
    if selected["step"] != trainer.state.global_step:
        restore_checkpoint(trainer, ckpt_dir / f"checkpoint-{selected['step']}")
    if not save_final(trainer, processor, out / "model"):
        return {"steps": trainer.state.global_step}  # not the main process: it writes the rest
    points = curve.points
    plot_gf_curve({cfg.method: points}, out / "gf_curve.png")
    log = read_log(log_path)
    result = {
        "method": cfg.method,
        "learning_rate": cfg.learning_rate,
        "steps": trainer.state.global_step,
        "pairs": len(pairs),
        "pairs_too_long": too_long,
        "seconds": round(time.time() - t0, 1),
        "resumed_from": resume_from,
        "first_loss": next((r["loss"] for r in log if "loss" in r), None),
        "last_loss": next((r["loss"] for r in reversed(log) if "loss" in r), None),
        "final": points[-1] if points else None,
        "selected": selected,  # the step saved as model/ and the curve it was chosen from (gf_curve.json)
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    fin = result["final"] or {}
    say(
        f"coldstart {cfg.method}: {result['steps']} steps in {result['seconds']}s; Psi_ID {fin.get('psi_id', 0):.1f} "
        f"Psi_OOD {fin.get('psi_ood', 0):.1f} (gains {fin.get('g_id', 0):+.1f}/{fin.get('g_ood', 0):+.1f}), "
        "GF " + ("— (a gain <= 0)" if fin.get("gf") is None else f"{fin['gf']:.1f}")
    )
    if cfg.select != "last":
        gf = selected["gf"]
        say(
            f"coldstart {cfg.method}: select {cfg.select} kept step {selected['step']} "
            f"(GF {'—' if gf is None else f'{gf:.1f}'}): {selected['why']}"
        )
    return result


def _check_batch(n_pairs: int, cfg: ColdstartConfig, source: str, why: str) -> None:
    if n_pairs < cfg.batch_size:
        raise DataError(
            source,
            None,
            None,
            f"{n_pairs} pairs{why}, fewer than one batch of "
            f"coldstart.batch_size={cfg.batch_size} (global, all processes); lower the batch size "
            "or distill more pairs",
        )


def _process_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0  # torchrun / accelerate launch export RANK to every process
