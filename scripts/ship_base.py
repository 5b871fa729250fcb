"""Ship the default world's base model with the package (src/specs_vl/world/shipped/).

Run after a change to the world, the corpus or the base recipe, when tests/world/test_shipped_base.py says the
shipped model's key no longer matches:

    specs base --rebuild -c configs/demo.yaml      # about 10 minutes on 2 cores, into the cache
    python scripts/ship_base.py                    # copies it into the package, with its record

The record (shipped.json) holds the cache key, the weights' sha256, the corpus fingerprint, and the figures the
test re-scores (a calibration slice and a response NLL), all computed here from the copied model.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(built: Path | None) -> dict:
    from specs_vl.config import demo_config_path, load_run_config
    from specs_vl.world.base_config import cache_key, cache_root
    from specs_vl.world.ship import ship
    from specs_vl.world.shipped import SHIPPED_DIR

    cfg = load_run_config(demo_config_path())
    key = cache_key(cfg.world, cfg.base)
    built = built or cache_root() / f"base-{key}"
    if not (built / "calibration.json").exists():
        raise SystemExit(f"{built}: no built base; run `specs base --rebuild -c configs/demo.yaml` first")
    record = ship(built, key, cfg.world, cfg.base)
    print(f"shipped {built} -> {SHIPPED_DIR}")
    return record


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="built", type=Path, help="a built base directory (default: the cache's)")
    print(json.dumps(main(ap.parse_args().built), indent=2))
