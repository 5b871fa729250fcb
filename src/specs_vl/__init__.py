"""specs-vl: the SPECS recipe (zero GRPO -> self-distilled pairs -> DPO+SFT cold start -> GRPO) for any HF VLM.

    from specs_vl import load_config, run_zero, run_distill, run_coldstart, run_rl, evaluate

The stage functions load torch and transformers, so they are imported on first use (PEP 562), and
`import specs_vl` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from specs_vl.util.meta import VERSION as __version__

__all__ = ["__version__", "load_config", "run_zero", "run_distill", "run_coldstart", "run_rl", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("specs_vl.api"), name)
    raise AttributeError(f"module 'specs_vl' has no attribute {name!r}")
