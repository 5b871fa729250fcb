"""`specs pipeline`: every stage of the recipe in order, resumable, skipping what is done.

    base -> [tune-rl] -> zero -> distill -> coldstart-<m> (each method) -> rl-<m>, rl-base [, rl-random]
         -> eval-<model> -> report

With `recipe: rl-only` only RL from the base (and its random-reward control) runs: the RL-only study.

Each stage has a hash of its own config section and of the hashes of the
stages it reads from, recorded in `manifest.json` when it completes. A stage
whose hash matches and whose output is there is skipped; one whose hash
changed is cleared and rerun, and so (through the chained hashes) is
everything downstream. An interrupted training stage resumes from its
checkpoint, because its output dir is kept while its hash still matches.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from specs_vl.config import RunConfig
from specs_vl.models.load import check_vlm_dir
from specs_vl.orchestration import stages as api
from specs_vl.orchestration.guard import config_hash
from specs_vl.orchestration.stage_plan import RESUME, plan
from specs_vl.report import write_report
from specs_vl.util.atomic import atomic_dir, atomic_write
from specs_vl.util.progress import hush_libraries, log_to, say
from specs_vl.util.yamlio import public
from specs_vl.world.base_model import build_base_model

_hash = config_hash  # one hash for the pipeline and the stage commands (orchestration/guard.py)


class Manifest:
    """`manifest.json`: what ran, with which config hash, how long it took. Rewritten atomically."""

    def __init__(self, path: Path, name: str, seeds: list[int]):
        self.path = path
        old = json.loads(path.read_text()) if path.exists() else {}
        self.data = {"name": name, "seeds": seeds, "stages": old.get("stages", {})}

    def done(self, key: str, h: str, out: Path) -> bool:
        rec = self.data["stages"].get(key, {})
        return rec.get("hash") == h and rec.get("status") == "complete" and out.exists()

    def stale(self, key: str, h: str) -> bool:
        rec = self.data["stages"].get(key)
        return rec is not None and rec.get("hash") != h

    def forget(self, keys: list[str]) -> None:
        if keys:
            say(f"manifest: {', '.join(keys)} no longer in the config's plan; dropped (outputs kept)")
            for k in keys:
                del self.data["stages"][k]
            atomic_write(self.path, json.dumps(self.data, indent=2))

    def mark(self, key: str, **record: Any) -> None:
        self.data["stages"][key] = record
        atomic_write(self.path, json.dumps(self.data, indent=2))


def seed_config(cfg: RunConfig, seed: int) -> RunConfig:
    """The run config with every stage's training seed set to `seed` (the world stays the same)."""
    update = {s: getattr(cfg, s).model_copy(update={"seed": seed}) for s in ("zero", "distill", "coldstart", "rl")}
    return cfg.model_copy(update=update)


def _tune_rl(
    cfg: RunConfig, run_dir: Path, manifest: Manifest, base_path: Callable[[], str], base_hash: str
) -> tuple[RunConfig, str]:
    """Run (or read) tune-rl; the run config with its choice in `rl` (unchanged when none qualified)."""
    settings = [cfg.tune_rl.model_dump(mode="json"), cfg.rl.model_dump(mode="json")]
    h = _hash(settings, [base_hash])
    out = run_dir / "tune-rl"
    if manifest.stale("tune-rl", h):
        say("tune-rl: config changed since the last run; starting it over")
        shutil.rmtree(out, ignore_errors=True)
    if not manifest.done("tune-rl", h, out / "result.json"):
        manifest.mark("tune-rl", hash=h, status="running", started=_now())
        t = time.time()
        api.run_tune_rl(cfg, out=out, model=base_path(), resume=RESUME)
        manifest.mark("tune-rl", hash=h, status="complete", seconds=round(time.time() - t, 1), finished=_now())
    chosen = json.loads((out / "result.json").read_text()).get("chosen")
    if chosen is None:
        return cfg, h
    rl = cfg.rl.model_copy(
        update={
            "learning_rate": chosen["lr"],
            "mini_batch_prompts": chosen["prompts"],
            "prompts_per_step": chosen["prompts"] * cfg.tune_rl.mini_batches,
            "rollout_batch_size": None,
            "freeze_vision_tower": chosen["frozen"],
        }
    )
    return cfg.model_copy(update={"rl": rl}), h


def run_pipeline(
    cfg: RunConfig, runs_root: Path = Path("runs"), seeds: list[int] | None = None, report: bool = True
) -> Path:
    """Run (or finish) the whole recipe under `runs_root/cfg.name`; returns the run directory."""

    hush_libraries()
    seeds = seeds or list(cfg.seeds)
    run_dir = Path(runs_root) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    log_to(run_dir / "logs" / "pipeline.log")
    atomic_write(run_dir / "config.yaml", yaml.safe_dump(public(cfg.model_dump(mode="json")), sort_keys=False))
    manifest = Manifest(run_dir / "manifest.json", cfg.name, seeds)
    swept = sweep_temp_files(run_dir)
    if swept:
        say(f"removed {swept} temp file(s) left by an interrupted run")
    t_all = time.time()

    base_settings = {
        "base_model": cfg.base_model,
        "world": cfg.world.model_dump(mode="json"),
        "base": cfg.base.model_dump(mode="json") if cfg.base_model is None else None,
    }
    hashes = {"base": _hash(base_settings, [])}
    base_cache: list[str] = []

    def base_path() -> str:
        if not base_cache:
            t = time.time()
            if cfg.base_model:
                if Path(cfg.base_model).exists():
                    check_vlm_dir(cfg.base_model)
                base_cache.append(cfg.base_model)
            else:
                base_cache.append(str(build_base_model(cfg.world, cfg.base)))
            if manifest.data["stages"].get("base", {}).get("hash") != hashes["base"]:
                manifest.mark(
                    "base",
                    hash=hashes["base"],
                    status="complete",
                    seconds=round(time.time() - t, 1),
                    finished=_now(),
                    path=base_cache[0],
                )
        return base_cache[0]

    base_path()  # fail early on a bad base, and time it as its own stage
    if cfg.tune_rl is not None:  # the GRPO settings rule, once for the run, on dev; every seed's RL trains at it
        cfg, hashes["tune-rl"] = _tune_rl(cfg, run_dir, manifest, base_path, hashes["base"])
    tuned: dict[str, Path] = {}  # tune_lr.seeds == "first": the first seed's tune-lr dirs, reused by the rest
    evaluated: dict[tuple[str, str], Path] = {}  # (eval stage, hash) -> its output: the base's eval is seedless
    planned = {"base", "tune-rl", "report"}
    for seed in seeds:
        scfg = seed_config(cfg, seed)
        seed_dir = run_dir if len(seeds) == 1 else run_dir / f"seed-{seed}"
        prefix = "" if len(seeds) == 1 else f"seed-{seed}/"
        local = dict(hashes)
        for st in plan(scfg, seed_dir, base_path, tuned):
            h = _hash(st.settings, [local[x] for x in st.deps])
            local[st.name] = h
            if st.name.startswith("tune-lr-") and cfg.tune_lr is not None and cfg.tune_lr.seeds == "first":
                hashes[st.name], tuned[st.name[8:]] = h, st.out.parent
            key = prefix + st.name
            planned.add(key)
            same = evaluated.get((st.name, h)) if st.name.startswith("eval-") else None
            if manifest.done(key, h, st.out):
                say(f"{key}: complete, skipped")
            else:
                if manifest.stale(key, h):
                    say(f"{key}: config changed since the last run; starting it over")
                    shutil.rmtree(st.out.parent, ignore_errors=True)
                manifest.mark(key, hash=h, status="running", started=_now())
                t = time.time()
                if same is not None:  # the same model, settings and seed (the hash says so): copy, not redo
                    with atomic_dir(st.out.parent) as tmp:
                        shutil.copytree(same, tmp, dirs_exist_ok=True)
                    say(f"{key}: the same model and eval settings as {same}; copied")
                else:
                    st.run()
                manifest.mark(key, hash=h, status="complete", seconds=round(time.time() - t, 1), finished=_now())
            if st.name.startswith("eval-"):
                evaluated.setdefault((st.name, h), st.out.parent)
    manifest.forget(_unplanned(manifest, planned, seeds))
    if report:
        t = time.time()
        index = write_report(run_dir)
        manifest.mark("report", status="complete", seconds=round(time.time() - t, 1), finished=_now(), hash="-")
        say(f"report: {index}")
    say(f"pipeline {cfg.name}: done in {time.time() - t_all:.0f}s; run dir {run_dir}")
    return run_dir


def _unplanned(manifest: Manifest, planned: set[str], seeds: list[int]) -> list[str]:
    """Records of this run's seeds whose stage the config no longer plans (a run killed under an older
    config): left in, the report's stage table would show them "running" forever. Other seeds' stay."""
    mine = [f"seed-{s}/" for s in seeds] if len(seeds) > 1 else [""]
    return [
        k
        for k in manifest.data["stages"]
        if k not in planned and any(k.startswith(p) and "/" not in k[len(p) :] for p in mine)
    ]


def sweep_temp_files(run_dir: Path) -> int:
    """Remove what a killed run left half-written: atomic writes' hidden temp files and dirs.

    Every temp path our writers make is hidden and named `.<target>.<suffix>`
    (atomic.py, stages.common.save_final); a run directory holds no other
    hidden files, and completed outputs were renamed into place.
    """
    n = 0
    for p in sorted(Path(run_dir).rglob(".*.*"), key=lambda p: len(p.parts), reverse=True):
        if not p.exists() or "checkpoints" in p.parts:
            continue
        shutil.rmtree(p) if p.is_dir() else p.unlink()
        n += 1
    return n


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
