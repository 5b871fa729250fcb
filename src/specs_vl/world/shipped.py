"""The default world's base model, shipped with the package.

Every user would otherwise rebuild the same model, bit for bit: about ten
minutes of pretraining on 2 cores. `find_base` (base_config.py) looks here
first, then in the cache; `build_base_model` builds when neither has it. The
copy is found only when the code's cache key for the asked-for config equals
the key recorded at shipping time, so a change to the world, the corpus or the
base recipe falls through to a fresh build (and `tests/world/test_shipped_base.py`
fails until the model is re-shipped with `python scripts/ship_base.py`, which
runs ship.py). Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SHIPPED_DIR = Path(__file__).parent / "shipped"
RECORD = "shipped.json"


def shipped_record(root: Path = SHIPPED_DIR) -> dict[str, Any] | None:
    """What was recorded when the base was shipped, or None when no base ships here."""
    path = root / RECORD
    return json.loads(path.read_text()) if path.exists() else None


def shipped_base(key: str, root: Path = SHIPPED_DIR) -> Path | None:
    """The shipped base's directory when it was built for cache key `key` and all its files are there."""
    record = shipped_record(root)
    if not record or record.get("key") != key:
        return None
    return root if all((root / f).exists() for f in record["files"]) else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
