"""`specs tune-rl`: the GRPO settings rule, fixed before any test set is read, judged on dev only.

The grid is learning rate x prompts per optimiser step x a frozen vision
tower x LoRA rank (0: every weight trains). Every setting trains GRPO from the same start for the same number of
rollout batches, once with the real reward and once with the random-reward
control (`rl.reward: random`: the same settings, the same reward
distribution, no information), and is scored on `world-dev`.

The rule, written down before it is run:
- a setting qualifies when its end-of-run dev accuracy beats the start's and
  its own control's, each by at least `margin`;
- of those, the highest dev accuracy wins; settings within `tie` of the best
  go to the cheaper one (fewer rollout prompts, then a frozen tower, then
  the lower learning rate);
- when none qualifies, the config's own settings stay, and the result says
  that no setting on the grid learned.
The grid, every score and the choice go to `result.json` and the report.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.recipe.rl import RLConfig, run_rl
from specs_vl.recipe.tune_rl_config import TuneRLSettings
from specs_vl.training.lora import LoraSettings
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import say


def setting_config(
    rl: RLConfig, s: TuneRLSettings, lr: float, prompts: int, frozen: bool, reward: str, lora_rank: int = 0
) -> RLConfig:
    """The RL config of one grid point: `prompts` per optimiser step, `mini_batches` of them per rollout batch."""
    return rl.model_copy(
        update={
            "lora": LoraSettings(r=lora_rank, alpha=s.lora_alpha) if lora_rank else None,
            "learning_rate": lr,
            "mini_batch_prompts": prompts,
            "prompts_per_step": prompts * s.mini_batches,
            "rollout_batch_size": None,
            "freeze_vision_tower": frozen,
            "reward": reward,
            "steps": s.steps,
            "eval_every": 0,
            "eval_id": s.suite,
            "eval_id_n": s.n,
            "eval_ood": [s.suite],
            "eval_ood_n": 1,
            "eval_samples": s.samples,
        }
    )


def choose(rows: list[dict[str, Any]], start: float, s: TuneRLSettings) -> dict[str, Any] | None:
    """The rule above, on rows {"lr", "prompts", "frozen", "accuracy", "control"}; None when none qualifies."""
    ok = [r for r in rows if r["accuracy"] >= start + s.margin and r["accuracy"] >= r["control"] + s.margin]
    if not ok:
        return None
    best = max(r["accuracy"] for r in ok)
    tied = [r for r in ok if r["accuracy"] >= best - s.tie]
    return min(tied, key=lambda r: (r["prompts"], not r["frozen"], r["lr"]))


def _dev_accuracy(out: Path, which: int) -> float:
    points = json.loads((out / "eval_curve.json").read_text())["points"]
    return float(points[which]["id"]["accuracy"])


def tune_rl(
    rl: RLConfig,
    s: TuneRLSettings,
    start: str | Path,
    out: Path,
    world: Any = None,
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """Run the grid from `start` into `out/<setting>/{specs,random}`; writes and returns `out/result.json`."""
    out = Path(out)
    t0 = time.time()
    rows, start_acc = [], None
    grid = [
        (lr, p, f, r)
        for r in s.lora_ranks
        for f in s.freeze_vision_tower
        for p in s.prompts_per_update
        for lr in s.learning_rates
    ]
    for i, (lr, prompts, frozen, rank) in enumerate(grid):
        name = f"lr{lr:g}-p{prompts}-{'frozen' if frozen else 'full'}" + (f"-lora{rank}" if rank else "")
        scores = {}
        for reward in ("specs", "random"):
            d = out / name / reward
            if not (d / "result.json").exists():
                say(f"tune-rl {i + 1}/{len(grid)}: {name} ({reward} reward)")
                cfg = setting_config(rl, s, lr, prompts, frozen, reward, rank)
                run_rl(cfg, start, d, world, label=f"{name} {reward}", loading=loading)
            scores[reward] = _dev_accuracy(d, -1)
            start_acc = _dev_accuracy(d, 0) if start_acc is None else start_acc
        rows.append(
            {
                "setting": name,
                "lr": lr,
                "prompts": prompts,
                "frozen": frozen,
                "lora_rank": rank,
                "accuracy": scores["specs"],
                "control": scores["random"],
                "gain": scores["specs"] - start_acc,
                "gain_over_control": scores["specs"] - scores["random"],
            }
        )
    picked = choose(rows, start_acc, s)
    result = {
        "rule": s.model_dump(mode="json"),
        "start": str(start),
        "start_accuracy": start_acc,
        "grid": rows,
        "chosen": picked,
        "seconds": round(time.time() - t0, 1),
        "note": None
        if picked
        else "No setting beat both the start and its control by the margin; the config's settings stay.",
    }
    atomic_write(out / "result.json", json.dumps(result, indent=2))
    if picked:
        say(
            f"tune-rl: {picked['setting']} (dev accuracy {picked['accuracy']:.3f}, start {start_acc:.3f}, "
            f"control {picked['control']:.3f})"
        )
    else:
        say(f"tune-rl: no setting qualified (start {start_acc:.3f}); the config's settings stay")
    return result
