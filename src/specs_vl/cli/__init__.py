"""The `specs` command line."""

from specs_vl.cli.app import app

__all__ = ["app"]
