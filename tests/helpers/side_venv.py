"""A cached side virtualenv (verl, lmms-eval) that borrows this environment's heavy packages through a .pth.

The .pth is rewritten on every use, not only when the venv is built: the cache outlives the environment it was
built beside (a new checkout, a rebuilt .venv), and a link to a site-packages that is gone fails as a missing
torch or pyarrow, not as a stale cache.
"""

from __future__ import annotations

import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def side_python(where: Path, version: str, installs: list[list[str]]) -> Path:
    """`where`'s python, built on first use with each of `installs` (pip arguments), linked to this environment."""
    py, marker = where / "bin" / "python", where / ".specs-ready"
    if not marker.exists():
        venv.create(where, with_pip=True, clear=True)
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_specs_parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    if marker.exists():
        return py
    for args in installs:
        r = _run([str(py), "-m", "pip", "install", "-q", *args])
        if r.returncode:
            pytest.fail(f"installing {args} into {where} failed (needs the package index):\n{r.stderr[-2000:]}")
    marker.write_text(version)
    return py
