"""rich progress bars that every long loop shares, and that `--quiet` turns off."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.highlighter import NullHighlighter
from rich.logging import RichHandler
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


# `say` lines go through `logging`: rich's handler prints them on the console the bars share (so a line never
# tears a bar), and `log_to` adds a FileHandler that keeps the file open, where we used to reopen it per line.
log = logging.getLogger("specs_vl")
log.setLevel(logging.INFO)
log.propagate = False  # the user's root handlers do not print our lines twice
log.addHandler(
    RichHandler(
        console=console, show_time=False, show_level=False, show_path=False, markup=False, highlighter=NullHighlighter()
    )
)
log.handlers[0].setFormatter(logging.Formatter("%(message)s"))


def log_to(path: Path | None) -> None:
    """Also append every `say` line to `path` (the pipeline's logs/pipeline.log); None stops the file."""
    for h in [h for h in log.handlers if isinstance(h, logging.FileHandler)]:
        log.removeHandler(h)
        h.close()
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(path, mode="a", encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
        log.addHandler(fh)


def say(message: str) -> None:
    """A one-line summary; printed even when quiet."""
    log.info(message)


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
