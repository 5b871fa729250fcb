"""Building the procedural world's examples, in examples/s (JSON out).

This was an assertion in tests/test_world.py (10,000 examples in under 30 s); a test must not depend on the
machine's load, so the speed is measured here instead.
"""

from __future__ import annotations

import json
import time


def main(n: int = 10_000) -> dict:
    from specs_vl.world import WorldConfig, build_split

    t = time.perf_counter()
    exs = build_split(WorldConfig(train_size=n), "train")
    seconds = time.perf_counter() - t
    return {"examples": len(exs), "seconds": round(seconds, 2), "examples_per_second": round(len(exs) / seconds)}


if __name__ == "__main__":
    print(json.dumps(main()))
