"""Wall time of each stage and the whole of `specs demo`, over rounds, from an empty cache (JSON out).

Each round runs the demo pipeline in a child process under a fresh run name with `SPECS_VL_CACHE` pointing at
an empty directory: what a new user's first `specs demo` does (the base ships with the package, so nothing is
built). Peak memory is the children's maximum resident set size. The run directories are removed afterwards
unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, spread


def one(name: str) -> tuple[float, dict[str, float]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SPECS_QUIET": "1", "SPECS_VL_CACHE": tempfile.mkdtemp()}
    run_dir = Path("runs") / name
    if run_dir.exists():
        raise SystemExit(f"{run_dir} exists; pick another --name")
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "specs_vl.cli", "demo", "-q", "--name", name], env=env, text=True, capture_output=True
    )
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    if any(Path(env["SPECS_VL_CACHE"]).iterdir()):
        raise SystemExit("the demo wrote into the base cache: it built a base instead of using the shipped one")
    stages = json.loads((run_dir / "manifest.json").read_text())["stages"]
    return wall, {k: v.get("seconds") or 0.0 for k, v in stages.items()}


def main(rounds: int, prefix: str, keep: bool) -> dict:
    walls, per_stage = [], {}
    for r in range(rounds):
        wall, stages = one(f"{prefix}-{r}")
        walls.append(wall)
        for k, v in stages.items():
            per_stage.setdefault(k, []).append(v)
        if not keep:
            shutil.rmtree(Path("runs") / f"{prefix}-{r}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "benchmark": "specs demo from an empty cache",
        "wall_seconds": spread(walls, 1),
        "wall_minutes_median": round(statistics.median(walls) / 60, 2),
        "goal": "wall median <= 180 s (make demo <= 6 min with the install)",
        "peak_rss_gib": round(peak_kib / 2**20, 2),
        "stage_seconds_median": {k: round(statistics.median(v), 1) for k, v in per_stage.items()},
        **machine(),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--name", default=f"bench-demo-{int(time.time())}", help="run-name prefix")
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    a = ap.parse_args()
    print(json.dumps(main(a.rounds, a.name, a.keep), indent=2))
