"""Every input of a stage checked before anything expensive or written: no base build, no model load beyond
config.json and the safetensors headers, no sampling, no directory created. The CLI calls these first."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from specs_vl.data.pairs import load_pairs
from specs_vl.evaluation.runner import EvalConfig
from specs_vl.evaluation.suites import get_suite
from specs_vl.models.load import _looks_local, check_vlm_dir
from specs_vl.recipe.coldstart_config import METHODS
from specs_vl.training.train_split import check_enough, load_examples
from specs_vl.util.errors import ConfigError, DataError, ModelError, SpecsError
from specs_vl.util.outputs import check_output

RUN_MARKERS = ("manifest.json", "config.yaml", "zero", "pairs", "eval", "base")
RUN_PREFIXES = ("coldstart-", "rl-", "seed-")


def model_header(path: str | Path | None, option: str) -> None:
    """A local model: config.json and weight headers only (no tensor is read). A hub id: its config.json only
    (from the local hub cache, or downloaded; HF_HUB_OFFLINE=1 makes a missing one fail at once)."""
    if path is None:
        return
    if Path(path).exists() or _looks_local(str(path)):
        try:
            check_vlm_dir(path)
        except ModelError as e:
            raise ModelError(f"{option}: {e}") from None
        return
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(str(path))
    except (OSError, ValueError, KeyError) as e:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        reason = (
            "HF_HUB_OFFLINE is set and it is not in the local hub cache"
            if offline
            else " ".join(str(e).split()).split(". ")[0][:200]
        )
        raise ModelError(
            f"{option}: {path}: not a local model directory, and no model config found for it on "
            f"the Hugging Face hub ({reason})"
        ) from None
    if getattr(config, "vision_config", None) is None:
        raise ModelError(
            f"{option}: {path}: model_type '{config.model_type}' is a text-only model; a "
            "vision-language model is needed"
        )


def train_examples(data: str | None, world: Any, n: int | None, per_step: int) -> None:
    """A --data directory is read and validated; the world's split is only counted (it is built later)."""
    if data is not None:
        check_enough(load_examples(data, world, n), per_step, data)
    else:
        count = n if n is not None else world.train_size
        check_enough([None] * count, per_step, "the world's train split")


def zero_inputs(cfg: Any, world: Any, base: str | None, out: Path) -> None:
    check_output(out)
    train_examples(cfg.data, world, cfg.train_size, cfg.prompts_per_step)
    model_header(base, "--base")


def distill_inputs(cfg: Any, world: Any, zero: str, base: str | None, out: Path) -> None:
    """Both models' headers before either side is sampled: a broken --base fails now, not after the zero side."""
    check_output(out)
    if cfg.judge == "http" and not cfg.judge_url:
        raise ConfigError("distill.judge is 'http' but distill.judge_url is not set")
    if cfg.data is not None:
        load_examples(cfg.data, world, cfg.train_size)
    model_header(cfg.chosen_model or zero, "distill.chosen_model" if cfg.chosen_model else "--zero")
    model_header(cfg.rejected_model or base, "distill.rejected_model" if cfg.rejected_model else "--base")


def coldstart_inputs(cfg: Any, pairs: str, base: str | None, out: Path) -> None:
    check_output(out)
    # accelerate launch sets ACCELERATE_USE_FSDP=true for an FSDP config (accelerate/utils/launch.py)
    if getattr(cfg, "precompute_ref", False) and os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true":
        # TRL 1.16 DPOTrainer._precompute_ref_logps runs before `train` prepares the model: under FSDP the
        # policy is still whole on the CPU there (it wraps DeepSpeed in an inference engine, FSDP in nothing)
        raise ConfigError(
            "coldstart.precompute_ref under FSDP: TRL computes the reference before FSDP has sharded the policy "
            "onto the GPUs; use configs/accelerate/deepspeed_zero3.yaml, or precompute_ref: false"
        )
    n = len(load_pairs(pairs))
    if n < cfg.batch_size:
        raise DataError(
            str(pairs),
            None,
            None,
            f"{n} pairs, fewer than one batch of coldstart.batch_size="
            f"{cfg.batch_size}; lower the batch size or distill more pairs",
        )
    model_header(base, "--base")


def rl_start(start: str, run_dir: Path) -> tuple[str | None, str]:
    """`rl --from`: (model path, label); path None means the base model. Never tried as a hub id."""
    if start in ("base", "none"):
        return None, "base"
    if start in METHODS:
        return str(run_dir / f"coldstart-{start}" / "model"), start
    if Path(start).exists():
        return start, Path(start).name
    raise ConfigError(
        f"--from {start!r}: not a cold-start method ({', '.join(METHODS)}), 'base', or an existing model directory"
    )


def rl_inputs(cfg: Any, world: Any, start: str | None, out: Path) -> None:
    check_output(out)
    train_examples(cfg.data, world, cfg.train_size, cfg.prompts_per_step)
    model_header(start, "--from")


def parse_ks(text: str, samples: int) -> tuple[int, ...]:
    """`--k 1,8`: integers between 1 and --samples."""
    try:
        ks = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--k {text!r}: give comma-separated integers, e.g. --k 1,8") from None
    if not ks:
        raise ConfigError(f"--k {text!r}: give at least one k, e.g. --k 1")
    bad = [k for k in ks if not 1 <= k <= samples]
    if bad:
        raise ConfigError(
            f"--k {text!r}: every k must be between 1 and --samples {samples}; pass@{bad[0]} needs "
            f"--samples >= {bad[0]}"
        )
    return ks


def eval_options(n: int | None, samples: int, batch_size: int, max_new_tokens: int, temperature: float) -> None:
    for option, value, low in (
        ("--n", n, 1),
        ("--samples", samples, 1),
        ("--batch-size", batch_size, 1),
        ("--max-new-tokens", max_new_tokens, 1),
    ):
        if value is not None and value < low:
            raise ConfigError(f"{option} {value}: must be at least {low}")
    if temperature < 0:
        raise ConfigError(f"--temperature {temperature}: must be at least 0")


def eval_examples(suite: str, cfg: EvalConfig, data: str | None) -> list[dict[str, Any]]:
    """The suite's prompts, loaded before the model; a file or folder that is not the benchmark is named."""
    where = data or suite
    try:
        examples = get_suite(suite).load(n=cfg.n, **cfg.suite_args)
    except SpecsError:
        raise
    except StopIteration:
        raise DataError(where, None, None, "no rows; the file is empty") from None
    except Exception as e:  # noqa: BLE001 - datasets and pyarrow raise many kinds; the path is what helps
        if data is None:
            raise
        raise DataError(
            where,
            None,
            None,
            f"not a {suite} benchmark file or folder ({type(e).__name__}: {' '.join(str(e).split())[:300]})",
        ) from None
    if not examples:
        raise DataError(where, None, None, "no rows; nothing to evaluate")
    return list(examples)


def run_dir(path: Path) -> None:
    """`specs report DIR`: DIR must be a run directory (what `specs pipeline` writes), not any folder."""
    if not path.is_dir():
        raise ConfigError(f"{path}: run directory does not exist" if not path.exists() else f"{path}: not a directory")
    names = [p.name for p in path.iterdir()]
    if not any(n in RUN_MARKERS or n.startswith(RUN_PREFIXES) for n in names):
        raise ConfigError(
            f"{path}: not a run directory (no manifest.json, config.yaml or stage folders such as "
            "zero/, coldstart-*/, rl-*/, eval/); give runs/NAME"
        )


def ints(values: Sequence[str], option: str) -> list[int]:
    """Comma-separated integers of an option such as --seeds, named when one is not."""
    try:
        return [int(x) for x in values if x.strip()]
    except ValueError:
        raise ConfigError(f"{option} {','.join(values)!r}: give comma-separated integers, e.g. 0,1,2") from None
