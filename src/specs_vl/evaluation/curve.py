"""Evaluate ID and OOD while a model trains: the GF curve of a cold start, the eval curve of RL.

Psi is one number per held-out set, the same definition for every method (default:
strict success, i.e. the right answer in the format the prompt asked for), sampled
at T=1.0 with 4 responses a prompt by default. The sets are named in the config
(`coldstart.curve_id` / `curve_ood`, `rl.eval_id` / `eval_ood`): the world's by
default, or the user's own files as `data:PATH`. Psi_OOD is the equal-weight mean
over the OOD sets.
Gains are taken against step 0 and GF is `generalization_factor` of them, all
in percentage points so the figures read like the paper's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from specs_vl.evaluation.metrics import generalization_factor
from specs_vl.evaluation.runner import EvalConfig, aggregate, evaluate
from specs_vl.evaluation.suites import get_suite
from specs_vl.util.atomic import atomic_write
from specs_vl.util.meta import model_fingerprint
from specs_vl.world.dataset import OOD_SETS

PSI_METRICS = {"strict": "strict", "accuracy": "correct", "format": "valid"}  # the per-sample record key Psi means
RAW_KEYS = ("accuracy", "format_valid_rate", "strict_success", "mean_length")


@dataclass
class CurveSettings:
    """Which held-out sets a curve evaluates and how it samples them (issue 14: T=1.0, 4 samples a prompt)."""

    every: int = 10  # steps between evaluations; 0 = only at the start and the end
    psi: str = "strict"
    id_n: int | None = 120  # prompts of the ID set; None = all
    ood_n: int | None = 200  # prompts of each OOD set; None = all
    temperature: float = 1.0
    samples: int = 4  # responses per prompt; Psi of a prompt is the mean over them
    max_new_tokens: int = 64
    batch_size: int = 64
    seed: int = 0
    id_set: str = "world-id"  # a suite name or "data:PATH" (evaluation/suites.py)
    ood_sets: tuple[str, ...] = ("world-ood",)  # Psi_OOD is their equal-weight mean
    # the OOD parts whose requirement or format differs from training, as the paper's OOD sets do (the world's
    # ood_domain and ood_surface keep the training instruction): GF_changed reads only these
    ood_changed: tuple[str, ...] = ("ood_requirement",)

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ood_sets": list(self.ood_sets),
            "ood_changed": list(self.ood_changed),
            "sets": {self.id_set: "id", **{name: "ood" for name in self.ood_sets}},
        }


def _per_prompt(records: list[dict[str, Any]], key: str) -> list[float]:
    """Mean of `key` over each prompt's samples, in the order the prompts were asked."""
    by_id: dict[str, list[float]] = {}
    for r in records:
        by_id.setdefault(r["id"], []).append(float(r[key]))
    return [sum(v) / len(v) for v in by_id.values()]


def _rank_world() -> tuple[int, int]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def sharded_evaluate(model: Any, processor: Any, suite_name: str, cfg: EvalConfig) -> tuple[list, dict]:
    """`evaluate` with the prompts split over the ranks, every rank generating, results gathered.

    Under DeepSpeed ZeRO-3 and FSDP, transformers 5's `generate` is collective
    (it sets `synced_gpus` and every forward gathers the shards), so every
    rank must call it, the same number of times: each shard is padded to
    ceil(n / world) prompts with copies of the last, dropped after the gather.
    Every rank returns the same records (the whole suite's, in suite order)
    and metrics; `metrics["prompts_per_rank"]` says what each rank sampled.
    """
    rank, world = _rank_world()
    if world == 1:
        records, metrics = evaluate(suite_name, cfg, model=model, processor=processor)
        return records, {**metrics, "prompts_per_rank": [metrics["overall"]["n_prompts"]]}
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch.distributed as dist

    examples = get_suite(suite_name).load(n=cfg.n, **cfg.suite_args)
    size = -(-len(examples) // world)
    mine = examples[rank * size : (rank + 1) * size]
    real = len(mine)
    mine = mine + [examples[-1]] * (size - real)
    records, _ = evaluate(suite_name, cfg, model=model, processor=processor, examples=mine, first_row=rank * size)
    records = records[: real * cfg.samples]  # score_responses: one record per (prompt, sample), in order
    gathered: list[Any] = [None] * world
    dist.all_gather_object(gathered, (real, records))  # gloo and NCCL both carry pickled objects
    records = [r for _, recs in gathered for r in recs]
    metrics = aggregate(records, cfg.ks)
    metrics["suite"] = suite_name
    metrics["prompts_per_rank"] = [n for n, _ in gathered]
    return records, metrics


def psi_point(model: Any, processor: Any, s: CurveSettings, world: Any, step: int) -> dict[str, Any]:
    """Psi (percent) of every set, Psi_ID and Psi_OOD (equal-weight mean over the OOD sets), for the model now.

    Every rank of a multi-process run calls this; the prompts are shared out (`sharded_evaluate`).

    `sets[NAME].per_prompt` holds Psi (percent) and the format-valid rate (0-1) of each prompt, in a fixed
    prompt order, so reports can bootstrap over prompts. `id`/`ood` keep the raw metrics (OOD: mean over sets).
    """
    if s.psi not in PSI_METRICS:
        raise ValueError(f"psi must be one of {sorted(PSI_METRICS)}, got {s.psi!r}")
    point: dict[str, Any] = {"step": step, "sets": {}}
    raw: dict[str, list[dict[str, Any]]] = {"id": [], "ood": []}
    for role, name, n in [("id", s.id_set, s.id_n)] + [("ood", o, s.ood_n) for o in s.ood_sets]:
        cfg = EvalConfig(
            n=n,
            samples=s.samples,
            temperature=s.temperature,
            max_new_tokens=s.max_new_tokens,
            batch_size=s.batch_size,
            seed=s.seed,
            rbf=False,
            suite_args={"world": world} if world else {},
        )
        records, metrics = sharded_evaluate(model, processor, name, cfg)
        point.setdefault("prompts_per_rank", {})[name] = metrics["prompts_per_rank"]
        psi = [100.0 * v for v in _per_prompt(records, PSI_METRICS[s.psi])]
        valid = _per_prompt(records, "valid")
        point["sets"][name] = {
            "role": role,
            "psi": sum(psi) / len(psi),
            "format_valid": sum(valid) / len(valid),
            "n_prompts": len(psi),
            "per_prompt": {"psi": psi, "format_valid": valid},
        }
        raw[role].append({k: metrics["overall"][k] for k in RAW_KEYS})
        if role == "ood":
            point.setdefault("ood_parts", {}).update(_parts(records, PSI_METRICS[s.psi]))
    oods = [v["psi"] for v in point["sets"].values() if v["role"] == "ood"]
    point["psi_id"] = point["sets"][s.id_set]["psi"]
    point["psi_ood"] = sum(oods) / len(oods)
    point["id"] = raw["id"][0]
    point["ood"] = {k: sum(r[k] for r in raw["ood"]) / len(raw["ood"]) for k in RAW_KEYS}
    return point


def _parts(records: list[dict[str, Any]], key: str) -> dict[str, float]:
    """Psi (percent) of each world OOD set inside an OOD suite (world-ood interleaves three), read from the
    example ids (`<set>-<seed>-<index>`, world/dataset.py); {} for other data."""
    by_part: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        part = str(r["id"]).split("-")[0]
        if part in OOD_SETS:
            by_part.setdefault(part, []).append(r)
    return {part: 100.0 * sum(_per_prompt(rs, key)) / len(_per_prompt(rs, key)) for part, rs in by_part.items()}


def _gf(g_id: float, g_ood: float) -> float | None:
    return generalization_factor(g_id, g_ood) if g_id > 0 and g_ood > 0 else None


def with_gains(points: list[dict[str, Any]], changed: tuple[str, ...] = ("ood_requirement",)) -> list[dict[str, Any]]:
    """Add G_ID, G_OOD and GF to every point, against the step-0 point; GF is null unless both gains are > 0.

    Where the points hold the OOD parts `changed` names, also Psi_OOD, G_OOD and GF over those parts alone
    (`psi_ood_changed`, `g_ood_changed`, `gf_changed`): how much of G_OOD survives a changed requirement."""
    if not points:
        return points
    first = min(points, key=lambda p: p["step"])
    for p in points:
        p["g_id"] = p["psi_id"] - first["psi_id"]
        p["g_ood"] = p["psi_ood"] - first["psi_ood"]
        p["gf"] = _gf(p["g_id"], p["g_ood"])
        parts, first_parts = p.get("ood_parts") or {}, first.get("ood_parts") or {}
        if changed and all(c in parts and c in first_parts for c in changed):
            p["psi_ood_changed"] = sum(parts[c] for c in changed) / len(changed)
            p["g_ood_changed"] = p["psi_ood_changed"] - sum(first_parts[c] for c in changed) / len(changed)
            p["gf_changed"] = _gf(p["g_id"], p["g_ood_changed"])
    return points


def start_point_cache(
    cache_dir: Path, start: str | Path, settings: CurveSettings, world: Any, variant: Any = None
) -> Path | None:
    """Where the step-0 point of a curve from `start` is kept, so that runs from one model evaluate it once.

    The three cold starts of a seed start from the same base, as do rl-base and rl-random: the same weights,
    prompts, seed and sampling give the same point, so it is computed once and read back. The key is the start
    model's fingerprint (file names, sizes and bytes at both ends), every setting but `every`, the world, and
    `variant` (what else changes the step-0 forward, e.g. LoRA). None (no cache) for a hub id, and with more
    than one process: the decision to evaluate must be the same on every rank, since generation is collective
    under ZeRO-3/FSDP, and a file that one rank sees first must not split them.
    """
    fingerprint = model_fingerprint(start)
    if fingerprint is None or _rank_world()[1] > 1:
        return None
    keyed = {k: v for k, v in settings.as_json().items() if k != "every"}
    world_json = world.model_dump(mode="json") if world is not None else None
    blob = json.dumps([fingerprint, keyed, world_json, variant], sort_keys=True, default=str)
    return Path(cache_dir) / f"curve-start-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.json"


def read_curve(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text()) if Path(path).exists() else {}


class CurveCallback(TrainerCallback):
    """Evaluates at step 0, every `every` steps and at the end; rewrites `path` after each point.

    On resume the points up to the resumed step are kept and later ones are
    redone, so a killed run's curve ends like an unbroken one. Every rank
    evaluates its share of the prompts (generation is collective under ZeRO-3
    and FSDP); the main process writes the file.
    """

    def __init__(
        self,
        path: Path,
        settings: CurveSettings,
        processor: Any,
        world: Any = None,
        meta: dict[str, Any] | None = None,
        start_cache: Path | None = None,
    ):
        self.path, self.s, self.processor, self.world = Path(path), settings, processor, world
        self.meta = meta or {}
        self.points: list[dict[str, Any]] = []
        self.start_cache = start_cache  # start_point_cache(): the step-0 point, shared by runs from one model

    def _record(self, model: Any, step: int) -> None:
        if any(p["step"] == step for p in self.points):
            return
        cached = self.start_cache if step == 0 else None
        if cached is not None and cached.exists():
            point = json.loads(cached.read_text())
        else:
            point = psi_point(model, self.processor, self.s, self.world, step)
            if cached is not None:
                atomic_write(cached, json.dumps(point))
        self.points.append(point)
        self.points.sort(key=lambda p: p["step"])
        doc = {
            **self.meta,
            "psi": self.s.psi,
            "psi_metric": PSI_METRICS[self.s.psi],
            "every": self.s.every,
            "settings": self.s.as_json(),
            "points": with_gains(self.points, self.s.ood_changed),
        }
        if _rank_world()[0] == 0:
            atomic_write(self.path, json.dumps(doc, indent=2))

    def complete(self, model: Any, step: int) -> None:
        """Finish the curve of a run whose training was already done (restored, not trained)."""
        self.points = read_curve(self.path).get("points", [])
        self._record(model, step)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        old = read_curve(self.path).get("points", [])
        self.points = [p for p in old if p["step"] <= state.global_step]
        step = state.global_step
        if step == 0 or (self.s.every and step % self.s.every == 0):
            self._record(model, step)  # skipped when the point survived the interruption

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.s.every and state.global_step % self.s.every == 0:
            self._record(model, state.global_step)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self._record(model, state.global_step)
