"""`specs compare`: differences between models on the same suite, each with a 95 % paired-bootstrap interval.

Reads the `generations.jsonl` + `metrics.json` that `specs eval` writes (a
run directory is searched for them). Per model, a prompt's value is the mean
of the metric over its samples, or its pass@K, maj@K or best@K over them
(evaluation/voting.py; samples stay together); for each pair of
models on the same suite the difference of means is bootstrapped over the
prompts both answered, with `specs_vl.evaluation.stats.paired_difference`,
the one implementation the report and `specs study` use.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Annotated, Any

import typer

from specs_vl.cli.shared import CATCH, fail
from specs_vl.util.atomic import atomic_write
from specs_vl.util.errors import DataError, SpecsError

METRIC_KEYS = {
    "accuracy": "correct",
    "format_valid": "valid",
    "format_valid_rate": "valid",
    "strict": "strict",
    "strict_success": "strict",
    "length": "length",
}


@dataclass
class EvalRun:
    label: str
    suite: str
    per_prompt: dict[str, float]  # prompt id -> mean of the metric over its samples


def find_eval_dirs(path: Path) -> list[Path]:
    """`path` itself when it holds generations.jsonl, else every directory below it that does."""
    if not path.exists():
        raise SpecsError(f"{path}: no such directory")
    if (path / "generations.jsonl").is_file():
        return [path]
    found = sorted(p.parent for p in path.rglob("generations.jsonl"))
    if not found:
        raise SpecsError(f"{path}: no generations.jsonl in it or below it; give an eval directory `specs eval` wrote")
    return found


def read_eval(path: Path, metric: str, label: str) -> EvalRun:
    """Per-prompt means of `metric` from one eval directory; a bad row names the file, row and field."""
    key = METRIC_KEYS.get(metric, metric)
    gens = path / "generations.jsonl"
    suite = path.name
    metrics_file = path / "metrics.json"
    if metrics_file.is_file():
        try:
            suite = str(json.loads(metrics_file.read_text(encoding="utf-8")).get("suite") or suite)
        except json.JSONDecodeError as e:
            raise DataError(str(metrics_file), None, None, f"not JSON ({e.msg})") from None
    if metric.startswith(("pass@", "maj@", "best@")):
        return EvalRun(label, suite, _at_k_per_prompt(gens, metric))
    values: dict[str, list[float]] = defaultdict(list)
    with open(gens, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(str(gens), i, None, f"not JSON ({e.msg})") from None
            if not isinstance(row, dict) or "id" not in row:
                raise DataError(str(gens), i, "id", "missing")
            v = row.get(key)
            if isinstance(v, (bool, int, float)):
                values[str(row["id"])].append(float(v))
            else:
                raise DataError(str(gens), i, key, f"missing or not a number (metric {metric!r})")
    if not values:
        raise DataError(str(gens), None, None, "no rows")
    return EvalRun(label, suite, {k: sum(v) / len(v) for k, v in values.items()})


def _rows(gens: Path, fields: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """generations.jsonl's rows by prompt id, each checked to have `fields`."""
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with open(gens, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(str(gens), i, None, f"not JSON ({e.msg})") from None
            for field in ("id", *fields):
                if not isinstance(row, dict) or field not in row:
                    raise DataError(str(gens), i, field, "missing")
            by_id[str(row["id"])].append(row)
    if not by_id:
        raise DataError(str(gens), None, None, "no rows")
    return by_id


def _at_k_per_prompt(gens: Path, metric: str) -> dict[str, float]:
    """Per-prompt pass@K, maj@K or best@K (a prompt with fewer than K samples is left out)."""
    # deferred: voting loads numpy (through metrics); `specs --help` stays fast
    from specs_vl.evaluation.voting import at_k, prompt_at_k

    parsed = at_k(metric)
    if parsed is None:
        raise SpecsError(f"--metric {metric}: give pass@K, maj@K or best@K with K a whole number from 1")
    by_id = _rows(gens, ("correct", "extracted") if parsed[0] == "maj" else ("correct",))
    out = {pid: v for pid, rs in by_id.items() if (v := prompt_at_k(rs, metric)) is not None}
    if not out:
        most = max(len(rs) for rs in by_id.values())
        raise DataError(
            str(gens), None, None, f"{metric} needs {parsed[1]} samples of a prompt, the most here is {most}"
        )
    return out


def _labels(dirs: list[Path]) -> list[str]:
    """The shortest trailing path parts that tell the directories apart."""
    for depth in range(1, 6):
        labels = ["/".join(d.resolve().parts[-depth:]) for d in dirs]
        if len(set(labels)) == len(labels):
            return labels
    return [str(d) for d in dirs]


def compare_runs(runs: list[EvalRun], n_boot: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per pair of runs on the same suite: means, difference a - b, its 95 % interval."""
    # deferred: the stats module loads numpy; `specs --help` stays fast
    from specs_vl.evaluation.stats import paired_difference, verdict

    rows = []
    by_suite: dict[str, list[EvalRun]] = defaultdict(list)
    for r in runs:
        by_suite[r.suite].append(r)
    for suite, group in by_suite.items():
        for a, b in combinations(group, 2):
            shared = sorted(set(a.per_prompt) & set(b.per_prompt))
            if not shared:
                rows.append({"suite": suite, "a": a.label, "b": b.label, "prompts": 0, "note": "no prompts in common"})
                continue
            x = [a.per_prompt[p] for p in shared]
            y = [b.per_prompt[p] for p in shared]
            iv = paired_difference([x], [y], n_boot=n_boot, rng=seed)
            note = (
                ""
                if len(shared) == len(a.per_prompt) == len(b.per_prompt)
                else f"only the {len(shared)} prompts both answered"
            )
            rows.append(
                {
                    "suite": suite,
                    "a": a.label,
                    "b": b.label,
                    "prompts": len(shared),
                    "mean_a": sum(x) / len(x),
                    "mean_b": sum(y) / len(y),
                    "difference": iv.estimate,
                    "low": iv.low,
                    "high": iv.high,
                    "verdict": _reading(verdict(iv)),
                    "outcome": verdict(iv),
                    "note": note,
                }
            )
    return rows


def _reading(v: str) -> str:
    return {"held": "a > b", "contradicted": "a < b"}.get(v, "no clear difference" if v == "inconclusive" else v)


def _fmt(x: float | None, sign: bool = False) -> str:
    return "n/a" if x is None else (f"{x:+.3f}" if sign else f"{x:.3f}")


def markdown_table(rows: list[dict[str, Any]], metric: str) -> str:
    lines = [
        f"| suite | a | b | prompts | {metric} a | {metric} b | a − b | 95 % interval | reading |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r["prompts"]:
            lines.append(f"| {r['suite']} | {r['a']} | {r['b']} | 0 | | | | | {r['note']} |")
            continue
        lines.append(
            f"| {r['suite']} | {r['a']} | {r['b']} | {r['prompts']} | {_fmt(r['mean_a'])} | "
            f"{_fmt(r['mean_b'])} | {_fmt(r['difference'], True)} | "
            f"[{_fmt(r['low'], True)}, {_fmt(r['high'], True)}] | {r['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def forest_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forest plot's row data (evaluation/forest.py's format), one per pair in the table's order;
    a pair with no prompts in common keeps its row, not testable, with no interval."""
    return [
        {
            "label": f"{r['suite']}: {r['a']} − {r['b']}",
            "unit": "difference",
            "estimate": r.get("difference"),
            "low": r.get("low"),
            "high": r.get("high"),
            "verdict": r.get("outcome", "not testable") if r.get("low") is not None else "not testable",
            "primary": False,
        }
        for r in rows
    ]


def forest_plot(rows: list[dict[str, Any]], metric: str, out: Path) -> Path:
    """One row per pair: the difference a − b and its interval, coloured by verdict, with 0 marked."""
    # deferred: matplotlib is only needed for the plot; `specs --help` stays fast
    from specs_vl.evaluation.forest import plot_forest

    return plot_forest(
        forest_rows(rows),
        out,
        {"difference": f"{metric}: a − b (95 % paired bootstrap over prompts)"},
        title="held: a > b; contradicted: a < b",
    )


def compare_cmd(
    dirs: Annotated[list[Path], typer.Argument(help="Eval directories `specs eval` wrote, or runs holding them.")],
    metric: Annotated[
        str,
        typer.Option(
            "--metric", help="accuracy, format_valid, strict, length, pass@K, maj@K, best@K, or a record key."
        ),
    ] = "accuracy",
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Write the table as Markdown here.")] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the forest plot (PNG) here (default: beside --markdown, NAME.forest.png)."),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Compare models on the same suite: each difference with a 95 % paired-bootstrap interval over prompts."""
    try:
        eval_dirs = [d for p in dirs for d in find_eval_dirs(p)]
        runs = [read_eval(d, metric, label) for d, label in zip(eval_dirs, _labels(eval_dirs))]
        rows = compare_runs(runs, n_boot, seed)
        if not rows:
            raise SpecsError("nothing to compare: give at least two eval directories of the same suite")
        table = markdown_table(rows, metric)
        if markdown:
            atomic_write(markdown, table)
        plot = plot or (markdown.with_name(markdown.stem + ".forest.png") if markdown else None)
        if plot:
            forest_plot(rows, metric, plot)
    except CATCH as e:
        fail(e)
    typer.echo(table, nl=False)
