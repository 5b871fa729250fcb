"""The GRPO trainer both GRPO stages build (zero and rl): TRL's GRPOTrainer with our rewards, batching, schedule,
correction mode, LoRA and rollout backend, every knob set here rather than left to a library default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specs_vl.models.parts import is_visual
from specs_vl.models.vllm import trl_sampling_kwargs, vllm_available
from specs_vl.scoring.rewards import make_accuracy_reward, make_format_reward, shuffled_rewards
from specs_vl.training.lora import peft_lora
from specs_vl.training.passthrough import with_trainer_kwargs
from specs_vl.training.prompt_length import fit_prompts
from specs_vl.training.train_split import check_enough, rl_dataset
from specs_vl.training.trainer import NonFiniteLossGuard, report_to, schedule_args
from specs_vl.util.errors import ConfigError
from specs_vl.util.progress import say


def grpo_args(cfg: Any, output_dir: Path, max_steps: int | None = None):
    """The GRPOConfig both GRPO stages use (zero and rl); `max_steps` counts optimiser steps. The stages build it
    before the model loads: under accelerate with DeepSpeed, TrainingArguments.__post_init__ registers the
    HfDeepSpeedConfig (transformers 5 training_args.py: DeepSpeedPlugin().set_deepspeed_weakref()), so
    `from_pretrained` builds ZeRO-3 partitions (zero.Init) instead of a full CPU copy on every rank."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from trl import GRPOConfig

    b = cfg.batching()
    if b.optimizer_steps_per_rollout == 1 and cfg.epsilon_high > 0:
        say(
            "GRPO: one optimiser step per rollout batch, so the ratio is 1 and clip-higher cannot act; "
            "set mini_batch_prompts below prompts_per_step for several"
        )
    return GRPOConfig(
        **with_trainer_kwargs(
            dict(
                output_dir=str(output_dir),
                max_steps=max_steps or cfg.optimizer_steps(),
                learning_rate=cfg.learning_rate,
                beta=cfg.beta,
                epsilon_high=cfg.epsilon_high,
                num_generations=cfg.num_generations,
                **b.trl_args(),
                # set here, not left to TRL's defaults (TRL 1.16: loss_type "dapo", scale_rewards "group")
                loss_type=cfg.loss_type,
                scale_rewards=cfg.scale_rewards,
                gradient_checkpointing=cfg.gradient_checkpointing,
                reward_weights=[cfg.format_weight, cfg.accuracy_weight],
                **schedule_args(cfg),
                **is_correction_args(cfg),
                max_completion_length=cfg.max_completion_length,
                temperature=cfg.temperature,
                logging_steps=1,
                save_strategy="steps",
                save_steps=cfg.save_steps,
                save_total_limit=2,
                report_to=report_to(cfg.report_to),
                use_cpu=not _cuda(),
                bf16=_cuda(),
                seed=cfg.seed,
                disable_tqdm=True,
                dataloader_num_workers=0,
                logging_nan_inf_filter=False,
                **_vllm_args(cfg),
                **trl_sampling_kwargs(),  # top_p/top_k/min_p/rep. penalty set, never the checkpoint's
            ),
            cfg.trainer_kwargs,
            "zero/rl",
            "GRPOConfig",
        )
    )


def is_correction_args(cfg: Any) -> dict[str, Any]:
    """TRL 1.16 GRPOConfig.vllm_importance_sampling_correction defaults to True with mode sequence_mask and
    clip_max 3; it only acts with vLLM rollouts (grpo_trainer: `self.use_vllm and ...correction`)."""
    if cfg.is_correction == "none":
        return {"vllm_importance_sampling_correction": False}
    return {
        "vllm_importance_sampling_correction": True,
        "vllm_importance_sampling_mode": cfg.is_correction,
        "vllm_importance_sampling_clip_max": cfg.is_clip_max,
    }


def freeze_vision_tower(model: Any) -> int:
    """requires_grad=False on every parameter under the vision tower (`visual`, the patch merger included, as
    EasyR1's `freeze_vision_tower`); the Trainer's optimiser then holds only the rest. Returns how many."""
    n = 0
    for name, p in model.named_parameters():
        if is_visual(name):
            p.requires_grad_(False)
            n += p.numel()
    if n == 0:
        raise ConfigError("freeze_vision_tower: the model has no parameter under `visual`; not a Qwen-VL model?")
    return n


def _vllm_args(cfg: Any) -> dict[str, Any]:
    """TRL's vLLM rollouts when the config asks for them; HF generate otherwise. Logged either way."""

    if cfg.vllm is None:
        say("GRPO rollouts: HF generate")
        return {}

    if not vllm_available():
        raise ConfigError(f"vllm: {cfg.vllm} needs `pip install vllm` and a CUDA GPU; remove it to use HF generate")
    say(f"GRPO rollouts: vLLM ({cfg.vllm})")
    if cfg.vllm == "server":
        return {
            "use_vllm": True,
            "vllm_mode": "server",
            "vllm_server_host": cfg.vllm_server_host,
            "vllm_server_port": cfg.vllm_server_port,
        }
    max_len = cfg.vllm_max_model_length or (cfg.max_prompt_length and cfg.max_prompt_length + cfg.max_completion_length)
    return {
        "use_vllm": True,
        "vllm_mode": "colocate",
        "vllm_gpu_memory_utilization": cfg.vllm_gpu_memory_utilization,
        "vllm_max_model_length": max_len or None,  # None: TRL reads the model's max_position_embeddings
        "vllm_enable_sleep_mode": cfg.vllm_enable_sleep_mode,
        "vllm_tensor_parallel_size": cfg.vllm_tensor_parallel_size,
    }


def grpo_rewards(cfg: Any) -> list[Any]:
    """Format and accuracy as 0/1 rates (the factories' defaults are the weighted values), weighted by
    GRPOConfig.reward_weights; with `reward: random`, the noise control over the same two."""
    rewards = [make_format_reward(1.0), make_accuracy_reward(1.0)]
    if cfg.reward == "random":
        say("GRPO: random reward (noise control): each batch's real rewards, shuffled over its completions")
        rewards = shuffled_rewards(rewards, cfg.seed)
    return rewards


def grpo_examples(
    cfg: Any, processor: Any, examples: list[dict[str, Any]], source: str
) -> tuple[list[dict[str, Any]], int]:
    """The prompts GRPO trains on: images at the processor's bounded size, and none over `max_prompt_length`
    (image tokens counted; dropped and counted here, before the first rollout). (examples, how many dropped)"""
    kept, dropped = fit_prompts(examples, processor, cfg.max_prompt_length)
    if dropped:
        say(f"GRPO: dropped {dropped} of {len(examples)} prompts over max_prompt_length {cfg.max_prompt_length}")
    check_enough(kept, cfg.prompts_per_step, source)
    return kept, dropped


def make_grpo_trainer(
    cfg: Any,
    model: Any,
    processor: Any,
    examples: list[dict[str, Any]],
    ckpt_dir: Path,
    callbacks: list,
    args: Any = None,
) -> Any:
    """TRL's GRPOTrainer with our rewards and data (`args`: grpo_args, built before the model where it
    matters); public so benchmarks time exactly what the stages run."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOTrainer

    # TRL re-tokenises prompts with this processor for the loss pass and expects left padding;
    # hub Qwen processors pad right, which breaks the M-RoPE index (trl#5785; tests/models/test_families.py).
    processor.tokenizer.padding_side = "left"
    if cfg.freeze_vision_tower:
        say(f"GRPO: vision tower frozen ({freeze_vision_tower(model) / 1e6:.2f} M parameters)")
    if cfg.lora is not None:
        say(f"GRPO: LoRA r={cfg.lora.r} alpha={cfg.lora.alpha} on {cfg.lora.target_modules}, merged at the end")
    rewards = grpo_rewards(cfg)
    trainer = GRPOTrainer(
        model=model,
        processing_class=processor,
        args=args if args is not None else grpo_args(cfg, ckpt_dir),
        reward_funcs=rewards,
        train_dataset=rl_dataset(examples, processor),
        # TRL 1.16 GRPOTrainer wraps the model with get_peft_model(model, peft_config); with beta > 0 the
        # reference is the same model with its adapters disabled, no copy
        peft_config=peft_lora(cfg.lora, cfg.freeze_vision_tower),
        callbacks=[*callbacks, NonFiniteLossGuard()],
    )
    trainer.remove_callback(PrinterCallback)  # our LogCallback logs to a file and draws the bar
    return trainer


def _cuda() -> bool:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    return torch.cuda.is_available()
