"""How distill samples one side: in this process, or over `data_parallel_size` processes, one GPU each.

Distill is generation only, so it needs no process group: each worker is a plain
`python -m specs_vl.recipe.distill_sampling JOB SHARD` with `CUDA_VISIBLE_DEVICES`
set to its own GPU, loads its own engine (HF or vLLM, whichever the config picks),
samples its contiguous share of the questions and writes its responses; the parent
concatenates them in question order. vLLM's offline data-parallel recipe does the
same (one engine per GPU, each given its slice of the prompts), and it keeps vLLM
out of a torch process group it would fight with. Shard `i` samples with seed
`seed + i`, so shards draw different noise; a run with another shard count draws
other samples.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from specs_vl.models.load import free_gpu_cache, load_for_inference, load_processor
from specs_vl.models.loading import Loading
from specs_vl.models.sampling import SampleConfig, generate
from specs_vl.models.vllm import VLLMEngine
from specs_vl.recipe.distill_config import DistillConfig
from specs_vl.training.train_split import load_examples
from specs_vl.util.atomic import atomic_write
from specs_vl.util.errors import TrainingError
from specs_vl.util.progress import bar
from specs_vl.world import WorldConfig


def sample_config(cfg: DistillConfig, shard: int = 0) -> SampleConfig:
    return SampleConfig(
        n=cfg.samples,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        batch_size=cfg.batch_size,
        seed=cfg.seed + shard,
    )


def sample_here(
    backend: str, path: str | Path, examples: list[dict[str, Any]], cfg: DistillConfig, loading: Loading, shard: int = 0
) -> list[list[str]]:
    """`cfg.samples` responses per example from the model at `path`, in this process."""
    scfg = sample_config(cfg, shard)
    if backend == "vllm":
        # one engine per model, closed before the other side's loads (two LLMs would not fit)
        with VLLMEngine(path, cfg, seed=scfg.seed, loading=loading) as engine:
            return engine.generate(load_processor(str(path), loading), examples, scfg)
    model, proc = load_for_inference(path, loading)
    with bar(f"distill: sampling {Path(str(path)).name}", len(examples) * cfg.samples) as b:
        outs = generate(model, proc, examples, scfg, on_batch=b.advance, source=cfg.data)
    del model
    free_gpu_cache()  # before the other side's model loads, and before the cold start launches
    return outs


def shard_bounds(n: int, shards: int, i: int) -> tuple[int, int]:
    """Contiguous, near-equal shares of n questions (the first n % shards get one more)."""
    size, extra = divmod(n, shards)
    start = i * size + min(i, extra)
    return start, start + size + (i < extra)


def sample_sharded(
    backend: str, path: str | Path, cfg: DistillConfig, world: WorldConfig, loading: Loading, work: Path, n: int
) -> list[list[str]]:
    """Responses for the `n` questions `load_examples` gives, sampled by `cfg.data_parallel_size` workers."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch

    shards = cfg.data_parallel_size
    if torch.cuda.is_available() and torch.cuda.device_count() < shards:
        raise TrainingError(
            f"distill.data_parallel_size {shards} needs {shards} GPUs, {torch.cuda.device_count()} are visible"
        )
    work.mkdir(parents=True, exist_ok=True)
    job = work / "job.json"
    spec = {
        "backend": backend,
        "path": str(path),
        "cfg": cfg.model_dump(mode="json"),
        "world": world.model_dump(mode="json"),
        "loading": dataclasses.asdict(loading),
        "shards": shards,
    }
    atomic_write(job, json.dumps(spec))
    # the i-th GPU this process may use: with CUDA_VISIBLE_DEVICES=4,5,6,7 (a judge on 0-3), worker 0 gets 4
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if os.environ.get("CUDA_VISIBLE_DEVICES") else None
    procs = []
    for i in range(shards):
        env = dict(os.environ)
        if torch.cuda.is_available():
            env["CUDA_VISIBLE_DEVICES"] = visible[i] if visible else str(i)  # its only GPU: HF and vLLM take device 0
        log = (work / f"shard-{i}.log").open("w")
        cmd = [sys.executable, "-m", "specs_vl.recipe.distill_sampling", str(job), str(i)]
        procs.append((subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    failed = []
    for i, (p, log) in enumerate(procs):
        if p.wait() != 0:
            failed.append(i)
        log.close()
    if failed:
        tail = (work / f"shard-{failed[0]}.log").read_text().strip().splitlines()[-1:] or ["(no output)"]
        raise TrainingError(
            f"distill: sampling shard(s) {failed} of {shards} failed; {work}/shard-{failed[0]}.log: {tail[0]}"
        )
    outs: list[list[str]] = []
    for i in range(shards):
        outs += json.loads((work / f"shard-{i}.json").read_text())
    if len(outs) != n:
        raise TrainingError(f"distill: the shards returned {len(outs)} questions' responses, expected {n}")
    return outs


def _worker(job: Path, shard: int) -> None:
    spec = json.loads(job.read_text())
    cfg = DistillConfig.model_validate(spec["cfg"])
    world = WorldConfig.model_validate(spec["world"])
    examples = load_examples(cfg.data, world, cfg.train_size)
    lo, hi = shard_bounds(len(examples), spec["shards"], shard)
    outs = sample_here(spec["backend"], spec["path"], examples[lo:hi], cfg, Loading(**spec["loading"]), shard)
    atomic_write(job.parent / f"shard-{shard}.json", json.dumps(outs))


if __name__ == "__main__":
    _worker(Path(sys.argv[1]), int(sys.argv[2]))
