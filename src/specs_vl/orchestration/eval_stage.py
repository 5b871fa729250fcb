"""The pipeline's eval stage: every configured suite for one model, through HF generate or one vLLM engine."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from specs_vl.config import RunConfig
from specs_vl.evaluation.runner import EvalConfig, evaluate, write_outputs
from specs_vl.evaluation.suites import suite_dirname
from specs_vl.models.load import load_for_inference
from specs_vl.models.vllm import VLLMEngine, resolve_backend
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import say


def evaluate_stage(cfg: RunConfig, model_path: str | Path, out: Path) -> None:
    """Every configured suite for one model: `out/<suite>/{metrics.json,generations.jsonl}`, then `done.json`."""

    e = cfg.eval
    backend = resolve_backend(e.backend, f"eval {out.name}")
    loading = cfg.loading()
    model, processor = load_for_inference(model_path, loading) if backend == "hf" else (None, None)
    engine = VLLMEngine(model_path, e, seed=e.seed, loading=loading) if backend == "vllm" else None  # all suites
    summary = {}
    with engine or contextlib.nullcontext():
        _evaluate_suites(cfg, out, model, processor, engine, summary)
    atomic_write(out / "done.json", json.dumps({"model": str(model_path), "suites": summary}, indent=2))


def _evaluate_suites(
    cfg: RunConfig,
    out: Path,
    model: Any,
    processor: Any,
    engine: Any,
    summary: dict[str, Any],
) -> None:
    e = cfg.eval
    for suite in e.suites:
        ecfg = EvalConfig(
            n=e.n,
            samples=e.samples,
            ks=tuple(e.ks),
            temperature=e.temperature,
            max_new_tokens=e.max_new_tokens,
            batch_size=e.batch_size,
            seed=e.seed,
            rbf=True,  # evaluate drops it for vLLM (it needs the logits)
            suite_args={"world": cfg.world, **e.suite_args.get(suite, {})},
        )
        records, metrics = evaluate(suite, ecfg, model=model, processor=processor, engine=engine)
        write_outputs(out / suite_dirname(suite), records, metrics)
        o = metrics["overall"]
        summary[suite] = {k: o.get(k) for k in ("accuracy", "format_valid_rate", "strict_success")}
        say(
            f"  eval {out.name} on {suite}: accuracy {o['accuracy']:.1%}, format {o['format_valid_rate']:.1%}, "
            f"strict {o['strict_success']:.1%}"
        )
