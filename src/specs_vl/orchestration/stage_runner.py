"""The one stage runner: decide (fresh / resume / complete / refuse) -> body -> record -> model card.

Every way of running a stage goes through `run_stage`: the CLI, the Python
API (`specs_vl.api`), and `specs pipeline` both in-process and under a
launcher (whose child is the CLI). So a stage writes the same `stage.json`
and the same model card whichever way it ran, and the tracking directory is
set in one place.

Under torchrun / `accelerate launch` the decision is taken once, on rank 0
(which alone reads and writes the record), and broadcast: every rank then
returns the saved result together, or raises the same refusal together
(exit 2 on every rank), or runs the body together. A decision taken on rank 0
alone would leave the other ranks loading a model and waiting in the first
collective until the process-group timeout.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from specs_vl.orchestration.card import write_model_card
from specs_vl.orchestration.guard import Mode, begin, finish
from specs_vl.util import errors

Card = tuple[str, str]  # (what the model started from, what it trained on)


def _world() -> int:
    # torchrun and `accelerate launch` export WORLD_SIZE to every rank
    return int(os.environ.get("WORLD_SIZE", "1"))


def _broadcast(decide: Callable[[], tuple[str, Any]]) -> tuple[str, Any]:
    """`decide()` on rank 0, its answer on every rank (accelerate's broadcast_object_list over the process group
    PartialState initialises from the launcher's environment: gloo on CPU, NCCL on GPU)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    # accelerate 1.15: PartialState() on a machine without CUDA stays DistributedType.NO under torchrun (every
    # rank its own main process); cpu=True joins the ranks over gloo, as TrainingArguments(use_cpu=True) does
    state = PartialState(cpu=not torch.cuda.is_available())
    box: list[Any] = [None]
    if state.is_main_process:
        box = [decide()]
    broadcast_object_list(box, from_process=0)
    return box[0]


def _decide(stage: str, out: Path, settings: Any, mode: Mode) -> tuple[str, Any]:
    """("complete", result) | ("run", None) | ("refuse", (error class name, message))."""
    try:
        done = begin(stage, out, settings, mode)
    except errors.SpecsError as e:
        return "refuse", (type(e).__name__, str(e))
    return ("complete", done) if done is not None else ("run", None)


def is_main() -> bool:
    return os.environ.get("RANK", "0") in ("", "0")


def run_stage(
    stage: str,
    out: Path,
    settings: dict[str, Any],
    mode: Mode,
    body: Callable[[], dict[str, Any]],
    card: Card | None = None,
) -> dict[str, Any]:
    """Run one stage in `out` whose result depends on `settings`; returns its result (the saved one when the
    stage is already complete with these settings)."""
    out = Path(out)
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "tensorboard")  # TRL/transformers TensorBoard writer dir
    created = next((p for p in reversed([out, *out.parents]) if not p.exists()), None)
    if _world() > 1:
        kind, value = _broadcast(lambda: _decide(stage, out, settings, mode))
    else:
        kind, value = _decide(stage, out, settings, mode)
    if kind == "refuse":
        name, message = value  # the same error class on every rank, so every rank exits 2 with the same line
        cls = getattr(errors, name, None)
        raise (cls if cls in (errors.ConfigError, errors.ModelError, errors.TrainingError) else errors.ConfigError)(
            message
        )
    if kind == "complete":
        return value
    try:
        result = body()
    except BaseException:
        # bad input fails before the stage writes anything: leave no directory holding only our record
        if (
            is_main()
            and created is not None
            and created.exists()
            and all(f.name == "stage.json" for f in created.rglob("*") if f.is_file())
        ):
            shutil.rmtree(created)
        raise
    if not is_main():
        return result
    h = finish(out)
    if card is not None and (out / "model").is_dir():
        write_model_card(out / "model", stage.split("-")[0], card[0], card[1], h, result, settings)
    return result
