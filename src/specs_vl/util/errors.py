"""Errors a user can act on. The CLI prints them without a traceback and exits 2."""

from __future__ import annotations


class SpecsError(Exception):
    """Base class: bad input or configuration, not a bug."""


class DataError(SpecsError, ValueError):
    """A bad row in a data file; the message names the file, the row and the field."""

    def __init__(self, source: str, row: int | None, field: str | None, problem: str):
        self.source, self.row, self.field, self.problem = source, row, field, problem
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join(where)}: {problem}")


class ConfigError(SpecsError, ValueError):
    """A bad config file or option; the message names the file and the key."""


class ModelError(SpecsError, ValueError):
    """A model directory that cannot serve as a VLM."""


class TrainingError(SpecsError, RuntimeError):
    """Training cannot go on (a non-finite loss); the message names the step and the checkpoint kept."""
