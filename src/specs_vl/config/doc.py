"""docs/config.md, generated from the pydantic models: every key, its type, its default and its meaning.

A key's meaning is its field's description: the attribute docstring under the field in the model's source
(every config model sets `use_attribute_docstrings=True`); `tests/e2e/test_user_runs.py` fails when a key has
none or when docs/config.md differs from what this writes (`specs config doc > docs/config.md`).
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

from pydantic import BaseModel

from specs_vl.config import RunConfig

HEADER = """# Config reference

Generated from the pydantic models by `specs config doc > docs/config.md`; a test keeps it current.
Every key can be set in the YAML file or on the command line as `section.key=value`
(`specs coldstart -c x.yaml coldstart.learning_rate=1e-6 coldstart.batch_size=8`); both are validated the
same way. `specs config show [-c x.yaml] [overrides]` prints the resolved config.
Held-out sets (`coldstart.curve_id`, `coldstart.curve_ood`, `rl.eval_id`, `rl.eval_ood`, `eval.suites`) are a
suite name or `data:PATH` for your own file in the example schema (docs/data.md).
"""


def _submodel(tp: Any) -> type[BaseModel] | None:
    for t in (tp, *typing.get_args(tp)):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _type(tp: Any) -> str:
    return re.sub(r"typing\.|specs_vl\.[\w.]+\.", "", str(tp) if not isinstance(tp, type) else tp.__name__)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{json.dumps(value, default=str)}`"


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key, depth first; a missing meaning is ''."""
    out = []
    for name, field in model.model_fields.items():
        key = prefix + name
        sub = _submodel(field.annotation)
        meaning = " ".join((field.description or "").split())  # a docstring wrapped over lines reads as one
        out.append((key, _type(field.annotation), _default(field), meaning))
        if sub is not None:
            out += rows(sub, key + ".")
    return out


def render() -> str:
    """The whole reference: top-level keys first, then one table per section."""
    table = ["| key | type | default | meaning |", "|---|---|---|---|"]
    all_rows = rows(RunConfig)
    sections = [k for k, f in RunConfig.model_fields.items() if _submodel(f.annotation) is not None]
    lines = [HEADER, "## top level", "", *table]
    lines += [_row(r) for r in all_rows if "." not in r[0] and r[0] not in sections]
    for sec in sections:
        meaning = next(m for k, _, _, m in all_rows if k == sec)
        lines += ["", f"## `{sec}`", "", meaning, "", *table]
        lines += [_row(r) for r in all_rows if r[0].startswith(sec + ".")]
    return "\n".join(lines) + "\n"


def _row(r: tuple[str, str, str, str]) -> str:
    key, tp, default, meaning = r
    return f"| `{key}` | `{tp.replace('|', '/')}` | {default} | {meaning.replace('|', '/')} |"
