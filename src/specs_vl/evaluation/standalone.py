"""`specs eval` / `specs_vl.evaluate`: one model on one suite, into a directory that never collides.

The default directory is `runs/eval/<run>_<model>_<suite>` (a trained model's
path `runs/NAME/STAGE/model` gives `NAME_STAGE`), with `-2`, `-3`, ... when it
exists. `metrics.json` records the model path, a fingerprint of its files, the
tool's and libraries' versions and every setting, so results stay traceable.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from specs_vl.evaluation.runner import EvalConfig, evaluate, write_outputs
from specs_vl.evaluation.suites import DATA_PREFIX, SUITES, data_suite_spec, get_suite
from specs_vl.models.load import load_for_inference
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.models.vllm import VLLMEngine, resolve_backend
from specs_vl.models.vllm_settings import VLLMEngineSettings
from specs_vl.util.errors import ConfigError
from specs_vl.util.meta import VERSION, library_versions, model_fingerprint
from specs_vl.util.outputs import fresh_dir

WORLD_SUITES = tuple(s for s in SUITES if s.startswith("world"))


def resolve_suite(suite: str | None, data: str | None) -> tuple[str, str | None]:
    """(suite spec, benchmark path) from `--suite` and `--data`.

    No suite: `--data PATH` alone is the data suite (`data:PATH`); neither is world-id. `--suite data
    --data PATH` is the same. A benchmark takes `--data` as its file; a world suite refuses it.
    """
    if suite is None:
        return (data_suite_spec(data), None) if data else ("world-id", None)
    if suite == "data":
        if not data:
            raise ConfigError("--suite data needs --data PATH (a .jsonl/.json/.parquet file, a folder or a hub id)")
        return data_suite_spec(data), None
    if suite.startswith(DATA_PREFIX):
        if data:
            raise ConfigError(f"--suite {suite} already names its data; drop --data {data}")
        return suite, None
    get_suite(suite)
    if data and suite in WORLD_SUITES:
        raise ConfigError(
            f"--suite {suite} --data {data}: a world suite is generated from the world and reads no file; "
            f"drop --suite to score {data} (or drop --data to score {suite})"
        )
    return suite, data


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def default_eval_dir(model: str, suite: str, root: Path = Path("runs") / "eval") -> Path:
    """runs/eval/<run>_<model>_<suite>, numbered when taken: two evaluations never share a directory."""
    p = Path(model)
    parts = list(p.resolve().parts if p.exists() else model.split("/"))
    if parts and parts[-1] == "model":
        parts = parts[:-1]
    name = "_".join(_slug(x) for x in parts[-2:])
    suite_name = suite[len(DATA_PREFIX) :] if suite.startswith(DATA_PREFIX) else suite
    suite_slug = ("data-" + Path(suite_name).stem) if suite.startswith(DATA_PREFIX) else suite
    return fresh_dir(root / f"{name}_{_slug(suite_slug)}")


def evaluate_path(
    model: str,
    suite: str | None,
    cfg: EvalConfig,
    out: Path | None = None,
    data: str | None = None,
    examples: list[dict[str, Any]] | None = None,
    loading: Loading = DEFAULT_LOADING,
    backend: str = "hf",
    engine_settings: VLLMEngineSettings | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Load `model` (HF) or start one vLLM engine on it, evaluate it on `suite` (or on `examples` already
    loaded and checked from it), write generations.jsonl and metrics.json; (out dir, metrics).

    `backend`: auto | hf | vllm, as the run config's `eval.backend` (vLLM needs a CUDA GPU)."""
    spec, path = resolve_suite(suite, data)
    if path:
        cfg.suite_args["path"] = path
    get_suite(spec).load  # noqa: B018 - an unknown suite fails before the model loads
    t0 = time.time()
    if resolve_backend(backend, "eval") == "vllm":
        with VLLMEngine(model, engine_settings, seed=cfg.seed, loading=loading) as engine:
            records, metrics = evaluate(spec, cfg, engine=engine, examples=examples)
    else:
        m, proc = load_for_inference(model, loading)  # bf16 on CUDA when there is one
        records, metrics = evaluate(spec, cfg, model=m, processor=proc, examples=examples)
    out_dir = Path(out) if out else default_eval_dir(model, spec)
    metrics["run"] = {
        "model": str(Path(model).resolve()) if Path(model).exists() else model,
        "model_fingerprint": model_fingerprint(model),
        "suite": spec,
        "data": path,
        "tool": "specs-vl",
        "tool_version": VERSION,
        "libraries": library_versions(),
        "settings": {k: v for k, v in asdict(cfg).items() if k != "suite_args"},
        "seconds": round(time.time() - t0, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_outputs(out_dir, records, metrics)
    return out_dir, metrics
