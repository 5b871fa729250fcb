"""How close the MathVista rule extractor comes to the official GPT-judged verdicts (issue 31, item 7).

MathVista's repository (github.com/lupantech/MathVista) publishes, per model, a testmini output file
`results/<model>/output_<run>.json`: each item's response, GPT-4's extraction and the official verdict
(`true_false`). This script scores every published non-program run's responses with our extractor and the
official normalisation (`score_mathvista`) and compares, run by run, with the official verdicts. The
published files are the held-out check: they are never committed here nor read by the tests; point the
script at a checkout's `results` folder (or the checkout itself), or at the git dir of a mirror:

    python scripts/mathvista_agreement.py ~/MathVista/results
    python scripts/mathvista_agreement.py /path/to/MathVista.git      # read with git show, no work tree

Left out: program-of-thought runs (`*_code*`, their responses are programs to run), the random and
frequent-guess baselines and the leaderboard template (no model responses), and empty responses (the
official `--ignore_empty_extractions`). A run whose file is absent (a mirror may lack large files) is
listed under "missing". The extractor is given the question's plain query (Hint / Question / Choices, as
in the Hugging Face rows it sees in use), taken from a zero-shot run's file; `--query prompt` gives it the
run's own prompt instead (few-shot demonstrations, OCR text), as GPT saw it.
Prints one JSON object: per run, items, official and our accuracy (%), the gap in points (ours minus
official) and verdict agreement (%); the totals over all items. `--disagree RUN` also lists that run's
disagreeing items (pid, response tail, GPT's extraction, ours).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from specs_vl.evaluation.benchmarks.mathvista_extract import extract_response_answer
from specs_vl.evaluation.benchmarks.mathvista_score import score_mathvista

_SKIP = ("_code", "guess", "template")


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def run_files(root: Path) -> dict[str, object]:
    """Run name -> a loader of its output file (or None when the file is absent)."""
    if _is_git_dir(root):
        names = subprocess.run(
            ["git", "--git-dir", str(root), "ls-tree", "-r", "--name-only", "HEAD", "results"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()

        def loader(name: str):
            def load():
                out = subprocess.run(["git", "--git-dir", str(root), "show", f"HEAD:{name}"], capture_output=True)
                return json.loads(out.stdout) if out.returncode == 0 and out.stdout else None

            return load

        paths = {Path(n).name: loader(n) for n in names}
    else:
        base = root / "results" if (root / "results").is_dir() else root
        paths = {
            p.name: (lambda p=p: json.loads(p.read_text()) if p.is_file() and p.stat().st_size else None)
            for p in base.rglob("output_*.json")
        }
    return {
        n[len("output_") : -len(".json")]: load
        for n, load in sorted(paths.items())
        if n.startswith("output_") and n.endswith(".json") and not any(s in n for s in _SKIP)
    }


def _row(item: dict, query: str) -> dict:
    return {
        "choices": item.get("choices") or [],
        "question_type": item["question_type"],
        "answer_type": item["answer_type"],
        "precision": item.get("precision"),
        "answer": item["answer"],
        "query": query,
    }


def measure(root: Path, disagree: str | None = None, query: str = "plain") -> dict:
    loaded, missing = {}, []
    for name, load in run_files(root).items():
        data = load()
        (missing.append(name) if data is None else loaded.__setitem__(name, data))
    plain: dict[str, str] = {}  # pid -> the plain query, from zero-shot files
    for data in loaded.values():
        for pid, item in data.items():
            q = str(item.get("query") or "")
            if q.startswith("Hint:") and pid not in plain:
                plain[pid] = q
    runs, listed = {}, []
    total = {"items": 0, "official": 0, "ours": 0, "agree": 0}
    for name, data in loaded.items():
        n = official = ours = agree = 0
        for pid, item in data.items():
            response = item.get("response")
            if not isinstance(response, str) or not response.strip():
                continue
            own = str(item.get("query") or "")
            row = _row(item, own if query == "prompt" else plain.get(pid, own))
            _, correct = score_mathvista(response, row)
            gold = bool(item.get("true_false"))
            n, official, ours, agree = n + 1, official + gold, ours + correct, agree + (gold == correct)
            if name == disagree and gold != correct:
                ext = extract_response_answer(
                    response, row["question_type"], row["answer_type"], row["choices"], row["query"]
                )
                listed.append(
                    {
                        "pid": pid,
                        "type": f"{row['question_type']}/{row['answer_type']}",
                        "answer": row["answer"],
                        "choices": row["choices"],
                        "gpt": item.get("extraction"),
                        "ours": ext,
                        "official": gold,
                        "response_tail": response[-400:],
                    }
                )
        if not n:
            continue
        runs[name] = {
            "items": n,
            "official": round(100 * official / n, 2),
            "ours": round(100 * ours / n, 2),
            "gap": round(100 * (ours - official) / n, 2),
            "agreement": round(100 * agree / n, 2),
        }
        for k, v in zip(total, (n, official, ours, agree), strict=True):
            total[k] += v
    n = total["items"] or 1
    gaps = [r["gap"] for r in runs.values()]
    out = {
        "runs": runs,
        "total": {
            "runs": len(runs),
            "items": total["items"],
            "agreement": round(100 * total["agree"] / n, 2),
            "gap_min": min(gaps, default=0.0),
            "gap_max": max(gaps, default=0.0),
            "outside_1.5": sorted(k for k, r in runs.items() if abs(r["gap"]) > 1.5),
        },
        "query": query,
        "missing": missing,
    }
    if disagree is not None:
        out["disagreeing"] = listed
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="MathVista checkout or its results folder, or a mirror's git dir")
    ap.add_argument(
        "--query",
        choices=("plain", "prompt"),
        default="plain",
        help="the query the extractor sees: the plain question (default) or the run's own (few-shot) prompt",
    )
    ap.add_argument("--disagree", metavar="RUN", help="also list this run's disagreeing items")
    args = ap.parse_args(argv)
    json.dump(measure(args.path, args.disagree, args.query), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
