"""`specs pipeline`: every stage of the recipe in order, resumable, skipping what is done.

    base -> [tune-rl] -> zero -> distill -> coldstart-<m> (each method) -> rl-<m>, rl-base [, rl-random]
         -> eval-<model> -> report

With `methods: []` only RL from the base (and its random-reward control) runs: the RL-only study.

Each stage has a hash of its own config section and of the hashes of the
stages it reads from, recorded in `manifest.json` when it completes. A stage
whose hash matches and whose output is there is skipped; one whose hash
changed is cleared and rerun, and so (through the chained hashes) is
everything downstream. An interrupted training stage resumes from its
checkpoint, because its output dir is kept while its hash still matches.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from specs_vl import api
from specs_vl.config import RunConfig, apply_run_settings
from specs_vl.evaluation.runner import (
    EvalConfig,
    aggregate,
    evaluate_model,
    score_responses,
    write_outputs,
)
from specs_vl.evaluation.suites import get_suite, suite_dirname
from specs_vl.models.load import check_vlm_dir, load_for_inference
from specs_vl.models.sampling import SampleConfig
from specs_vl.models.vllm import VLLMEngine, resolve_backend
from specs_vl.report import write_report
from specs_vl.stages.guard import config_hash
from specs_vl.stages.launch import launch_stage
from specs_vl.stages.tune_lr import chosen_lr, tune_lr
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import hush_libraries, log_to, say
from specs_vl.world.base_model import build_base_model


@dataclass
class Stage:
    name: str  # e.g. "zero", "coldstart-dpo-sft", "eval-rl-base"
    out: Path  # what must exist for the stage to count as done
    settings: Any  # JSON-able: what the stage's result depends on
    deps: list[str]
    run: Callable[[], Any] = field(repr=False)


# The manifest decides what is stale (and clears it) before a stage runs, so the stage runner is told to continue
# what is there; in-process and launched alike (the launched child gets --resume), one decision, one record.
RESUME = "resume"
_hash = config_hash  # one hash for the pipeline and the stage commands (stages/guard.py)


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

    def mark(self, key: str, **record: Any) -> None:
        self.data["stages"][key] = record
        atomic_write(self.path, json.dumps(self.data, indent=2))


def seed_config(cfg: RunConfig, seed: int) -> RunConfig:
    """The run config with every stage's training seed set to `seed` (the world stays the same)."""
    update = {s: getattr(cfg, s).model_copy(update={"seed": seed}) for s in ("zero", "distill", "coldstart", "rl")}
    return cfg.model_copy(update=update)


def plan(cfg: RunConfig, seed_dir: Path, base_path: Callable[[], str],
         tuned: dict[str, Path] | None = None) -> list[Stage]:
    """The stages of one seed, in order. `base_path` builds (or finds) the base model lazily; `tuned` maps a
    method to an earlier seed's tune-lr dir whose choice this seed reuses (`tune_lr.seeds: first`)."""

    d = seed_dir
    train = _trainer_runner(cfg, d)
    stages = [
        Stage("zero", d / "zero" / "result.json", cfg.zero.model_dump(mode="json"), ["base"],
              lambda: train("zero", lambda: api.run_zero(cfg, out=d / "zero", model=base_path(), resume=RESUME),
                            lambda: ["zero", "--base", base_path(), "--out", str(d / "zero")])),
        Stage("distill", d / "pairs" / "stats.json", cfg.distill.model_dump(mode="json"), ["base", "zero"],
              lambda: api.run_distill(cfg, out=d / "pairs", model=base_path(), zero=d / "zero" / "model",
                                      resume=RESUME)),
    ]
    models = {"base": None, "zero": d / "zero" / "model"}
    if not cfg.methods:  # no cold start to compare: no pairs are needed, so neither zero nor distill runs
        stages, models = [], {"base": None}
    for m in cfg.methods:
        ccfg = cfg.coldstart.model_copy(update={"method": m})
        deps, tdir, out = ["base", "distill"], d / f"tune-lr-{m}", d / f"coldstart-{m}"
        if cfg.tune_lr is not None and tuned and m in tuned:  # the first seed's choice; its hash is a dep
            tdir, deps = tuned[m], ["base", "distill", f"tune-lr-{m}"]
        elif cfg.tune_lr is not None:  # the learning-rate rule first; the cold start then trains at its choice
            stages.append(Stage(f"tune-lr-{m}", tdir / "result.json", [cfg.tune_lr.model_dump(mode="json"),
                                                                       ccfg.model_dump(mode="json")], deps,
                                lambda c=ccfg, t=tdir: tune_lr(c, cfg.tune_lr, base_path(), d / "pairs", t, cfg.world)))
            deps = ["base", f"tune-lr-{m}"]

        def run_cs(c: Any = ccfg, m: str = m, t: Path = tdir, out: Path = out) -> Any:
            if cfg.tune_lr is not None:
                c = c.model_copy(update={"learning_rate": chosen_lr(t)})
            return train(f"coldstart-{m}", lambda: api.run_coldstart(cfg.model_copy(update={"coldstart": c}), out=out,
                                                                     model=base_path(), pairs=d / "pairs", method=m,
                                                                     resume=RESUME),
                         lambda: ["coldstart", "--method", m, "--model", base_path(), "--pairs", str(d / "pairs"),
                                  "--out", str(out), f"coldstart.learning_rate={c.learning_rate}"])

        stages.append(Stage(f"coldstart-{m}", out / "result.json", ccfg.model_dump(mode="json"), deps, run_cs))
        models[f"coldstart-{m}"] = out / "model"
    rl_methods = cfg.methods if cfg.rl_methods is None else cfg.rl_methods
    starts = [(m, f"coldstart-{m}") for m in rl_methods] + ([("base", "base")] if cfg.rl_from_base else [])
    starts += [("random", "base")] if cfg.rl_control else []  # the same RL with an uninformative reward
    for label, dep in starts:
        start = (lambda: base_path()) if dep == "base" else (lambda p=d / dep / "model": str(p))
        out = d / f"rl-{label}"
        rcfg = cfg if label != "random" else cfg.model_copy(update={"rl": cfg.rl.model_copy(update={"reward": "random"})})
        extra = [] if label != "random" else ["rl.reward=random"]
        stages.append(Stage(
            f"rl-{label}", out / "result.json", rcfg.rl.model_dump(mode="json"),
            [dep, "tune-rl"] if cfg.tune_rl is not None else [dep],
            lambda s=start, lab=label, out=out, rc=rcfg, extra=extra: train(
                f"rl-{lab}", lambda: api.run_rl(rc, out=out, model=s(), label=f"rl {lab}", resume=RESUME),
                lambda: ["rl", "--from", s(), "--label", f"rl {lab}", "--out", str(out), *extra])))
        models[f"rl-{label}"] = out / "model"
    for model, path in models.items():
        dep = {"zero": "zero"}.get(model, model)
        stages.append(Stage(f"eval-{model}", d / "eval" / model / "done.json", cfg.eval.model_dump(mode="json"),
                            [dep], lambda model=model, path=path: evaluate_stage(cfg, path or base_path(),
                                                                                 d / "eval" / model)))
    return stages


def _tune_rl(cfg: RunConfig, run_dir: Path, manifest: Manifest, base_path: Callable[[], str],
             base_hash: str) -> tuple[RunConfig, str]:
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
    rl = cfg.rl.model_copy(update={"learning_rate": chosen["lr"], "mini_batch_prompts": chosen["prompts"],
                                   "prompts_per_step": chosen["prompts"] * cfg.tune_rl.mini_batches,
                                   "rollout_batch_size": None, "freeze_vision_tower": chosen["frozen"]})
    return cfg.model_copy(update={"rl": rl}), h


def _trainer_runner(cfg: RunConfig, seed_dir: Path) -> Callable[[str, Callable[[], Any], Callable[[], list[str]]], Any]:
    """Runs a training stage in this process, or, with a `launcher`, under `accelerate launch`.

    The launched `specs` command reads this seed's config from
    `seed_dir/launch/config.yaml` (secrets masked: training stages read none).
    """

    def run(name: str, here: Callable[[], Any], argv: Callable[[], list[str]]) -> Any:
        if not cfg.launcher.active:
            return here()
        path = seed_dir / "launch" / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, yaml.safe_dump(_public(cfg.model_dump(mode="json")), sort_keys=False))
        stage, *rest = argv()
        return launch_stage(cfg.launcher, [stage, "-q", "-c", str(path), "--resume", *rest], name)

    return run


def evaluate_stage(cfg: RunConfig, model_path: str | Path, out: Path) -> None:
    """Every configured suite for one model: `out/<suite>/{metrics.json,generations.jsonl}`, then `done.json`."""

    e = cfg.eval
    backend = resolve_backend(e.backend, f"eval {out.name}")
    model, processor = load_for_inference(model_path) if backend == "hf" else (None, None)
    engine = VLLMEngine(model_path, e, seed=e.seed) if backend == "vllm" else None  # one engine for all suites
    summary = {}
    with engine or contextlib.nullcontext():
        _evaluate_suites(cfg, model_path, out, backend, model, processor, engine, summary)
    atomic_write(out / "done.json", json.dumps({"model": str(model_path), "suites": summary}, indent=2))


def _evaluate_suites(cfg: RunConfig, model_path: str | Path, out: Path, backend: str, model: Any, processor: Any,
                     engine: Any, summary: dict[str, Any]) -> None:
    e = cfg.eval
    for suite in e.suites:
        ecfg = EvalConfig(n=e.n, samples=e.samples, ks=tuple(e.ks), temperature=e.temperature,
                          max_new_tokens=e.max_new_tokens, batch_size=e.batch_size, seed=e.seed,
                          rbf=backend == "hf", suite_args={"world": cfg.world, **e.suite_args.get(suite, {})})
        if backend == "hf":
            records, metrics = evaluate_model(model, processor, suite, ecfg)
        else:
            records, metrics = _evaluate_vllm(engine, model_path, suite, ecfg)
        metrics["backend"] = backend
        write_outputs(out / suite_dirname(suite), records, metrics)
        o = metrics["overall"]
        summary[suite] = {k: o.get(k) for k in ("accuracy", "format_valid_rate", "strict_success")}
        say(f"  eval {out.name} on {suite}: accuracy {o['accuracy']:.1%}, format {o['format_valid_rate']:.1%}, "
            f"strict {o['strict_success']:.1%}")


def _evaluate_vllm(engine: VLLMEngine, model_path: str | Path, suite_name: str, ecfg: Any) -> tuple[list, dict]:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import AutoProcessor

    suite = get_suite(suite_name)
    examples = suite.load(n=ecfg.n, **ecfg.suite_args)
    processor = AutoProcessor.from_pretrained(str(model_path))
    scfg = SampleConfig(n=ecfg.samples, temperature=ecfg.temperature, top_p=ecfg.top_p,
                        max_new_tokens=ecfg.max_new_tokens, batch_size=ecfg.batch_size, seed=ecfg.seed)
    records = score_responses(suite, examples, engine.generate(processor, examples, scfg),
                              processor.tokenizer)
    metrics = aggregate(records, ecfg.ks)
    metrics["suite"] = suite_name
    return records, metrics


def run_pipeline(cfg: RunConfig, runs_root: Path = Path("runs"), seeds: list[int] | None = None,
                 report: bool = True) -> Path:
    """Run (or finish) the whole recipe under `runs_root/cfg.name`; returns the run directory."""

    hush_libraries()
    apply_run_settings(cfg)
    seeds = seeds or list(cfg.seeds)
    run_dir = Path(runs_root) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    log_to(run_dir / "logs" / "pipeline.log")
    atomic_write(run_dir / "config.yaml", yaml.safe_dump(_public(cfg.model_dump(mode="json")), sort_keys=False))
    manifest = Manifest(run_dir / "manifest.json", cfg.name, seeds)
    swept = sweep_temp_files(run_dir)
    if swept:
        say(f"removed {swept} temp file(s) left by an interrupted run")
    t_all = time.time()

    base_settings = {"base_model": cfg.base_model, "world": cfg.world.model_dump(mode="json"),
                     "base": cfg.base.model_dump(mode="json") if cfg.base_model is None else None}
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
                manifest.mark("base", hash=hashes["base"], status="complete", seconds=round(time.time() - t, 1),
                              finished=_now(), path=base_cache[0])
        return base_cache[0]

    base_path()  # fail early on a bad base, and time it as its own stage
    if cfg.tune_rl is not None:  # the GRPO settings rule, once for the run, on dev; every seed's RL trains at it
        cfg, hashes["tune-rl"] = _tune_rl(cfg, run_dir, manifest, base_path, hashes["base"])
    tuned: dict[str, Path] = {}  # tune_lr.seeds == "first": the first seed's tune-lr dirs, reused by the rest
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
            if manifest.done(key, h, st.out):
                say(f"{key}: complete, skipped")
                continue
            if manifest.stale(key, h):
                say(f"{key}: config changed since the last run; starting it over")
                shutil.rmtree(st.out.parent, ignore_errors=True)
            manifest.mark(key, hash=h, status="running", started=_now())
            t = time.time()
            st.run()
            manifest.mark(key, hash=h, status="complete", seconds=round(time.time() - t, 1), finished=_now())
    if report:

        t = time.time()
        index = write_report(run_dir)
        manifest.mark("report", status="complete", seconds=round(time.time() - t, 1), finished=_now(), hash="-")
        say(f"report: {index}")
    say(f"pipeline {cfg.name}: done in {time.time() - t_all:.0f}s; run dir {run_dir}")
    return run_dir


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


def _public(d: Any) -> Any:
    """The config as written to disk: any key that looks like a secret is masked."""
    if isinstance(d, dict):
        return {k: ("***" if "api_key" in k and not k.endswith("_env") and v else _public(v)) for k, v in d.items()}
    if isinstance(d, list):
        return [_public(x) for x in d]
    return d


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
