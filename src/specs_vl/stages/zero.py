"""Stage 1a, `specs zero`: a short GRPO run that teaches the base model the format.

Reward = 0.5 * format + 1.0 * accuracy, no KL (beta=0), clip-higher
(epsilon_high), `num_generations` rollouts per prompt: the paper's settings.
Everything else is TRL's GRPOTrainer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from specs_vl.models.load import load_vlm
from specs_vl.models.vllm import vllm_available
from specs_vl.scoring.rewards import make_accuracy_reward, make_format_reward
from specs_vl.stages.train import (
    LogCallback,
    NonFiniteLossGuard,
    check_enough,
    load_examples,
    read_log,
    report_to,
    resume_point,
    rl_dataset,
    save_final,
    train,
)
from specs_vl.util.atomic import atomic_write
from specs_vl.util.errors import ConfigError
from specs_vl.util.progress import say
from specs_vl.world import WorldConfig


class ZeroConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(150, ge=1)
    learning_rate: float = Field(5e-4, gt=0)
    num_generations: int = Field(8, ge=2)
    prompts_per_step: int = Field(4, ge=1)
    rollout_batch_size: int | None = Field(None, ge=1)  # the paper's "rollout batch"; sets prompts_per_step
    max_completion_length: int = Field(48, ge=1)
    temperature: float = Field(1.0, gt=0)
    epsilon_high: float = Field(0.28, ge=0)
    beta: float = Field(0.0, ge=0)
    format_weight: float = 0.5
    accuracy_weight: float = 1.0
    train_size: int | None = Field(None, ge=1)
    data: str | None = None  # a datasets dir in the example schema; default: the world's train split
    save_steps: int = Field(50, ge=1)
    seed: int = 0
    vllm: str | None = Field(None, pattern="^(colocate|server)$")  # rollouts through TRL's use_vllm
    vllm_server_host: str = "127.0.0.1"  # for vllm: server (start it with `trl vllm-serve --model ...`)
    vllm_server_port: int = 8000

    @model_validator(mode="after")
    def _rollout_batch(self):
        """A rollout batch is whole groups: `rollout_batch_size` = prompts x `num_generations`."""
        if self.rollout_batch_size is not None:
            if self.rollout_batch_size % self.num_generations:
                raise ValueError(f"rollout_batch_size {self.rollout_batch_size} is not a multiple of "
                                 f"num_generations {self.num_generations}; each prompt needs a whole group")
            object.__setattr__(self, "prompts_per_step", self.rollout_batch_size // self.num_generations)
        return self


def grpo_args(cfg: Any, output_dir: Path, max_steps: int):
    """The GRPOConfig both GRPO stages use (zero and rl)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(output_dir), max_steps=max_steps, learning_rate=cfg.learning_rate,
        beta=cfg.beta, epsilon_high=cfg.epsilon_high, num_generations=cfg.num_generations,
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations,
        max_completion_length=cfg.max_completion_length, temperature=cfg.temperature,
        logging_steps=1, save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2,
        report_to=report_to(), use_cpu=not _cuda(), bf16=_cuda(), seed=cfg.seed, disable_tqdm=True,
        dataloader_num_workers=0, logging_nan_inf_filter=False, **_vllm_args(cfg),
    )


def _vllm_args(cfg: Any) -> dict[str, Any]:
    """TRL's vLLM rollouts when the config asks for them; HF generate otherwise. Logged either way."""

    if cfg.vllm is None:
        say("GRPO rollouts: HF generate")
        return {}

    if not vllm_available():
        raise ConfigError(f"vllm: {cfg.vllm} needs `pip install vllm` and a CUDA GPU; remove it to use HF generate")
    say(f"GRPO rollouts: vLLM ({cfg.vllm})")
    extra = {"vllm_server_host": cfg.vllm_server_host, "vllm_server_port": cfg.vllm_server_port} \
        if cfg.vllm == "server" else {}
    return {"use_vllm": True, "vllm_mode": cfg.vllm, **extra}


def make_grpo_trainer(cfg: Any, model: Any, processor: Any, examples: list[dict[str, Any]], ckpt_dir: Path,
                      callbacks: list) -> Any:
    """TRL's GRPOTrainer with our rewards and data; public so benchmarks time exactly what the stages run."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOTrainer

    # TRL re-tokenises prompts with this processor for the loss pass and expects left padding;
    # hub Qwen processors pad right, which breaks the M-RoPE index (trl#5785; tests/test_families.py).
    processor.tokenizer.padding_side = "left"
    trainer = GRPOTrainer(
        model=model, processing_class=processor, args=grpo_args(cfg, ckpt_dir, cfg.steps),
        reward_funcs=[make_format_reward(cfg.format_weight), make_accuracy_reward(cfg.accuracy_weight)],
        train_dataset=rl_dataset(examples), callbacks=[*callbacks, NonFiniteLossGuard()],
    )
    trainer.remove_callback(PrinterCallback)  # our LogCallback logs to a file and draws the bar
    return trainer


def _cuda() -> bool:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    return torch.cuda.is_available()


def run_zero(cfg: ZeroConfig, base: str | Path, out: Path, world: Any = None, resume: bool = True) -> dict[str, Any]:
    """Train zero from `base`; writes `out/model`, `out/log.jsonl`, `out/result.json`."""

    out = Path(out)
    t0 = time.time()
    examples = load_examples(cfg.data, world or WorldConfig(), cfg.train_size)
    check_enough(examples, cfg.prompts_per_step, cfg.data or "the world's train split")
    model, processor = load_vlm(base)
    out.mkdir(parents=True, exist_ok=True)  # only once the inputs are good: no empty dir on bad input
    ckpt_dir, resume_from = resume_point(out, resume, ("log.jsonl",))
    log_path = out / "log.jsonl"
    trainer = make_grpo_trainer(cfg, model, processor, examples, ckpt_dir,
                                [LogCallback(log_path, "zero (GRPO)", cfg.steps)])
    train(trainer, resume_from)
    if not save_final(trainer, processor, out / "model"):
        return {"steps": trainer.state.global_step}  # not the main process: it writes the rest
    log = [r for r in read_log(log_path) if "reward" in r]
    last = log[-10:] or [{}]
    fmt_key, acc_key = "rewards/format_reward/mean", "rewards/accuracy_reward/mean"
    result = {
        "steps": trainer.state.global_step, "seconds": round(time.time() - t0, 1), "resumed_from": resume_from,
        "final_format_rate": sum(r.get(fmt_key, 0) for r in last) / len(last) / cfg.format_weight,
        "final_accuracy": sum(r.get(acc_key, 0) for r in last) / len(last) / cfg.accuracy_weight,
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    say(f"zero: {result['steps']} GRPO steps in {result['seconds']}s; last-10-step format rate "
        f"{result['final_format_rate']:.1%}, accuracy {result['final_accuracy']:.1%}")
    return result
