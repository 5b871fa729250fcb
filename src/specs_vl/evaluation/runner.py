"""One evaluation for every caller: sample a model on a suite (HF or vLLM), score every response, aggregate.

Metrics are given overall, per family and per instruction style:
accuracy (answer right, any format), format-valid rate, strict success,
mean response length (tokens), pass@k, maj@k and best@k (voting.py defines
them: maj@k is the exact mean majority vote over all k-subsets, a tie right
only if every tied answer is right; best@k = pass@k), and the Rollout
Branching Factor. Accuracy, validity and strict success are means over all
samples, so with one sample per prompt they are pass@1 estimates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from specs_vl.evaluation.benchmarks import score_run
from specs_vl.evaluation.suites import Suite, data_file, get_suite
from specs_vl.evaluation.voting import prompt_at_k
from specs_vl.models.load import load_processor
from specs_vl.models.requests import greedy_n_problem
from specs_vl.models.sampling import SampleConfig, generate
from specs_vl.scoring.format import parse
from specs_vl.util.atomic import atomic_write
from specs_vl.util.progress import bar


@dataclass
class EvalConfig:
    n: int | None = None  # prompts; None = the whole suite
    samples: int = 1
    ks: tuple[int, ...] = (1,)
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 64
    batch_size: int = 32
    seed: int = 0
    rbf: bool = True
    suite_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = greedy_n_problem(self.temperature, self.samples)  # before any model loads
        if problem:
            raise ValueError(problem)

    def sampling(self) -> SampleConfig:
        """The one sampling request both backends get: `samples` responses per prompt."""
        return SampleConfig(
            n=self.samples,
            temperature=self.temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_new_tokens,
            batch_size=self.batch_size,
            seed=self.seed,
        )


def score_responses(
    suite: Suite,
    examples: Sequence[dict[str, Any]],
    responses: Sequence[Sequence[str]],
    tokenizer: Any = None,
    rbfs: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """One record per (prompt, sample)."""

    records = []
    flat_i = 0
    for ex, outs in zip(examples, responses):
        for j, text in enumerate(outs):
            s = suite.score(text, ex)
            length = len(tokenizer(text, add_special_tokens=False)["input_ids"]) if tokenizer else len(text.split())
            records.append(
                {
                    "id": ex["id"],
                    "sample": j,
                    "family": ex.get("family", "default"),
                    "instruction_style": ex.get("instruction_style", "none"),
                    "response": text,
                    "question": ex.get("question"),
                    "gold": ex.get("answer"),
                    "extracted": s.extracted,
                    "correct": s.correct,
                    "valid": parse(text).valid,
                    "followed": s.followed,
                    "strict": s.strict,
                    "length": length,
                    "rbf": rbfs[flat_i] if rbfs else None,
                    "verdict": _verdict(s),
                }
            )
            flat_i += 1
    return records


def _verdict(s: Any) -> str:
    """One word per sample for error analysis: strict (right, in the asked style), correct (right, other
    style), wrong (an answer, not right), no-answer (nothing extracted)."""
    if s.strict:
        return "strict"
    if s.correct:
        return "correct"
    return "wrong" if s.extracted is not None else "no-answer"


def _summary(records: list[dict[str, Any]], ks: Sequence[int]) -> dict[str, Any]:

    n = len(records)
    out: dict[str, Any] = {"n_responses": n, "n_prompts": len({r["id"] for r in records})}
    for key, name in (("correct", "accuracy"), ("valid", "format_valid_rate"), ("strict", "strict_success")):
        out[name] = sum(r[key] for r in records) / n
    out["mean_length"] = sum(r["length"] for r in records) / n
    rbf = [r["rbf"] for r in records if r.get("rbf") is not None]
    out["rbf"] = sum(rbf) / len(rbf) if rbf else None
    by_prompt: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_prompt[r["id"]].append(r)
    for k in ks:
        for kind in ("pass", "maj", "best"):
            vals = [v for rs in by_prompt.values() if (v := prompt_at_k(rs, f"{kind}@{k}")) is not None]
            out[f"{kind}@{k}"] = sum(vals) / len(vals) if vals else None
    return out


def aggregate(records: list[dict[str, Any]], ks: Sequence[int] = (1,)) -> dict[str, Any]:
    metrics = {"overall": _summary(records, ks)}
    for group in ("family", "instruction_style"):
        buckets: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            buckets[r[group]].append(r)
        metrics[f"by_{group}"] = {k: _summary(v, ks) for k, v in sorted(buckets.items())}
    return metrics


def evaluate(
    suite_name: str,
    cfg: EvalConfig,
    *,
    model: Any = None,
    processor: Any = None,
    engine: Any = None,
    examples: list[dict[str, Any]] | None = None,
    first_row: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The one evaluation: sample `suite_name` with an HF `model` (and its processor) or a vLLM `engine`
    (`models/vllm.VLLMEngine`), score every response, aggregate. `specs eval`, the pipeline's eval stage,
    the GF curve and the learning-rate rule all call it.

    `examples`, when given, are the suite's rows from `first_row` on, in order (a too-long prompt of a data:
    suite names its row). RBF needs the logits, so only the HF backend gives it."""
    if (model is None) == (engine is None):
        raise ValueError("evaluate needs exactly one of model= (HF generate) and engine= (vLLM)")
    suite = get_suite(suite_name)
    if examples is None:
        examples = suite.load(n=cfg.n, **cfg.suite_args)
    if cfg.samples < max(cfg.ks):
        raise ValueError(f"pass@{max(cfg.ks)} needs --samples >= {max(cfg.ks)}, got {cfg.samples}")
    scfg = cfg.sampling()
    rbf = cfg.rbf and engine is None
    if engine is not None:
        processor = processor or load_processor(str(engine.model_path), engine.loading)  # vLLM's image bound
        responses, rbfs = engine.generate(processor, examples, scfg), None
    else:
        with bar(f"eval {suite_name}", len(examples) * cfg.samples) as b:
            result = generate(
                model, processor, examples, scfg, b.advance, rbf, data_file(suite_name), first_row=first_row
            )
        responses, rbfs = result if rbf else (result, None)
    records = score_responses(suite, examples, responses, processor.tokenizer, rbfs)
    official = score_run(suite_name, records, examples)  # MMMU: a run is scored as a whole (seeded fallback)
    metrics = aggregate(records, cfg.ks)
    if official is not None:
        metrics["official"] = official
    metrics["suite"] = suite_name
    metrics["backend"] = "hf" if engine is None else "vllm"
    metrics["config"] = {k: v for k, v in asdict(cfg).items() if k != "suite_args"} | {"rbf": rbf}
    return records, metrics


def write_outputs(out_dir: Path, records: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
    """generations.jsonl and metrics.json, each written to a temp file and renamed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "generations.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    atomic_write(out_dir / "metrics.json", json.dumps(metrics, indent=2))
