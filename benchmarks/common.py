"""What every benchmark reports: the median and the range over rounds, ratios taken within each round.

A ratio of two medians mixes rounds that ran under different load; the ratio inside one round compares the two
sides under the same load, and its spread over rounds says how far to trust it.
"""

from __future__ import annotations

import os
import platform
import statistics
from datetime import UTC, datetime


def spread(values: list[float], digits: int = 3) -> dict[str, float | int]:
    """Median, min and max of per-round values."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "rounds": len(values),
    }


def machine() -> dict[str, str | int]:
    """Where and when the figures were measured (docs quote them with this)."""
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "cpus": os.cpu_count() or 0,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # > 0.5 before a run means the cores were not idle
    }
