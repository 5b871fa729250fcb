"""Shipping a built base into the package (scripts/ship_base.py), with the record its test re-checks.

The record holds the cache key, the weights' sha256, a fingerprint of the pretraining corpus, the mean NLL of a
few pretraining responses and the calibration on its first SLICE_N prompts, all computed from the copied model.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from pathlib import Path
from typing import Any

import torch
import transformers

from specs_vl.data.schema import prompt_text
from specs_vl.models.load import load_vlm
from specs_vl.util.atomic import atomic_dir

from .base_model import _batch, pretrain_corpus
from .calibration import calibrate
from .shipped import RECORD, SHIPPED_DIR, file_sha256

# Files a base directory holds that are shipped (everything `build_base_model` writes).
SHIPPED_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "processor_config.json",
    "chat_template.jinja",
    "world.json",
    "base_config.json",
    "calibration.json",
)
SLICE_N = 60  # calibration prompts re-scored by the shipped-model test
NLL_PAIRS = 16  # pretraining pairs whose mean response NLL fingerprints the weights and the processor


def corpus_fingerprint(world, cfg) -> str:
    """sha256 over the base's pretraining corpus: every text, and the pixels of every image.

    Catches a change to the world's or the corpus's code that the cache key (configs + CODE_VERSION) misses."""
    h = hashlib.sha256()
    for ex, response in pretrain_corpus(world, cfg):
        h.update((prompt_text(ex) + "\x00" + response + "\x00").encode())
        h.update(ex["image"].tobytes())
    return h.hexdigest()


def response_nll(model, processor, world, cfg, n: int = NLL_PAIRS) -> float:
    """Mean token NLL of the first `n` pretraining responses: deterministic, and moved by any change of weights,
    tokenizer or image processing."""
    with torch.no_grad():
        return float(model(**_batch(processor, pretrain_corpus(world, cfg)[:n])).loss)


def slice_scores(model, processor, world, cfg) -> dict[str, Any]:
    """The calibration (same code, same seed) on its first SLICE_N prompts: per family, correct and valid counts."""
    calib = calibrate(model, processor, world, SLICE_N, cfg.max_new_tokens, cfg.seed)
    return {
        fam: {"n": v["n"], "correct": round(v["accuracy"] * v["n"]), "format_valid": round(v["format_valid"] * v["n"])}
        for fam, v in calib["per_family"].items()
    }


def ship(built: Path, key: str, world, cfg, root: Path = SHIPPED_DIR) -> dict[str, Any]:
    """Copy a built base into the package with its record; returns the record."""
    files = [f for f in SHIPPED_FILES if (built / f).exists()]
    missing = {"config.json", "model.safetensors", "calibration.json"} - set(files)
    if missing:
        raise FileNotFoundError(f"{built}: not a built base (missing {', '.join(sorted(missing))})")
    model, processor = load_vlm(built)
    calib = json.loads((built / "calibration.json").read_text())
    record = {
        "key": key,
        "files": files,
        "model_sha256": file_sha256(built / "model.safetensors"),
        "build_seconds": calib.get("build_seconds"),
        "parameters": calib.get("parameters"),
        "built_with": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "corpus_sha256": corpus_fingerprint(world, cfg),
        "response_nll": round(response_nll(model, processor, world, cfg), 6),
        "slice": slice_scores(model, processor, world, cfg),
        "rebuild": "specs base --rebuild -c configs/demo.yaml, then python scripts/ship_base.py",
    }
    with atomic_dir(root) as tmp:
        for f in files:
            shutil.copy2(built / f, tmp / f)
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        for p in (tmp, *tmp.iterdir()):  # mkdtemp's 0700 would keep a shared install's other users out
            p.chmod(0o755 if p.is_dir() else 0o644)
    return record
