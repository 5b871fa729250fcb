"""Global batch settings -> per-device micro-batch, gradient accumulation, TRL's steps_per_generation.

Config batch values are global (all processes together) and name their unit,
as verl's do: GRPO counts prompts per rollout batch (verl
`data.train_batch_size`) and per optimiser step (verl
`actor.ppo_mini_batch_size`); the micro-batch counts sequences on one device
for one forward/backward (verl `ppo_micro_batch_size_per_gpu`). The cold
start counts pairs per optimiser step. Pure arithmetic: no torch, so
`specs plan` and the tests can ask for 8 processes on a laptop.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from specs_vl.util.errors import ConfigError


def world_size() -> int:
    """Processes in this run: torchrun / `accelerate launch` export WORLD_SIZE to every rank; 1 otherwise."""
    return int(os.environ.get("WORLD_SIZE", "1"))


@dataclass(frozen=True)
class GRPOBatch:
    world_size: int
    num_generations: int
    rollout_prompts: int  # global prompts sampled per generation round
    mini_batch_prompts: int  # global prompts per optimiser step
    micro_batch: int  # completions per device per forward/backward (TRL per_device_train_batch_size)
    grad_accum: int  # micro-batches per optimiser step on each device
    steps_per_generation: int  # TRL: micro-batches per generation round (grad_accum x optimiser steps)

    @property
    def rollout_completions(self) -> int:
        return self.rollout_prompts * self.num_generations

    @property
    def mini_batch_completions(self) -> int:
        return self.mini_batch_prompts * self.num_generations

    @property
    def optimizer_steps_per_rollout(self) -> int:
        return self.rollout_prompts // self.mini_batch_prompts

    def trl_args(self) -> dict[str, int]:
        """GRPOConfig fields. TRL 1.16 GRPOConfig: generation_batch_size = per_device_train_batch_size x
        world x steps_per_generation, and it generates once every steps_per_generation micro-batches;
        when that exceeds gradient_accumulation_steps it keeps the rollout policy's log-probs
        (old_per_token_logps), so the ratio leaves 1 after the first optimiser step and the clip can bind."""
        return {
            "per_device_train_batch_size": self.micro_batch,
            "gradient_accumulation_steps": self.grad_accum,
            "steps_per_generation": self.steps_per_generation,
        }


def grpo_batching(
    rollout_prompts: int,
    num_generations: int,
    world: int,
    mini_batch_prompts: int | None = None,
    micro_batch: int | None = None,
    section: str = "zero",
) -> GRPOBatch:
    """Split a global rollout batch over `world` processes; ConfigError names the setting to change."""
    mini = mini_batch_prompts or rollout_prompts
    if rollout_prompts % mini:
        raise ConfigError(
            f"{section}.mini_batch_prompts={mini} does not divide the rollout batch of "
            f"{rollout_prompts} prompts (prompts_per_step); make it a divisor"
        )
    per_step = mini * num_generations
    if per_step % world:
        raise ConfigError(
            f"{section}: a mini-batch of {per_step} completions ({mini} prompts x {num_generations}) "
            f"does not split over {world} processes; make mini_batch_prompts x num_generations a "
            f"multiple of {world}"
        )
    per_device = per_step // world
    micro = micro_batch or per_device
    if micro > per_device or per_device % micro:
        raise ConfigError(
            f"{section}.micro_batch_size={micro} must divide the {per_device} completions each of "
            f"{world} processes gets per optimiser step; lower it to a divisor of {per_device}"
        )
    grad_accum = per_device // micro
    return GRPOBatch(
        world, num_generations, rollout_prompts, mini, micro, grad_accum, grad_accum * (rollout_prompts // mini)
    )


@dataclass(frozen=True)
class PairBatch:
    world_size: int
    batch: int  # global pairs per optimiser step
    micro_batch: int  # pairs per device per forward/backward
    grad_accum: int

    def trl_args(self) -> dict[str, int]:
        return {"per_device_train_batch_size": self.micro_batch, "gradient_accumulation_steps": self.grad_accum}


def pair_batching(batch: int, world: int, micro_batch: int | None = None, section: str = "coldstart") -> PairBatch:
    """The cold start's global batch (pairs per optimiser step; the paper's 64) on `world` processes."""
    if batch % world:
        raise ConfigError(
            f"{section}.batch_size={batch} pairs does not split over {world} processes; make it a multiple of {world}"
        )
    per_device = batch // world
    micro = micro_batch or per_device
    if micro > per_device or per_device % micro:
        raise ConfigError(
            f"{section}.micro_batch_size={micro} must divide the {per_device} pairs each of {world} "
            f"processes gets per optimiser step; lower it to a divisor of {per_device}"
        )
    return PairBatch(world, batch, micro, per_device // micro)


def pair_steps(n_pairs: int, b: PairBatch, epochs: float, max_steps: int | None = None) -> int:
    """Optimiser steps transformers 5 will take: accelerate shards the micro-batches over the ranks
    (even_batches, so ceil), and Trainer.set_initial_training_values counts ceil(batches / grad_accum)
    per epoch, then ceil(epochs x that)."""
    if max_steps:
        return max_steps
    batches_per_rank = math.ceil(math.ceil(n_pairs / b.micro_batch) / b.world_size)
    per_epoch = max(math.ceil(batches_per_rank / b.grad_accum), 1)
    return math.ceil(per_epoch * epochs)
