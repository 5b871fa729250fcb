"""`specs eval`: score any model on a suite (the world or a real benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specs_vl.cli.shared import CATCH, Quiet, fail, setup


def eval_cmd(
    model: Annotated[str, typer.Argument(help="Model directory or hub id.")],
    suite: Annotated[
        str | None,
        typer.Option(
            "--suite",
            help="world-dev, world-dev-ood (OOD before world.test_start), world-id (the default), world-ood (all three OOD sets), world-ood-domain, world-ood-surface, world-ood-requirement, world-retention, mathvista, mathverse, mathvision, mmmu, or data:PATH for your own file (--data PATH alone means the same).",  # noqa: E501
            show_default=False,
        ),
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="Number of prompts (default: all).")] = None,
    samples: Annotated[int, typer.Option("--samples", help="Responses per prompt.")] = 1,
    k: Annotated[str, typer.Option("--k", help="Comma-separated k for pass@k, maj@k, best@k.")] = "1",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: a new runs/eval/<run>_<model>_<suite>)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data", help="Your own file to score (no --suite needed), or a benchmark's file (parquet/JSON) or hub id."
        ),
    ] = None,
    temperature: Annotated[float, typer.Option("--temperature")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 64,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config (its world, images and eval vLLM settings).")
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="hf (with RBF), vllm (needs a CUDA GPU; no RBF) or auto.")
    ] = "hf",
    quiet: Quiet = False,
) -> None:
    """Evaluate a model on a suite: writes generations.jsonl and metrics.json (model, its hash, versions, settings)."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl import api
        from specs_vl.orchestration import checks

        checks.eval_options(n, samples, batch_size, max_new_tokens, temperature)  # each names its option
        ks = checks.parse_ks(k, samples)
        metrics = api.evaluate(
            model,
            suite,
            config=config,
            out=out,
            data=data,
            n=n,
            samples=samples,
            ks=ks,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            backend=backend,
        )
        out_dir = metrics["out"]
    except CATCH as e:
        fail(e)
    o = metrics["overall"]
    passes = " ".join(
        f"{m}@{x}={o[f'{m}@{x}']:.3f}"
        for x in ks
        for m in (("pass", "maj") if x > 1 else ("pass",))  # maj@1 = best@1 = pass@1; best@k = pass@k
        if o.get(f"{m}@{x}") is not None
    )
    say_line = (
        f"{metrics['suite']}: accuracy {o['accuracy']:.3f}, format-valid {o['format_valid_rate']:.3f}, "
        f"strict {o['strict_success']:.3f}, length {o['mean_length']:.1f}, RBF {o['rbf'] or 0:.2f} {passes}"
    )
    typer.echo(say_line)
    typer.echo(f"wrote {out_dir}/metrics.json")
