"""The report's first screen: the forest plot of the findings, then each model's metrics per eval set.

The forest plot's rows are the findings in their order (evaluation/forest.py);
the model figure reads the same `metrics.json` numbers as the report's model
tables (tables.per_set_tables: accuracy, format-valid rate, strict success),
mean ± std over seeds, in percent.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from specs_vl.evaluation.forest import finding_rows, plot_forest
from specs_vl.evaluation.plots import plot_models
from specs_vl.report.tables import PER_SET, model_names, overall, suite_names

FOREST = "forest.png"
MODELS = "models.png"
SHORT = {"accuracy": "accuracy", "format_valid_rate": "format valid", "strict_success": "strict success"}
XLABELS = {"points": "difference (percentage points)", "tokens": "difference (tokens)"}


def model_panels(dirs: list[Path]) -> list[tuple[str, dict[str, dict[str, tuple[float, float] | None]]]]:
    """Per metric of the model tables: {eval set: {model: (mean, std over seeds) in percent, or None}}."""
    suites, models = suite_names(dirs), model_names(dirs)
    panels = []
    for key, _ in PER_SET:
        by_set: dict[str, dict[str, tuple[float, float] | None]] = {}
        for s in suites:
            by_set[s] = {}
            for m in models:
                vals = [100 * v for d in dirs if (v := (overall(d, m, s) or {}).get(key)) is not None]
                by_set[s][m] = (
                    (statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0) if vals else None
                )
        panels.append((SHORT.get(key, key), by_set))
    return panels


def draw_first_screen(found: list[dict[str, Any]], dirs: list[Path], out: Path) -> dict[str, str]:
    """Write forest.png (always: every finding has a row) and models.png (when any model was evaluated)
    into `out`; returns {"forest": name, "models": name}."""
    plots = {"forest": plot_forest(finding_rows(found), out / FOREST, XLABELS).name}
    panels = model_panels(dirs)
    models = [m for m in model_names(dirs) if any(row.get(m) for _, by_set in panels for row in by_set.values())]
    if models:
        plots["models"] = plot_models(panels, models, out / MODELS).name
    return plots
