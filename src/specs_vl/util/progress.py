"""rich progress bars that every long loop shares, and that `--quiet` turns off."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def quiet() -> bool:
    return os.environ.get("SPECS_QUIET", "") not in ("", "0")


class _Bar:
    def __init__(self, progress: Progress | None, task_id):
        self._p, self._t = progress, task_id

    def advance(self, n: float = 1, **fields) -> None:
        if self._p is not None:
            self._p.update(self._t, advance=n, **fields)

    def describe(self, text: str) -> None:
        if self._p is not None:
            self._p.update(self._t, description=text)


@contextlib.contextmanager
def bar(description: str, total: float | None) -> Iterator[_Bar]:
    """A progress bar, or a silent stand-in when quiet or not on a terminal."""
    if quiet():
        yield _Bar(None, None)
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as p:
        yield _Bar(p, p.add_task(description, total=total))


_log_file: list[Path] = []


def log_to(path: Path | None) -> None:
    """Also append every `say` line to `path` (the pipeline's logs/pipeline.log)."""
    _log_file[:] = [Path(path)] if path else []


def say(message: str) -> None:
    """A one-line summary; printed even when quiet."""
    console.print(message, highlight=False)
    for path in _log_file:
        with path.open("a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def hush_libraries() -> None:
    """Our bars replace the libraries' own (weight loading, shard writing, datasets maps), and the
    libraries' deprecation notices about their own internals are not something a user can act on."""

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\..*")
    warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        import datasets
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover - both are dependencies
        pass
