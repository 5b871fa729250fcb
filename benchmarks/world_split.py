"""Building the procedural world's examples, in examples/s, over rounds (JSON out).

This was an assertion in tests/world/test_world.py (10,000 examples in under 30 s); a test must not depend on the
machine's load, so the speed is measured here instead.
"""

from __future__ import annotations

import argparse
import json
import time

from common import machine, spread


def main(n: int, rounds: int) -> dict:
    from specs_vl.world import WorldConfig, build_split

    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        exs = build_split(WorldConfig(train_size=n), "train")
        rates.append(len(exs) / (time.perf_counter() - t))
    return {"benchmark": "world train split", "examples": n, "examples_per_second": spread(rates, 0), **machine()}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    print(json.dumps(main(a.n, a.rounds)))
