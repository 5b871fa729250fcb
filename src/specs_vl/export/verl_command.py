"""The whole verl command for our RL stage, generated from the run config (`specs export verl --print-command`).

Every key that decides the run is written out, because verl's defaults
(verl 0.9, `verl/trainer/config/ppo_trainer.yaml`) train something else:
`data.val_files` is a gsm8k path, `actor_rollout_ref.model.path` a deepseek
model, `rollout.n` is 1 (so every GRPO advantage is 0), `max_prompt_length`
and `max_response_length` are 512 (images count in the prompt),
`clip_ratio_high` is 0.2, `train_batch_size` 1024 prompts, and
`data.image_patch_size` 14 (Qwen3-VL needs 16). The reward is read from
`reward.custom_reward_function.*`; the old top-level `custom_reward_function.*`
is not where current verl looks (verl/trainer/ppo/reward.py).
tests/export/test_verl_env.py composes this command with verl's own Hydra config.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

from specs_vl.models.parts import VISUAL
from specs_vl.models.vllm_settings import VLLMSettings
from specs_vl.scoring import rewards

DEFAULT_MAX_PROMPT_LENGTH = 2048  # text + image tokens; Qwen2.5-VL: (H/28)*(W/28) tokens an image
ENTRY = ["python3", "-m", "verl.trainer.main_ppo"]
# TRL loss_type -> verl actor.loss_agg_mode (TRL 1.16 GRPOConfig.loss_type docs; verl core_algos.agg_loss)
LOSS_AGG = {
    "dapo": "token-mean",
    "bnpo": "token-mean",
    "grpo": "seq-mean-token-mean",
    "dr_grpo": "seq-mean-token-sum-norm",
}


def image_patch_size(model: str | Path) -> int:
    """The vision patch of `model`: config.json's vision_config.patch_size (14 Qwen2.5-VL, 16 Qwen3-VL)."""
    cfg = Path(model) / "config.json"
    if cfg.is_file():
        patch = (json.loads(cfg.read_text()).get("vision_config") or {}).get("patch_size")
        if isinstance(patch, int):
            return patch
    return 16 if "qwen3-vl" in str(model).lower() else 14


def reward_path() -> str:
    """The file verl imports the reward from (verl's load_extern_object loads it by path)."""
    return str(Path(rewards.__file__).resolve())


def verl_overrides(
    cfg: Any,
    train_files: str | Path,
    val_files: str | Path,
    model: str | Path,
    gpus: int = 8,
    nnodes: int = 1,
    max_prompt_length: int | None = None,
) -> dict[str, Any]:
    """verl Hydra overrides (key -> value) for `cfg.rl`, a run config's RL section; values are Python values."""
    rl = cfg.rl

    def vllm(key: str) -> Any:  # the rl section's vllm_* setting, or TRL's colocate default (models/vllm.py)
        return getattr(rl, key, VLLMSettings.model_fields[key].default)

    prompt_len = max_prompt_length or getattr(rl, "max_prompt_length", None) or DEFAULT_MAX_PROMPT_LENGTH
    mini = getattr(rl, "mini_batch_prompts", None) or rl.prompts_per_step
    model_len = vllm("vllm_max_model_length") or prompt_len + rl.max_completion_length
    # TRL's save_steps and our eval_every count optimiser steps (Trainer.state.global_step); verl's
    # save_freq / test_freq count rollout steps (ray_trainer: `self.global_steps % save_freq`), 1 per batch
    per_rollout = max(1, rl.prompts_per_step // mini)
    eval_every = getattr(rl, "eval_every", 0)
    return {
        "algorithm.adv_estimator": "grpo",
        "algorithm.use_kl_in_reward": False,
        "algorithm.norm_adv_by_std_in_grpo": getattr(rl, "scale_rewards", "group") != "none",
        "data.train_files": str(Path(train_files).resolve()),
        "data.val_files": str(Path(val_files).resolve()),
        "data.prompt_key": "prompt",
        "data.image_key": "images",
        "data.max_prompt_length": prompt_len,
        "data.max_response_length": rl.max_completion_length,
        "data.train_batch_size": rl.prompts_per_step,  # prompts per rollout batch (verl counts prompts)
        "data.filter_overlong_prompts": True,  # drop (and count) prompts over max_prompt_length, images included
        "data.truncation": "error",
        "data.image_patch_size": image_patch_size(model),
        "data.trust_remote_code": cfg.trust_remote_code,
        "actor_rollout_ref.model.path": str(Path(model).resolve()) if Path(model).exists() else str(model),
        "actor_rollout_ref.model.trust_remote_code": cfg.trust_remote_code,
        "actor_rollout_ref.actor.optim.lr": rl.learning_rate,
        # the TRL path's schedule, written out (training/trainer.py schedule_args): verl's optim/fsdp.yaml
        # defaults are constant with weight_decay 0.01, transformers' linear decay to 0 with 0
        "actor_rollout_ref.actor.optim.lr_scheduler_type": getattr(rl, "lr_scheduler_type", "constant"),
        "actor_rollout_ref.actor.optim.lr_warmup_steps_ratio": getattr(rl, "warmup_ratio", 0.0),
        "actor_rollout_ref.actor.optim.weight_decay": getattr(rl, "weight_decay", 0.0),
        "actor_rollout_ref.actor.optim.clip_grad": 1.0,  # transformers TrainingArguments.max_grad_norm default
        "actor_rollout_ref.actor.freeze_vision_tower": getattr(rl, "freeze_vision_tower", False),
        **rollout_correction(rl),
        **lora_overrides(rl),
        "actor_rollout_ref.actor.ppo_mini_batch_size": mini,  # prompts per optimiser step
        "actor_rollout_ref.actor.use_dynamic_bsz": True,  # micro-batches by tokens, so no per-GPU count to guess
        "actor_rollout_ref.actor.ppo_max_token_len_per_gpu": prompt_len + rl.max_completion_length,
        "actor_rollout_ref.actor.clip_ratio_low": 0.2,  # TRL 1.16 GRPOConfig.epsilon default
        "actor_rollout_ref.actor.clip_ratio_high": rl.epsilon_high,  # DAPO clip-higher
        "actor_rollout_ref.actor.loss_agg_mode": LOSS_AGG[getattr(rl, "loss_type", "dapo")],
        "actor_rollout_ref.actor.use_kl_loss": rl.beta > 0,
        "actor_rollout_ref.actor.kl_loss_coef": rl.beta,
        "actor_rollout_ref.actor.entropy_coeff": 0,
        "actor_rollout_ref.rollout.name": "vllm",
        "actor_rollout_ref.rollout.n": rl.num_generations,
        "actor_rollout_ref.rollout.temperature": rl.temperature,
        "actor_rollout_ref.rollout.top_p": 1.0,
        "actor_rollout_ref.rollout.top_k": -1,  # verl/vLLM: -1 = all tokens
        "actor_rollout_ref.rollout.gpu_memory_utilization": vllm("vllm_gpu_memory_utilization"),
        "actor_rollout_ref.rollout.tensor_model_parallel_size": vllm("vllm_tensor_parallel_size"),
        "actor_rollout_ref.rollout.max_model_len": model_len,
        "reward.custom_reward_function.path": reward_path(),
        "reward.custom_reward_function.name": "compute_score",
        "trainer.total_training_steps": rl.steps,
        "trainer.n_gpus_per_node": gpus,
        "trainer.nnodes": nnodes,
        "trainer.save_freq": math.ceil(rl.save_steps / per_rollout),
        "trainer.test_freq": math.ceil(eval_every / per_rollout) if eval_every else rl.steps,
        # verl's validation is greedy with n = 1 (rollout.yaml val_kwargs) unless told: ours samples
        "actor_rollout_ref.rollout.val_kwargs.n": getattr(rl, "eval_samples", 1),
        "actor_rollout_ref.rollout.val_kwargs.temperature": getattr(rl, "eval_temperature", 0.0),
        "actor_rollout_ref.rollout.val_kwargs.do_sample": getattr(rl, "eval_temperature", 0.0) > 0,
        "actor_rollout_ref.rollout.val_kwargs.top_p": 1.0,
        "actor_rollout_ref.rollout.val_kwargs.top_k": -1,
        "trainer.val_before_train": True,
        "trainer.logger": ["console"],
        "trainer.project_name": "specs-vl",
        "trainer.experiment_name": f"{cfg.name}-rl",
    }


# ours -> verl's algorithm.rollout_correction (verl/trainer/config/algorithm/rollout_correction.yaml: rollout_is
# null = no correction; "token"/"sequence" truncated importance weights at rollout_is_threshold)
IS_MODES = {"none": None, "token_truncate": "token", "sequence_truncate": "sequence"}


def rollout_correction(rl: Any) -> dict[str, Any]:
    """The same importance-sampling correction as the TRL path (zero.is_correction_args), or a clear refusal."""
    mode = getattr(rl, "is_correction", "none")
    if mode not in IS_MODES:
        raise ValueError(
            f"rl.is_correction={mode}: verl has no masked importance-sampling mode; use none, "
            "token_truncate or sequence_truncate for an export"
        )
    out: dict[str, Any] = {"algorithm.rollout_correction.rollout_is": IS_MODES[mode]}
    if IS_MODES[mode] is not None:
        out["algorithm.rollout_correction.rollout_is_threshold"] = rl.is_clip_max
    return out


def lora_overrides(rl: Any) -> dict[str, Any]:
    """The TRL path's LoRA (training/lora.py) in verl's model config (trainer/config/model/hf_model.yaml:
    lora_rank 0 = off, lora_alpha, target_modules, exclude_modules, which verl hands to peft's LoraConfig)."""
    lora = getattr(rl, "lora", None)
    if lora is None:
        return {"actor_rollout_ref.model.lora_rank": 0}
    return {
        "actor_rollout_ref.model.lora_rank": lora.r,
        "actor_rollout_ref.model.lora_alpha": lora.alpha,
        "actor_rollout_ref.model.target_modules": lora.target_modules,
        "actor_rollout_ref.model.exclude_modules": VISUAL if getattr(rl, "freeze_vision_tower", False) else None,
    }


def hydra_value(value: Any) -> str:
    """A Python value in Hydra's override grammar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    return str(value)


def override_args(overrides: dict[str, Any]) -> list[str]:
    return [f"{k}={hydra_value(v)}" for k, v in overrides.items()]


def verl_command(overrides: dict[str, Any]) -> str:
    """The shell command, one override a line, each quoted where the shell would read it."""
    return " \\\n  ".join([shlex.join(ENTRY), *(shlex.quote(a) for a in override_args(overrides))])
