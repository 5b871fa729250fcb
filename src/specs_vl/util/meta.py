"""The tool's version and the versions of the libraries a run depends on (`specs --version`, `specs env`)."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

try:
    VERSION = metadata.version("specs-vl")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "0.1.0"

LIBRARIES = (
    "torch",
    "transformers",
    "trl",
    "datasets",
    "accelerate",
    "peft",
    "vllm",
    "tensorboard",
    "wandb",
    "trackio",
    "deepspeed",
)


def library_versions() -> dict[str, str | None]:
    """Installed versions (None when absent), read from package metadata without importing anything."""
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def model_fingerprint(path: str | Path) -> str | None:
    """A short hash of a model directory's files (names, sizes, first and last MiB), None for a hub id.

    Reading every byte of a multi-GB checkpoint would take minutes; the ends and sizes of each
    weights file tell apart any two checkpoints a run produces.
    """
    p = Path(path)
    if not p.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(x for x in p.iterdir() if x.is_file() and x.suffix in (".json", ".safetensors", ".bin", ".txt")):
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with f.open("rb") as fh:
            h.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), 2)
                h.update(fh.read())
    return h.hexdigest()[:16]
