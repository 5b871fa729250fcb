"""Time of each stage and peak memory of a whole `specs demo` (JSON out).

Runs the demo pipeline in a child process under a fresh run name. With
`--fresh`, the base model is built into an empty cache (the first-run
figure); without, the cached base is reused (the second-run figure).
Peak memory is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(fresh: bool, name: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SPECS_QUIET": "1"}
    cache = tempfile.mkdtemp(prefix="specs-cache-") if fresh else None
    if cache:
        env["SPECS_VL_CACHE"] = cache
    run_dir = Path("runs") / name
    if run_dir.exists():
        raise SystemExit(f"{run_dir} exists; pick another --name")
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "specs_vl.cli", "demo", "-q", "--name", name], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stages = json.loads((run_dir / "manifest.json").read_text())["stages"]
    return {
        "benchmark": "specs demo",
        "fresh_base": fresh,
        "wall_seconds": round(wall, 1),
        "wall_minutes": round(wall / 60, 2),
        "goal_minutes": 15 if fresh else 5,
        "peak_rss_gib": round(peak_kib / 2**20, 2),
        "stage_seconds": {k: v.get("seconds") for k, v in stages.items()},
        "run_dir": str(run_dir),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fresh", action="store_true", help="build the base model into an empty cache")
    ap.add_argument("--name", default=f"bench-demo-{int(time.time())}")
    a = ap.parse_args()
    print(json.dumps(main(a.fresh, a.name), indent=2))
