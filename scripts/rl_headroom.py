"""How much room the world leaves RL, on dev, before any RL study (issue 27).

GRPO turns what a model gets right sometimes into what it gets right most of the time. The room for that is
measured on the base, per family, on `world-dev` (never a test split): greedy minus T=1 accuracy, maj@8
minus pass@1 (a mode that is right more often than one sample), and pass@8 minus pass@1 (right at least
once in 8). Usage:

    specs eval BASE --suite world-dev --samples 8 --k 1,8 -c configs/study.yaml -o runs/headroom/t1
    specs eval BASE --suite world-dev --temperature 0 -c configs/study.yaml -o runs/headroom/greedy
    python scripts/rl_headroom.py runs/headroom/t1 runs/headroom/greedy

Prints one JSON object: per family and overall, in points.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path


def rows(d: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(d) / "generations.jsonl").read_text().splitlines() if line]


def headroom(sampled: list[dict], greedy: list[dict]) -> dict[str, dict[str, float]]:
    by: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in sampled:
        by[r["family"]][r["id"]].append(r)
        by["all"][r["id"]].append(r)
    g: dict[str, list[float]] = defaultdict(list)
    for r in greedy:
        g[r["family"]].append(float(r["correct"]))
        g["all"].append(float(r["correct"]))
    out = {}
    for fam, prompts in sorted(by.items()):
        p1 = sum(sum(r["correct"] for r in rs) / len(rs) for rs in prompts.values()) / len(prompts)
        p8 = sum(any(r["correct"] for r in rs) for rs in prompts.values()) / len(prompts)
        maj = 0.0
        for rs in prompts.values():
            votes = Counter(r["extracted"] for r in rs if r.get("extracted") not in (None, ""))
            if votes:
                top = votes.most_common(1)[0][0]
                maj += next(float(r["correct"]) for r in rs if r.get("extracted") == top)
        maj /= len(prompts)
        greedy_acc = sum(g[fam]) / len(g[fam]) if g.get(fam) else float("nan")
        out[fam] = {
            "prompts": len(prompts),
            "pass@1": round(100 * p1, 1),
            "greedy - T=1": round(100 * (greedy_acc - p1), 1),
            "maj@8 - pass@1": round(100 * (maj - p1), 1),
            "pass@8 - pass@1": round(100 * (p8 - p1), 1),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(headroom(rows(Path(sys.argv[1])), rows(Path(sys.argv[2]))), indent=1))
