"""Check that an output path can be written, without creating anything, before any work is done."""

from __future__ import annotations

import os
from pathlib import Path

from specs_vl.util.errors import ConfigError


def check_output(path: str | Path, kind: str = "dir", option: str = "--out") -> None:
    """`path` (a `kind` of "dir" or "file") can be created or replaced: refused naming the option and path when
    it is the other kind, when a parent is a file, or when the nearest existing parent is not writable."""
    p = Path(path)
    label = f"{option} {p}" if option else str(p)
    if kind == "file" and p.is_dir():
        raise ConfigError(f"{label}: is a directory; give a file path")
    if kind == "dir" and p.exists() and not p.is_dir():
        raise ConfigError(f"{label}: is a file; give a directory")
    parent = p.absolute() if kind == "dir" and p.is_dir() else p.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{label}: cannot be created, {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{label}: cannot be written, {parent} is read-only (permission denied)")


def fresh_dir(base: str | Path) -> Path:
    """`base`, or `base-2`, `base-3`, ... : the first that does not exist, so two runs never share a directory."""
    base = Path(base)
    out, n = base, 2
    while out.exists():
        out, n = base.with_name(f"{base.name}-{n}"), n + 1
    return out
