"""ZeroConfig: the GRPO settings of the zero stage (and, through RLConfig, of stage 3), beside the trainer in zero.py.

Kept apart from the trainer so that run configs validate without importing torch (TRL's grpo_config.py beside
grpo_trainer.py).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from specs_vl.training.batching import GRPOBatch, grpo_batching, world_size
from specs_vl.training.lora import LoraSettings


class ZeroConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
    section: ClassVar[str] = "zero"  # the config key errors name

    # Batch values are global (all processes) and name their unit; training/batching.py splits them per device.
    steps: int = Field(150, ge=1)
    """rollout batches (verl's global steps); optimiser steps = steps x mini-batches"""
    learning_rate: float = Field(5e-4, gt=0)
    """learning rate"""
    num_generations: int = Field(8, ge=2)
    """rollouts per prompt (a GRPO group)"""
    prompts_per_step: int = Field(4, ge=1)
    """prompts per rollout batch, global (verl data.train_batch_size)"""
    rollout_batch_size: int | None = Field(None, ge=1)
    """completions per rollout batch, global; sets prompts_per_step"""
    mini_batch_prompts: int | None = Field(None, ge=1)
    """prompts per optimiser step (verl ppo_mini_batch_size); None = the whole rollout batch"""
    # None makes one on-policy step per rollout batch, where the ratio is 1 and clip-higher cannot act
    micro_batch_size: int | None = Field(None, ge=1)
    """completions per device per forward/backward; None = all"""
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo"] = "dapo"
    """token-level mean over the batch (DAPO)"""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """advantage = (r - group mean) / group std"""
    max_completion_length: int = Field(48, ge=1)
    """rollout length limit (tokens)"""
    temperature: float = Field(1.0, gt=0)
    """sampling temperature"""
    epsilon_high: float = Field(0.28, ge=0)
    """upper clip range (clip-higher, DAPO)"""
    beta: float = Field(0.0, ge=0)
    """KL weight; 0 as the paper (and verl's use_kl_loss=False)"""
    format_weight: float = 0.5
    """TRL's reward_weights: each reward is logged unweighted (a rate)"""
    accuracy_weight: float = 1.0
    """reward for a correct answer"""
    reward: Literal["specs", "random"] = "specs"
    """random: the noise control (scoring/rewards.py shuffled_rewards)"""
    # The schedule, set here, never left to transformers' default (linear decay to 0): constant as verl's actor.
    lr_scheduler_type: Literal["constant", "cosine"] = "constant"
    """the two verl's actor offers (verl export)"""
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    """linear warm-up share of the optimiser steps"""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW's; verl's actor default is 0.01, the paper does not say"""
    freeze_vision_tower: bool = False
    """train the language model (and nothing under `visual`) only"""
    # LoRA adapters (peft) instead of every weight, merged into the saved model. RL's reward carries a few bits
    # an episode, and Adam moves every trained weight by about the learning rate a step whatever its gradient:
    # fewer trained directions, less update noise. With freeze_vision_tower the tower gets no adapter.
    lora: LoraSettings | None = None
    """LoRA adapters (peft) on every linear layer (the tower's too unless frozen), merged at the end; null: every weight
    trains"""
    # TRL 1.16 turns vLLM importance-sampling correction on by default (sequence_mask, clip 3): set it here.
    # "none" as verl's default; a token-level mode when rollout and training log-probs disagree (docs/gpus.md).
    is_correction: Literal["none", "token_truncate", "token_mask", "sequence_truncate", "sequence_mask"] = (
        "none"  # vLLM rollout importance-sampling correction (TRL vllm_importance_sampling_mode)
    )
    """vLLM rollout importance-sampling correction: none (verl's default) or a TRL mode"""
    is_clip_max: float = Field(3.0, gt=0)
    """the correction's upper bound C_max"""
    train_size: int | None = Field(None, ge=1)
    """use only the first N training examples (None: all)"""
    data: str | None = None
    """a datasets dir in the example schema; default: the world's train split"""
    save_steps: int = Field(50, ge=1)
    """checkpoint every N steps"""
    seed: int = 0
    """training seed"""
    vllm: str | None = Field(None, pattern="^(colocate|server)$")
    """rollouts through TRL's use_vllm"""
    vllm_server_host: str = "127.0.0.1"
    """for vllm: server (start it with `trl vllm-serve --model ...`)"""
    vllm_server_port: int = 8000
    """port of `trl vllm-serve` for vllm: server"""
    # colocate: TRL 1.16's defaults are 0.3 of the GPU and a max length read from the model (128,000 for
    # Qwen2.5-VL-7B), whose KV cache cannot fit; None = max_prompt_length + max_completion_length when
    # max_prompt_length is set, else TRL's
    vllm_max_model_length: int | None = Field(None, ge=16)
    """vLLM context: prompt (image tokens included) + max completion; None: inferred"""
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1)
    """share of each GPU for vLLM's weights and KV cache"""
    vllm_enable_sleep_mode: bool = False
    """offload vLLM's weights and KV cache while the policy trains"""
    vllm_tensor_parallel_size: int = Field(1, ge=1)
    """GPUs one vLLM engine spans"""
    max_prompt_length: int | None = Field(None, ge=16)
    """prompt + image tokens, for vLLM's max length and `specs plan`"""
    gradient_checkpointing: bool = False
    """recompute activations in the backward pass (long sequences, big models)"""
    trainer_kwargs: dict[str, Any] = Field(default_factory=dict)
    """any other GRPOConfig field, passed through"""
    report_to: Literal["none", "tensorboard", "wandb", "trackio"] | None = None
    """None: tensorboard if installed"""

    @model_validator(mode="after")
    def _rollout_batch(self):
        """A rollout batch is whole groups: `rollout_batch_size` = prompts x `num_generations`."""
        if self.rollout_batch_size is not None:
            if self.rollout_batch_size % self.num_generations:
                raise ValueError(
                    f"rollout_batch_size {self.rollout_batch_size} is not a multiple of "
                    f"num_generations {self.num_generations}; each prompt needs a whole group"
                )
            object.__setattr__(self, "prompts_per_step", self.rollout_batch_size // self.num_generations)
        if self.mini_batch_prompts is not None and self.prompts_per_step % self.mini_batch_prompts:
            raise ValueError(
                f"mini_batch_prompts {self.mini_batch_prompts} does not divide the rollout batch of "
                f"{self.prompts_per_step} prompts (prompts_per_step)"
            )
        need = (self.max_prompt_length or 0) + self.max_completion_length
        if self.vllm_max_model_length is not None and self.max_prompt_length and self.vllm_max_model_length < need:
            # vLLM raises once prompt + completion reach max_model_len: a rollout would stop mid-run
            raise ValueError(
                f"vllm_max_model_length {self.vllm_max_model_length} is below max_prompt_length "
                f"{self.max_prompt_length} + max_completion_length {self.max_completion_length} = {need}; "
                f"raise it to {need} or leave it unset (then it is that sum)"
            )
        return self

    def batching(self, world: int | None = None) -> GRPOBatch:
        """This config's per-device split on `world` processes (default: this run's)."""
        return grpo_batching(
            self.prompts_per_step,
            self.num_generations,
            world or world_size(),
            self.mini_batch_prompts,
            self.micro_batch_size,
            self.section,
        )

    def optimizer_steps(self, world: int | None = None) -> int:
        return self.steps * self.batching(world).optimizer_steps_per_rollout
