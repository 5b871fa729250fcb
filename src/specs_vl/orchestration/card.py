"""The model card every final `model/` gets: base, stage, data, config hash, key metrics (a README.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from specs_vl.util.atomic import atomic_write
from specs_vl.util.meta import VERSION

STAGES = {
    "zero": "stage 1a of SPECS: a short GRPO run that teaches the output format",
    "coldstart": "stage 2 of SPECS: the preference cold start (DPO + SFT term on self-distilled pairs)",
    "rl": "stage 3 of SPECS: GRPO with verifiable rewards (0.5 format + 1.0 accuracy)",
}


def _metrics(result: dict[str, Any]) -> list[str]:
    rows = []
    for key in ("steps", "final_format_rate", "final_accuracy", "first_loss", "last_loss", "pairs"):
        if result.get(key) is not None:
            rows.append(
                f"| {key} | {result[key]:.4g} |" if isinstance(result[key], float) else f"| {key} | {result[key]} |"
            )
    final = result.get("final") or {}
    for key in ("psi_id", "psi_ood", "g_id", "g_ood", "gf"):
        if key in final:
            rows.append(f"| {key} | {'n/a' if final[key] is None else format(final[key], '.2f')} |")
    for role in ("id", "ood"):
        for k, v in (result.get(role) or {}).items():
            rows.append(f"| {role} {k} | {v:.4g} |")
    return rows


def write_model_card(
    model_dir: Path,
    stage: str,
    base: str,
    data: str,
    config_hash: str,
    result: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> Path:
    """Write `model_dir/README.md` (Hugging Face card format, YAML front matter first)."""
    model_dir = Path(model_dir)
    front = ["---", "library_name: transformers", "tags:", "- specs-vl", f"- {stage}", "- vision-language"]
    if base and not Path(base).exists() and "/" in base:
        front.append(f"base_model: {base}")  # a hub id; local paths are no hub link
    front.append("---")
    lines = [
        *front,
        "",
        f"# {model_dir.parent.name}: {stage}",
        "",
        f"Trained with [specs-vl](https://github.com/specs-vl/specs-vl) {VERSION}: {STAGES.get(stage, stage)}.",
        "",
        "| | |",
        "|---|---|",
        f"| base model | `{base}` |",
        f"| stage | {stage} |",
        f"| training data | {data} |",
        f"| config hash | `{config_hash}` |",
        f"| written | {datetime.now(UTC):%Y-%m-%d %H:%M UTC} |",
        "",
        "## Key metrics",
        "",
        "| metric | value |",
        "|---|---|",
        *(_metrics(result) or ["| (none) | |"]),
        "",
    ]
    if settings:
        lines += ["## Config", "", "```json", json.dumps(settings, indent=2, default=str), "```", ""]
    lines += ["Method: Metis-SPECS, arXiv 2510.25801.", ""]
    path = model_dir / "README.md"
    atomic_write(path, "\n".join(lines))
    return path
