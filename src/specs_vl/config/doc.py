"""docs/config.md, generated from the pydantic models: every key, its type, its default and its meaning.

A key's meaning is the comment on its line in the model's source (or a
pydantic `description`); `tests/e2e/test_user_runs.py` fails when a key has none
or when docs/config.md differs from what this writes (`specs config doc > docs/config.md`).
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from typing import Any

from pydantic import BaseModel

from specs_vl.config import RunConfig

_LINE = re.compile(r"^\s+(\w+)\s*:[^#]*#\s*(.+)$")

HEADER = """# Config reference

Generated from the pydantic models by `specs config doc > docs/config.md`; a test keeps it current.
Every key can be set in the YAML file or on the command line as `section.key=value`
(`specs coldstart -c x.yaml coldstart.learning_rate=1e-6 coldstart.batch_size=8`); both are validated the
same way. `specs config show [-c x.yaml] [overrides]` prints the resolved config.
Held-out sets (`coldstart.curve_id`, `coldstart.curve_ood`, `rl.eval_id`, `rl.eval_ood`, `eval.suites`) are a
suite name or `data:PATH` for your own file in the example schema (docs/data.md).
"""


# Meanings of keys whose line in the source carries no comment (a comment there takes precedence).
MEANINGS = {
    "name": "run directory runs/NAME",
    "is_correction": "vLLM rollout importance-sampling correction: none (verl's default) or a TRL mode",
    "seeds": "training seeds; with several, one seed-S/ dir each and mean +- std in the report",
    "methods": "cold starts the pipeline trains and compares",
    "world": "the procedural world: the default data when no data is named",
    "world.seed": "seed of the world's examples (deterministic in seed, split, index)",
    "world.train_size": "examples in the world's train split",
    "world.id_test_size": "examples in world-id (held-out, training families, format instruction)",
    "world.ood_test_size": "examples in each OOD set: ood_domain, ood_surface, ood_requirement",
    "world.test_fraction": "share of image hashes reserved for test splits (train/test images disjoint)",
    "world.train_families": "task families of train and world-id",
    "world.ood_families": "task families seen only in world-ood",
    "world.dev_size": "examples in world-dev (tuning only; disjoint images from train and every test split)",
    "world.retention_size": "examples in world-retention (full style switches; reported apart, not in GF)",
    "world.dev_fraction": "share of image hashes reserved for dev",
    "world.requirement_styles": "requirements inside <answer> that world-ood-requirement asks for",
    "world.retention_styles": "full output-style switches of world-retention (boxed, letter, JSON, prose hint)",
    "base": "the tiny base model built when base_model is not set",
    "base.vocab_size": "BPE vocabulary size, trained on the world's text",
    "base.hidden_size": "text model width",
    "base.intermediate_size": "text MLP width",
    "base.num_layers": "text decoder layers",
    "base.num_heads": "attention heads",
    "base.num_kv_heads": "key/value heads",
    "base.vision_depth": "vision tower blocks",
    "base.vision_hidden_size": "vision tower width",
    "base.vision_heads": "vision tower heads",
    "base.pretrain_examples": "pretraining corpus size",
    "base.steps": "pretraining steps",
    "base.batch_size": "pretraining batch size",
    "base.lr": "pretraining learning rate",
    "base.seed": "pretraining seed",
    "base.calibration_n": "world-id prompts sampled for calibration.json",
    "base.max_new_tokens": "response length limit of the calibration samples",
    "zero": "stage 1a, a short GRPO run from the base (TRL GRPOTrainer)",
    "rl": "stage 3, GRPO with verifiable rewards (TRL GRPOTrainer); same keys as zero plus evaluation",
    "distill": "stage 1b, self-distilled preference pairs",
    "coldstart": "stage 2, the cold start on the pairs (TRL DPOTrainer / SFTTrainer) and its GF curve",
    "eval": "the pipeline's final evaluation of every model",
    "steps": "optimizer steps",
    "learning_rate": "learning rate",
    "seed": "training seed",
    "num_generations": "rollouts per prompt (a GRPO group)",
    "prompts_per_step": "distinct prompts per step",
    "max_completion_length": "rollout length limit (tokens)",
    "temperature": "sampling temperature",
    "epsilon_high": "upper clip range (clip-higher, DAPO)",
    "beta": "KL weight (0: no KL, the paper's setting)",
    "format_weight": "reward for a valid <think>/<answer> format",
    "accuracy_weight": "reward for a correct answer",
    "train_size": "use only the first N training examples (None: all)",
    "save_steps": "checkpoint every N steps",
    "vllm_server_port": "port of `trl vllm-serve` for vllm: server",
    "distill.top_p": "nucleus sampling top-p",
    "distill.max_new_tokens": "response length limit (tokens)",
    "distill.batch_size": "prompts per sampling batch",
    "distill.pairs_per_question": "pairs kept per question",
    "distill.mode": "decoupled (both sides correct, differ in format) or coupled (rejected side wrong)",
    "distill.judge": "reasoning/answer consistency judge: rule, http (OpenAI-compatible) or none",
    "distill.judge_model": "model name sent to the http judge",
    "distill.judge_timeout": "seconds per judge request",
    "distill.judge_retries": "retries with backoff per judge request (HTTP 408/409/429/5xx, timeouts, bad replies)",
    "distill.judge_concurrency": "judge requests in flight",
    "distill.data": "questions in the example schema "
    "(.jsonl/.json/.parquet, save_to_disk folder or hub id); None: the world's train split",
    "coldstart.method": "dpo-sft (SPECS), dpo (lambda 0) or sft",
    "coldstart.beta": "DPO beta",
    "coldstart.epochs": "epochs over the pairs",
    "coldstart.batch_size": "pairs per optimizer step, global (all processes together)",
    "coldstart.gradient_accumulation_steps": "steps accumulated per optimizer step",
    "coldstart.lora": "LoRA adapters (peft), merged at the end; null: full fine-tuning",
    "lora": "LoRA adapters (peft) on every linear layer (the tower's too unless frozen), merged at the end; "
    "null: every weight trains",
    "coldstart.lora.r": "LoRA rank",
    "coldstart.lora.alpha": "LoRA alpha",
    "coldstart.lora.dropout": "LoRA dropout",
    "coldstart.lora.target_modules": "modules given adapters",
    "coldstart.warmup_ratio": "warmup share of the steps",
    "coldstart.psi": "Psi: strict (right answer in the asked style), accuracy or format",
    "coldstart.curve_temperature": "sampling temperature of the GF-curve evaluation",
    "coldstart.curve_max_new_tokens": "response length limit of the GF-curve evaluation",
    "rl.eval_temperature": "sampling temperature of the ID/OOD evaluation",
    "eval.suites": "suites every model is evaluated on: names or data:PATH",
    "eval.samples": "responses per prompt",
    "eval.ks": "k values of pass@k",
    "eval.temperature": "sampling temperature",
    "eval.max_new_tokens": "response length limit (tokens)",
    "eval.batch_size": "prompts per sampling batch",
    "eval.seed": "sampling seed",
    "vllm_max_model_length": "vLLM context: prompt (image tokens included) + max completion; None: inferred",
    "vllm_gpu_memory_utilization": "share of each GPU for vLLM's weights and KV cache",
    "vllm_enable_sleep_mode": "offload vLLM while the trainer steps",
    "vllm_tensor_parallel_size": "GPUs one vLLM engine spans",
    "distill.rejected_source": "rejected sides: corrupt (a correct base response, corrupted; the paper), natural "
    "(a mis-formatted base response) or mixed",
    "tune_lr.grid": "learning rates tried, smallest first",
    "tune_lr.suite": "the dev suite the rule is judged on",
    "tune_lr.max_new_tokens": "response length limit of the dev evaluation",
    "tune_lr.batch_size": "prompts per sampling batch of the dev evaluation",
    "findings.n_boot": "bootstrap resamples per interval",
    "findings.level": "interval coverage (0.95: a 95 % interval)",
    "findings.predictions": "pre-registered predictions, written before the run, shown beside the verdicts",
}


def _comments(model: type[BaseModel]) -> dict[str, str]:
    out: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            src = inspect.getsource(cls)
        except (OSError, TypeError):
            continue
        for line in src.splitlines():
            m = _LINE.match(line)
            if m:
                out[m.group(1)] = m.group(2).strip()
    return out


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
    notes = _comments(model)
    out = []
    for name, field in model.model_fields.items():
        key = prefix + name
        sub = _submodel(field.annotation)
        meaning = field.description or notes.get(name) or MEANINGS.get(key) or MEANINGS.get(name, "")
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
