"""What every training stage shares: train data, a progress/log callback, and resume."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from specs_vl.util.errors import TrainingError
from specs_vl.util.progress import bar, say


class LogCallback(TrainerCallback):
    """Per-step log lines to a JSONL file, and a rich progress bar."""

    def __init__(self, path: Path, description: str, total: int):
        self.path, self.description, self.total = Path(path), description, total
        self._bar_cm = None
        self._bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.path.exists() and not self.path.read_bytes().endswith(b"\n") and self.path.stat().st_size:
            with self.path.open("a") as f:  # a line cut by a kill stays alone, not glued to the next
                f.write("\n")
        self._bar_cm = bar(self.description, self.total)
        self._bar = self._bar_cm.__enter__()
        self._bar.advance(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        self._bar.advance(1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            with self.path.open("a") as f:
                f.write(json.dumps({"step": state.global_step, **logs}) + "\n")
            shown = [f"{k} {logs[k]:.3g}" for k in ("loss", "reward") if isinstance(logs.get(k), (int, float))]
            if shown and self._bar is not None:  # the bar shows the latest loss (DPO/SFT) or reward (GRPO)
                self._bar.describe(f"{self.description} [{', '.join(shown)}]")

    def on_train_end(self, args, state, control, **kwargs):
        if self._bar_cm is not None:
            self._bar_cm.__exit__(None, None, None)


class NonFiniteLossGuard(TrainerCallback):
    """Stop at the first NaN/inf loss, before that step is checkpointed, naming the step.

    transformers logs before it saves, so raising here keeps the last good
    checkpoint as the newest one; `--resume` continues from it (e.g. with a
    lower learning rate).
    """

    def on_log(self, args, state, control, logs=None, **kwargs):

        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            last = get_last_checkpoint(args.output_dir) if Path(args.output_dir).exists() else None
            raise TrainingError(
                f"step {state.global_step}: the loss is {loss}; training stopped. "
                f"Last good checkpoint: {last or 'none (no checkpoint saved yet)'}"
            )


def _complete(checkpoint: Path) -> bool:
    """transformers writes trainer_state.json last, so a checkpoint with a readable one is whole."""
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return True


def _process_state() -> Any:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from accelerate import PartialState

    # accelerate's PartialState: the rank under `accelerate launch`, a single main process otherwise. Without
    # CUDA, accelerate 1.15 joins torchrun's ranks only when asked for the CPU (as TrainingArguments(use_cpu=True)
    # does); PartialState() alone would make every rank a main process that deletes checkpoints
    return PartialState(cpu=not torch.cuda.is_available())


def last_checkpoint(ckpt_dir: Path, resume: bool) -> str | None:
    """The newest complete checkpoint; newer ones cut short by a kill mid-save are removed.

    Only the main process deletes, and every rank waits for it before looking
    again, so no rank reads a directory another is removing.
    """

    if not resume or not Path(ckpt_dir).exists():
        return None
    state = _process_state()
    while (found := get_last_checkpoint(str(ckpt_dir))) is not None:
        if _complete(Path(found)):
            return found
        if state.is_main_process:
            say(f"{found}: incomplete (killed while saving); removed, resuming from the one before")
            shutil.rmtree(found)
        state.wait_for_everyone()
    return None


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut short by a kill
            continue
    return rows


def report_to(choice: str | None = None) -> list[str]:
    """TRL's `report_to`: the config's choice; by default TensorBoard when it is installed (its directory comes
    from TENSORBOARD_LOGGING_DIR, which the pipeline and the stage commands set), else nothing."""
    if choice == "none":
        return []
    if choice is not None:
        return [choice]
    return ["tensorboard"] if importlib.util.find_spec("tensorboard") else []


def schedule_args(cfg: Any) -> dict[str, Any]:
    """The schedule and weight decay, always explicit. transformers 5 TrainingArguments defaults to
    lr_scheduler_type="linear" (decay to 0) and reads warmup_steps < 1 as a share of the steps
    (TrainingArguments.get_warmup_steps); "constant" ignores warm-up, so a warm-up needs constant_with_warmup."""
    kind = cfg.lr_scheduler_type
    if kind == "constant" and cfg.warmup_ratio > 0:
        kind = "constant_with_warmup"
    return {"lr_scheduler_type": kind, "warmup_steps": cfg.warmup_ratio, "weight_decay": cfg.weight_decay}


def train_dtype() -> str:
    """bf16 weights where an engine keeps fp32 master weights for the optimizer, fp32 elsewhere.

    `accelerate launch` exports ACCELERATE_USE_DEEPSPEED / ACCELERATE_USE_FSDP
    (accelerate 1.x utils/launch.py). DeepSpeed's bf16 optimizer and accelerate's
    FSDP2 mixed precision keep fp32 master weights, so loading bf16 halves the
    load without losing updates. Plain Trainer/DDP would step AdamW on the bf16
    weights themselves, where a 1e-6 learning rate's updates round away; there
    the weights stay fp32 and TrainingArguments(bf16=True) autocasts.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    engine = any(os.environ.get(k, "").lower() == "true" for k in ("ACCELERATE_USE_DEEPSPEED", "ACCELERATE_USE_FSDP"))
    return "bfloat16" if torch.cuda.is_available() and engine else "float32"


def strict_reload(model: Any) -> bool:
    """Whether `train` reloads a checkpoint's weights itself before `trainer.train`.

    Not under DeepSpeed ZeRO-3: there `from_pretrained` builds partitioned
    parameters (shape [0]) and `load_state_dict` fails, while transformers 5's
    Trainer restores the weights through `deepspeed_load_checkpoint(...,
    load_module_strict=True)` from the engine's own files. Not for peft
    adapters, which keep their own names and load fine.
    """
    return not hasattr(model, "peft_config") and not zero3()


def sharded(trainer: Any) -> bool:
    """Whether the Trainer runs under DeepSpeed or FSDP (its weights then live in an engine it prepares)."""
    return bool(getattr(trainer, "is_deepspeed_enabled", False) or getattr(trainer, "is_fsdp_enabled", False))


def load_checkpoint_weights(model: Any, checkpoint: str | Path) -> None:
    """Load a Trainer checkpoint's weights into `model`, strictly.

    transformers 5.x saves Qwen2.5-VL checkpoints under the legacy key names
    (`model.layers.*`) while the live module uses `model.language_model.*`, and
    `Trainer._load_from_checkpoint` loads with `strict=False`, so a resumed run
    silently continues from the start weights. `from_pretrained` applies the
    key conversion; the strict copy then fails loudly if anything is off.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    fresh = type(model).from_pretrained(str(checkpoint), dtype=next(model.parameters()).dtype)
    with torch.no_grad():
        model.load_state_dict(fresh.state_dict(), strict=True)
    del fresh


def main_process_value(value: Any) -> Any:
    """Rank 0's `value` on every rank. A decision (the step `select` keeps) must be one decision: under ZeRO-3
    or FSDP the restore that follows is collective, and ranks restoring different checkpoints would save a
    model mixed from both. Trainer has set up the process group (gloo on CPU, NCCL on GPU) by now."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    # pickles through the group's backend; under NCCL torch stages the bytes on torch.cuda.current_device(),
    # which accelerate's PartialState has set to each rank's own GPU (torch.cuda.set_device)
    dist.broadcast_object_list(box, src=0)
    return box[0]


def restore_checkpoint(trainer: Any, checkpoint: str | Path) -> None:
    """Put a checkpoint's weights back into the trainer's model after training (a selected step); every rank
    calls it. Each branch is how transformers 5's `Trainer.train` restores a resume's weights, except the plain
    model, which gets the strict reload above (`_load_from_checkpoint` would load it with strict=False)."""
    if getattr(trainer, "is_deepspeed_enabled", False):
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from transformers.integrations.deepspeed import deepspeed_load_checkpoint

        # the engine reads its own files, collectively (Trainer._inner_training_loop's resume)
        deepspeed_load_checkpoint(
            trainer.model_wrapped, str(checkpoint), load_module_strict=not hasattr(trainer.model, "peft_config")
        )
    elif getattr(trainer, "is_fsdp_enabled", False):
        trainer._load_from_checkpoint(str(checkpoint), trainer.model_wrapped)  # FSDP shards (Trainer's resume)
    elif hasattr(trainer.model, "peft_config"):
        trainer._load_from_checkpoint(str(checkpoint))  # the adapter only (peft load_adapter)
    else:
        load_checkpoint_weights(trainer.model, checkpoint)


def train(trainer: Any, resume_from: str | None) -> bool:
    """`trainer.train`, with resumes that really restore the weights.

    Besides the key-name problem above, a checkpoint that already holds the
    whole run (killed after the last checkpoint, before the outputs were
    written) makes transformers neither train nor load anything; then the
    checkpoint's weights and state are loaded here and training is skipped.
    Returns True when training ran.
    """
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import TrainerState

    if resume_from is None:
        trainer.train()
        return True
    if strict_reload(trainer.model):
        load_checkpoint_weights(trainer.model, resume_from)
    state_file = Path(resume_from) / "trainer_state.json"
    state = TrainerState.load_from_json(str(state_file)) if state_file.exists() else None
    target = trainer.args.max_steps if trainer.args.max_steps > 0 else (state.max_steps if state else 0)
    if state is not None and target > 0 and state.global_step >= target:
        if sharded(trainer):
            # Under DeepSpeed or FSDP the weights load only into the prepared engine (transformers 5
            # Trainer._prepare_for_training: deepspeed_load_checkpoint / _load_from_checkpoint(model_wrapped)),
            # so the run is finished through `train`: it prepares, loads, finds every step done and trains
            # none; without it the curve would sample the unprepared start and save_model would fail.
            trainer.train(resume_from_checkpoint=resume_from)
            return False
        if hasattr(trainer.model, "peft_config"):
            trainer._load_from_checkpoint(resume_from)
        trainer.state = state
        return False
    trainer.train(resume_from_checkpoint=resume_from)
    return True


def save_final(trainer: Any, processor: Any, final: Path) -> bool:
    """Save the trained model to `final` atomically from every rank; True on the process that writes.

    Every rank calls `save_model` (DeepSpeed ZeRO-3 gathers the shards
    collectively); only the main process writes, into a temp dir that is
    renamed over `final` once complete.
    """

    main = trainer.accelerator.is_main_process
    tmp = final.with_name(f".{final.name}.partial")
    if main:
        shutil.rmtree(tmp, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    model = trainer.accelerator.unwrap_model(trainer.model)
    if hasattr(model, "merge_and_unload") and zero3():
        _save_merged_from_adapter(trainer, model, tmp, main)
    elif hasattr(model, "merge_and_unload"):
        # a peft model: Trainer.save_model would write the adapter alone, and RL, eval and the export load a
        # plain checkpoint, so the adapter is merged into the weights (peft's merge_and_unload, in place: the
        # run is over). The merge needs whole weights, so the main process does it (ZeRO-3 takes the branch above).
        if main:
            model = model.merge_and_unload()
            model.config.use_cache = True
            model.save_pretrained(str(tmp))
    else:
        trainer.model.config.use_cache = True  # the saved model is for sampling
        trainer.save_model(str(tmp))
    if main:
        processor.save_pretrained(str(tmp))
        old = final.with_name(f".{final.name}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    return main


def zero3() -> bool:
    """DeepSpeed ZeRO-3 is on (transformers' own test, the one its Trainer uses)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled

    return is_deepspeed_zero3_enabled()


def _save_merged_from_adapter(trainer: Any, model: Any, tmp: Path, main: bool) -> None:
    """LoRA under ZeRO-3: each rank holds a shard of every weight, so an in-place merge on the main process
    would merge partitioned (empty) tensors. Every rank saves the adapter (Trainer.save_model gathers the
    shards collectively: accelerator.get_state_dict), then the main process merges it into a fresh CPU copy
    of the base weights (peft PeftModel.from_pretrained + merge_and_unload) and saves that."""
    adapter = tmp.with_name(f"{tmp.name}.adapter")
    trainer.save_model(str(adapter))
    if not main:
        return
    # deferred: heavy imports, kept off the start-up path of the CLI and of config validation
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    base_path = model.peft_config["default"].base_model_name_or_path
    dtype = next(p for p in model.parameters()).dtype
    base = AutoModelForImageTextToText.from_pretrained(base_path, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.config.use_cache = True
    merged.save_pretrained(str(tmp))
    shutil.rmtree(adapter, ignore_errors=True)


def resume_point(out: Path, resume: bool, logs: tuple[str, ...]) -> tuple[Path, str | None]:
    """(checkpoint dir, checkpoint to resume from); a fresh start removes the old run's logs in `logs`."""
    ckpt_dir = Path(out) / "checkpoints"
    resume_from = last_checkpoint(ckpt_dir, resume)
    if resume_from is None:
        state = _process_state()
        if state.is_main_process:
            for name in logs:
                (Path(out) / name).unlink(missing_ok=True)
        state.wait_for_everyone()
    return ckpt_dir, resume_from
