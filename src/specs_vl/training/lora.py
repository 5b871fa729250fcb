"""LoRA settings shared by the cold start and the GRPO stages, and the peft LoraConfig they become.

Kept light (pydantic only; peft is imported when a trainer is built) so run configs validate without torch.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specs_vl.models.parts import VISUAL


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    r: int = Field(16, ge=1)
    """LoRA rank"""
    alpha: int = Field(32, ge=1)
    """scale alpha / r"""
    dropout: float = Field(0.0, ge=0, lt=1)
    """LoRA dropout"""
    target_modules: list[str] | str = "all-linear"
    """peft's: every linear layer but the output head"""


def peft_lora(lora: LoraSettings | None, freeze_vision_tower: bool = False) -> Any:
    """peft's LoraConfig for `lora` (None when off); a frozen tower gets no adapter either.

    peft matches a string `exclude_modules` with re.fullmatch against each module's full name
    (tuners_utils.check_target_module_exists), so VISUAL leaves every module under `visual` as it is.
    """
    if lora is None:
        return None
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        exclude_modules=VISUAL if freeze_vision_tower else None,
        task_type="CAUSAL_LM",
    )
