"""`specs coldstart --tune-lr`: one learning-rate rule for every cold-start method, neutral to the hypothesis.

The rule (issue 14): on the `dev` set, the smallest rate in the grid whose
cold start reaches the format-validity target (default 90 %) at T=1 within
one epoch. Rates are tried from the smallest up, each from the base model for
at most one epoch, with dev checked every `check_every` steps and at the end;
the first rate that reaches the target is chosen and the search stops. When
no rate does, the one with the highest validity is chosen, and the record
says so. With `seeds: first` (the default) the rule runs on the first seed
only and every seed trains at its choice, as a rate tuned once on dev is
used across seeds; `each` reruns it per seed. Grid, what each rate reached, the choice and why go to
`tune-lr-<method>/result.json`, which the report shows.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from specs_vl.data.pairs import load_pairs
from specs_vl.evaluation.runner import EvalConfig, evaluate
from specs_vl.models.load import load_vlm
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.recipe.coldstart import ColdstartConfig, make_trainer
from specs_vl.recipe.tune_lr_config import TuneLRSettings
from specs_vl.training.trainer import train
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import say


class DevFormatCheck(TrainerCallback):
    """Format validity on dev at T=1 every `every` steps and at the end; stops training once it reaches `target`."""

    def __init__(self, s: TuneLRSettings, processor: Any, world: Any, seed: int):
        self.s, self.processor, self.world, self.seed = s, processor, world, seed
        self.best: tuple[float, int] = (-1.0, 0)  # (validity, step)
        self.reached_at: int | None = None

    def check(self, model: Any, step: int) -> None:
        if self.reached_at is not None:
            return
        cfg = EvalConfig(
            n=self.s.n,
            samples=self.s.samples,
            temperature=1.0,
            max_new_tokens=self.s.max_new_tokens,
            batch_size=self.s.batch_size,
            seed=self.seed,
            rbf=False,
            suite_args={"world": self.world} if self.world is not None else {},
        )
        _, metrics = evaluate(self.s.suite, cfg, model=model, processor=self.processor)
        valid = metrics["overall"]["format_valid_rate"]
        self.best = max(self.best, (valid, -step))
        if valid >= self.s.target:
            self.reached_at = step

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.s.check_every and state.global_step % self.s.check_every == 0:
            self.check(model, state.global_step)
            control.should_training_stop = self.reached_at is not None

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.check(model, state.global_step)


def tune_lr(
    cfg: ColdstartConfig,
    s: TuneLRSettings,
    base: str | Path,
    pairs_path: str | Path,
    out: Path,
    world: Any = None,
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """Apply the rule for `cfg.method`; writes and returns `out/result.json` ({grid, tried, chosen, reason})."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers.trainer_callback import PrinterCallback

    t0 = time.time()
    pairs = load_pairs(pairs_path)  # validated before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tried = []
    for lr in s.grid:
        one_epoch = cfg.model_copy(update={"learning_rate": lr, "epochs": 1.0, "max_steps": None, "save_steps": 10**9})
        model, processor = load_vlm(base, loading=loading)
        model.config.use_cache = False
        check = DevFormatCheck(s, processor, world, cfg.seed)
        trainer = make_trainer(one_epoch, model, processor, pairs, out / "checkpoints", [check])
        trainer.remove_callback(PrinterCallback)
        train(trainer, None)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
        valid, neg_step = check.best
        tried.append({"lr": lr, "format_valid": valid, "step": -neg_step, "reached": check.reached_at is not None})
        say(f"tune-lr {cfg.method}: lr {lr:g} reached {valid:.0%} format validity on {s.suite} (step {-neg_step})")
        if check.reached_at is not None:
            break
    hit = next((t for t in tried if t["reached"]), None)
    if hit:
        chosen = hit["lr"]
        reason = (
            f"smallest rate in the grid reaching {s.target:.0%} format validity on {s.suite} at T=1 within "
            f"one epoch ({hit['format_valid']:.0%} at step {hit['step']})"
        )
    else:
        best = max(tried, key=lambda t: (t["format_valid"], -t["lr"]))
        chosen = best["lr"]
        reason = (
            f"no rate in the grid reached {s.target:.0%} on {s.suite} within one epoch; the rate with the "
            f"highest validity ({best['format_valid']:.0%}) was taken"
        )
    result = {
        "method": cfg.method,
        "grid": s.grid,
        "target": s.target,
        "suite": s.suite,
        "tried": tried,
        "chosen": chosen,
        "reason": reason,
        "seconds": round(time.time() - t0, 1),
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    say(f"tune-lr {cfg.method}: chose {chosen:g}: {reason}")
    return result


def chosen_lr(out: Path) -> float:
    """The rate a finished tuning run chose (`out/result.json`)."""
    return float(json.loads((Path(out) / "result.json").read_text())["chosen"])
