"""`specs eval`: score any model on a suite (the world or a real benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from specs_vl.cli.shared import CATCH, Quiet, fail, setup


def eval_cmd(
    model: Annotated[str, typer.Argument(help="Model directory or hub id.")],
    suite: Annotated[str, typer.Option("--suite", help="world-id, world-ood, mathvista, mathverse, mathvision, mmmu.")] = "world-id",
    n: Annotated[Optional[int], typer.Option("--n", help="Number of prompts (default: all).")] = None,
    samples: Annotated[int, typer.Option("--samples", help="Responses per prompt.")] = 1,
    k: Annotated[str, typer.Option("--k", help="Comma-separated k for pass@k.")] = "1",
    out: Annotated[Optional[Path], typer.Option("--out", help="Output directory.")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="Benchmark file (parquet/JSON) or hub id.")] = None,
    temperature: Annotated[float, typer.Option("--temperature")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 64,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Run config (its world section).")] = None,
    quiet: Quiet = False,
) -> None:
    """Evaluate a model on a suite: writes generations.jsonl and metrics.json."""
    setup(quiet)
    try:
        # deferred: pulls in torch/transformers/PIL; `specs --help` stays fast
        from specs_vl.config import load_run_config
        from specs_vl.evaluation.runner import EvalConfig, evaluate_model, write_outputs
        from specs_vl.evaluation.suites import get_suite
        from specs_vl.models.context import check_prompt_lengths
        from specs_vl.models.load import load_vlm
        from specs_vl.stages import checks
        from specs_vl.util.outputs import check_output

        checks.eval_options(n, samples, batch_size, max_new_tokens, temperature)
        ks = checks.parse_ks(k, samples)
        get_suite(suite)
        cfg = EvalConfig(n=n, samples=samples, ks=ks, temperature=temperature, max_new_tokens=max_new_tokens,
                         batch_size=batch_size, suite_args={"world": load_run_config(config).world, "path": data})
        out_dir = out or Path("runs") / "eval" / f"{Path(model).name}-{suite}"
        check_output(out_dir)
        examples = checks.eval_examples(suite, cfg, data)  # before the model is loaded
        checks.model_header(model, "MODEL")
        m, proc = load_vlm(model)
        check_prompt_lengths(m, proc, examples, max_new_tokens, data or suite)  # before any sampling
        records, metrics = evaluate_model(m, proc, suite, cfg, examples)
        write_outputs(out_dir, records, metrics)
    except CATCH as e:
        fail(e)
    o = metrics["overall"]
    passes = " ".join(f"pass@{x}={o[f'pass@{x}']:.3f}" for x in ks if o.get(f"pass@{x}") is not None)
    say_line = (f"{suite}: accuracy {o['accuracy']:.3f}, format-valid {o['format_valid_rate']:.3f}, "
                f"strict {o['strict_success']:.3f}, length {o['mean_length']:.1f}, RBF {o['rbf'] or 0:.2f} {passes}")
    typer.echo(say_line)
    typer.echo(f"wrote {out_dir}/metrics.json")

