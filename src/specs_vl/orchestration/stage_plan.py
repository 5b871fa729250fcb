"""The stages of one seed, in order, as data: what each runs, where its output goes, what it depends on.

Every training stage runs through the API (and so the one stage runner), in this process or, with a
`launcher`, as the `specs` CLI under `accelerate launch`: one decision, one record, one model card.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from specs_vl.config import RunConfig
from specs_vl.orchestration import stages as api
from specs_vl.orchestration.eval_stage import evaluate_stage
from specs_vl.orchestration.launch import launch_stage
from specs_vl.recipe.select import choose_method
from specs_vl.recipe.tune_lr import chosen_lr, tune_lr
from specs_vl.util.atomic import atomic_write
from specs_vl.util.yamlio import public


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


def plan(
    cfg: RunConfig, seed_dir: Path, base_path: Callable[[], str], tuned: dict[str, Path] | None = None
) -> list[Stage]:
    """The stages of one seed, in order. `base_path` builds (or finds) the base model lazily; `tuned` maps a
    method to an earlier seed's tune-lr dir whose choice this seed reuses (`tune_lr.seeds: first`)."""

    d = seed_dir
    train = _trainer_runner(cfg, d)
    stages = [
        Stage(
            "zero",
            d / "zero" / "result.json",
            cfg.zero.model_dump(mode="json"),
            ["base"],
            lambda: train(
                "zero",
                lambda: api.run_zero(cfg, out=d / "zero", model=base_path(), resume=RESUME),
                lambda: ["zero", "--base", base_path(), "--out", str(d / "zero")],
            ),
        ),
        Stage(
            "distill",
            d / "pairs" / "stats.json",
            cfg.distill.model_dump(mode="json"),
            ["base", "zero"],
            lambda: api.run_distill(cfg, out=d / "pairs", model=base_path(), zero=d / "zero" / "model", resume=RESUME),
        ),
    ]
    models = {"base": None, "zero": d / "zero" / "model"}
    if cfg.recipe == "rl-only":  # no cold start: no pairs are needed, so neither zero nor distill runs
        stages, models = [], {"base": None}
    for m in cfg.methods:
        ccfg = cfg.coldstart.model_copy(update={"method": m})
        deps, tdir, out = ["base", "distill"], d / f"tune-lr-{m}", d / f"coldstart-{m}"
        if cfg.tune_lr is not None and tuned and m in tuned:  # the first seed's choice; its hash is a dep
            tdir, deps = tuned[m], ["base", "distill", f"tune-lr-{m}"]
        elif cfg.tune_lr is not None:  # the learning-rate rule first; the cold start then trains at its choice
            stages.append(
                Stage(
                    f"tune-lr-{m}",
                    tdir / "result.json",
                    [cfg.tune_lr.model_dump(mode="json"), ccfg.model_dump(mode="json")],
                    deps,
                    lambda c=ccfg, t=tdir: tune_lr(
                        c, cfg.tune_lr, base_path(), d / "pairs", t, cfg.world, cfg.loading()
                    ),
                )
            )
            deps = ["base", f"tune-lr-{m}"]

        def run_cs(c: Any = ccfg, m: str = m, t: Path = tdir, out: Path = out) -> Any:
            if cfg.tune_lr is not None:
                c = c.model_copy(update={"learning_rate": chosen_lr(t)})
            return train(
                f"coldstart-{m}",
                lambda: api.run_coldstart(
                    cfg.model_copy(update={"coldstart": c}),
                    out=out,
                    model=base_path(),
                    pairs=d / "pairs",
                    method=m,
                    resume=RESUME,
                ),
                lambda: [
                    "coldstart",
                    "--method",
                    m,
                    "--model",
                    base_path(),
                    "--pairs",
                    str(d / "pairs"),
                    "--out",
                    str(out),
                    f"coldstart.learning_rate={c.learning_rate}",
                ],
            )

        stages.append(Stage(f"coldstart-{m}", out / "result.json", ccfg.model_dump(mode="json"), deps, run_cs))
        models[f"coldstart-{m}"] = out / "model"
    rl_methods = cfg.methods if cfg.rl_methods is None else cfg.rl_methods
    # with rl_checkpoints the points are the runs: the saved model (select: gf) is a curve point, and RL from
    # it would repeat the point at its step (the same start, the same seed)
    plain = [m for m in rl_methods if not cfg.rl_checkpoints or m == "best-gf"]
    starts = [(m, f"coldstart-{m}") for m in plain] + ([("base", "base")] if cfg.rl_from_base else [])
    starts += [("random", "base")] if cfg.rl_control else []  # the same RL with an uninformative reward
    # the GF prediction study: RL from intermediate checkpoints too (TRL's checkpoints hold the processor)
    starts += [(f"{m}-step{n}", f"coldstart-{m}") for m in rl_methods if m != "best-gf" for n in cfg.rl_checkpoints]
    for label, dep in starts:
        start = (lambda: base_path()) if dep == "base" else (lambda p=d / dep / "model": str(p))
        if "-step" in label:
            step = label.rsplit("-step", 1)[1]
            start = lambda p=d / dep / "checkpoints" / f"checkpoint-{step}": str(p)  # noqa: E731
        deps = [dep]
        if label == "best-gf":  # decided once every cold start is done, from their saved models' GF
            start = lambda m=list(cfg.methods): str(best_gf_start(d, m))  # noqa: E731
            deps = [f"coldstart-{m}" for m in cfg.methods]
        out = d / f"rl-{label}"
        rcfg = (
            cfg if label != "random" else cfg.model_copy(update={"rl": cfg.rl.model_copy(update={"reward": "random"})})
        )
        extra = [] if label != "random" else ["rl.reward=random"]
        stages.append(
            Stage(
                f"rl-{label}",
                out / "result.json",
                rcfg.rl.model_dump(mode="json"),
                [*deps, "tune-rl"] if cfg.tune_rl is not None else deps,
                lambda s=start, lab=label, out=out, rc=rcfg, extra=extra: train(
                    f"rl-{lab}",
                    lambda: api.run_rl(rc, out=out, model=s(), label=f"rl {lab}", resume=RESUME),
                    lambda: ["rl", "--from", s(), "--label", f"rl {lab}", "--out", str(out), *extra],
                ),
            )
        )
        models[f"rl-{label}"] = out / "model"
    for model, path in models.items():
        dep = {"zero": "zero"}.get(model, model)
        stages.append(
            Stage(
                f"eval-{model}",
                d / "eval" / model / "done.json",
                cfg.eval.model_dump(mode="json"),
                [dep],
                lambda model=model, path=path: evaluate_stage(cfg, path or base_path(), d / "eval" / model),
            )
        )
    return stages


def best_gf_start(seed_dir: Path, methods: list[str]) -> Path:
    """The model `rl_methods: [best-gf]` starts from: the cold start whose saved model has the highest GF
    (recipe/select.choose_method). The choice, the runner-up and every candidate go to rl-best-gf/choice.json
    before RL starts, so the report and a reader see what was decided and from what."""
    gfs = {}
    for m in methods:
        result = json.loads((seed_dir / f"coldstart-{m}" / "result.json").read_text())
        saved = result.get("selected") or result.get("final") or {}  # runs before `selected` saved the last step
        gfs[m] = saved.get("gf")
    choice = choose_method(gfs)
    out = seed_dir / "rl-best-gf"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "choice.json", json.dumps(choice, indent=2))
    return seed_dir / f"coldstart-{choice['method']}" / "model"


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
        atomic_write(path, yaml.safe_dump(public(cfg.model_dump(mode="json")), sort_keys=False))
        stage, *rest = argv()
        return launch_stage(cfg.launcher, [stage, "-q", "-c", str(path), "--resume", *rest], name)

    return run
