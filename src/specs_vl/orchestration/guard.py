"""Runs that are safe by default: a stage checks its output dir against the config that made it.

`stage.json` in a stage's output dir records the hash (the pipeline's
`config_hash`) and the settings of the config it was started with. Run again:
- same hash, complete: nothing to do, said in one line;
- same hash, not complete: it resumes, and says from which checkpoint;
- other hash, or output with no record: refused with the changed keys named,
  unless `resume` (continue anyway) or `restart` (clear the dir, start over).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Literal

from transformers.trainer_utils import get_last_checkpoint

from specs_vl.util.atomic import atomic_write
from specs_vl.util.errors import ConfigError
from specs_vl.util.progress import say

Mode = Literal["auto", "resume", "restart"]
RECORD = "stage.json"


def config_hash(settings: Any, dep_hashes: list[str] | None = None) -> str:
    """The pipeline's stage hash: its settings and the hashes of the stages it reads."""
    blob = json.dumps([settings, dep_hashes or []], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            out += _changes(old.get(k), new.get(k), f"{prefix}{k}.")
        return out
    return [] if old == new else [f"{prefix.rstrip('.')} {old!r} -> {new!r}"]


def read_record(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out) / RECORD).read_text())
    except (OSError, ValueError):
        return None


def begin(stage: str, out: Path, settings: Any, mode: Mode = "auto", done_file: str = "result.json") -> dict | None:
    """Check `out` before a stage runs. Returns the saved result when the stage is already complete."""
    out = Path(out)
    settings = json.loads(json.dumps(settings, default=str))
    h = config_hash(settings)
    rec = read_record(out)
    has_output = out.exists() and any(out.iterdir())
    if mode == "restart" and out.exists():
        say(f"{stage}: --restart: clearing {out}")
        shutil.rmtree(out)
        has_output, rec = False, None
    elif rec is not None and rec.get("hash") == h:
        if rec.get("status") == "complete" and (out / done_file).exists():
            say(f"{stage}: already complete in {out} with this config; nothing to do (--restart to run it again)")
            return json.loads((out / done_file).read_text()) if done_file.endswith(".json") else {}
    elif has_output and mode != "resume":
        if rec is None:
            why = "holds earlier output with no record of the config that made it"
        else:
            why = "was made with a different config (" + "; ".join(_changes(rec.get("settings"), settings)[:6]) + ")"
        raise ConfigError(
            f"{out} {why}; pass --resume to continue it anyway, --restart to clear it and start "
            "over, or --out for a new directory"
        )
    ckpts = out / "checkpoints"
    last = get_last_checkpoint(str(ckpts)) if ckpts.is_dir() else None
    if has_output:
        say(
            f"{stage}: resuming in {out} from {Path(last).name if last else 'its saved outputs (no checkpoint)'}"
            + ("" if rec is not None and rec.get("hash") == h else " (--resume: config changed)")
        )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(
        out / RECORD, json.dumps({"stage": stage, "hash": h, "status": "running", "settings": settings}, indent=2)
    )
    return None


def finish(out: Path) -> str:
    """Mark the stage complete; returns its config hash (for the model card)."""
    rec = read_record(out) or {}
    rec["status"] = "complete"
    atomic_write(Path(out) / RECORD, json.dumps(rec, indent=2))
    return str(rec.get("hash", ""))
