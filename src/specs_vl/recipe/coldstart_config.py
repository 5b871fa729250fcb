"""ColdstartConfig: the cold start's settings (DPO, DPO+SFT or SFT on the pairs), beside the trainer in coldstart.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from specs_vl.training.lora import LoraSettings

METHODS = ("dpo-sft", "dpo", "sft")
# The world's suites whose examples a verdict reads (the test splits, from world.test_start on)
VERDICT_SUITES = (
    "world-id",
    "world-ood",
    "world-ood-domain",
    "world-ood-surface",
    "world-ood-requirement",
    "world-retention",
)
__all__ = ["METHODS", "ColdstartConfig", "LoraSettings"]


class ColdstartConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    method: Literal["dpo-sft", "dpo", "sft"] = "dpo-sft"
    """dpo-sft (SPECS), dpo (lambda 0) or sft"""
    beta: float = Field(0.1, gt=0)
    """DPO beta"""
    sft_weight: float = Field(1.0, ge=0)
    """lambda; the dpo method forces 0"""
    learning_rate: float = Field(5e-4, gt=0)
    """learning rate"""
    epochs: float = Field(2.0, gt=0)
    """epochs over the pairs"""
    max_steps: int | None = Field(None, ge=1)
    """overrides epochs"""
    batch_size: int = Field(16, ge=1)
    """pairs per optimiser step, global (all processes; the paper's 64)"""
    micro_batch_size: int | None = Field(None, ge=1)
    """pairs per device per forward/backward; None = all of them"""
    max_length: int | None = Field(None, ge=16)
    """prompt + image + response tokens; longer pairs are dropped"""
    precompute_ref: bool = False
    """DPO: reference log-probs in one pass before training; no reference copy"""
    gradient_checkpointing: bool = False
    """recompute activations in the backward pass (long pairs, big models)"""
    lora: LoraSettings | None = None
    """LoRA adapters (peft), merged at the end; null: full fine-tuning"""
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    """warmup share of the steps"""
    lr_scheduler_type: Literal["constant", "cosine", "linear"] = "constant"
    """never transformers' linear default"""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW's, set explicitly"""
    save_steps: int = Field(10, ge=1)
    """checkpoint every N steps"""
    curve_every: int = Field(5, ge=0)
    """GF-curve evaluation interval; 0 = only start and end"""
    psi: Literal["strict", "accuracy", "format"] = "strict"
    """Psi: strict (right answer in the asked style), accuracy or format"""
    curve_id: str = "world-id"
    """the GF curve's ID set: a suite name or data:PATH (your own held-out file)"""
    curve_ood: list[str] = Field(default_factory=lambda: ["world-ood"], min_length=1)
    """OOD sets, equal-weighted"""
    curve_id_n: int | None = Field(120, ge=1)
    """prompts of the ID set; None = all"""
    curve_ood_n: int | None = Field(200, ge=1)
    """prompts of each OOD set; None = all"""
    curve_samples: int = Field(4, ge=1)
    """responses per prompt for Psi"""
    curve_temperature: float = Field(1.0, ge=0)
    """sampling temperature of the GF-curve evaluation"""
    curve_max_new_tokens: int = Field(64, ge=1)
    """response length limit of the GF-curve evaluation"""
    select: Literal["last", "gf"] = "last"
    """the stage's model: the last step, or the curve point of highest GF (recipe/select.py; the curve then
    reads dev sets only, e.g. world-dev and world-dev-ood)"""
    seed: int = 0
    """training seed"""
    trainer_kwargs: dict[str, Any] = Field(default_factory=dict)
    """any other DPOConfig/SFTConfig field, passed through"""
    report_to: Literal["none", "tensorboard", "wandb", "trackio"] | None = None
    """None: tensorboard if installed"""

    @model_validator(mode="after")
    def _select_reads_no_verdict_split(self) -> ColdstartConfig:
        """select: gf makes the curve a design step, so it must read no split a verdict reads."""
        if self.select != "gf":
            return self
        if not self.curve_every:
            raise ValueError("select: gf needs curve points between start and end; set coldstart.curve_every > 0")
        read = [s for s in [self.curve_id, *self.curve_ood] if s in VERDICT_SUITES]
        if read:
            raise ValueError(
                f"coldstart.select: gf decides on the GF curve, which reads {read}, a split the verdicts read; "
                "set coldstart.curve_id: world-dev and curve_ood: [world-dev-ood] (or data: sets no verdict reads)"
            )
        return self
