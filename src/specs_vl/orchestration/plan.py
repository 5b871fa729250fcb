"""`specs plan`: what each training stage will do on N GPUs, and whether it fits, before any GPU hour.

Pure arithmetic over the run config: the batch split (training/batching.py),
the token budget and a memory estimate per GPU. The estimate is rough and
says so; it is there to catch a setting that cannot fit (a per-device batch
of 128 sequences of 10k tokens, a KV cache sized for 128k tokens), not to
replace a profiler.

Memory per GPU, bf16 weights with fp32 Adam (DeepSpeed / FSDP mixed precision):
weights 2 B/param, gradients 2 B/param, optimizer 12 B/param (fp32 master,
m, v); ZeRO-1 shards the optimizer, ZeRO-2 also the gradients, ZeRO-3 and
FSDP also the weights. Activations: with gradient checkpointing, each
layer's input (2 B x hidden per token) plus one layer recomputed (~34 B x
hidden per token); without it, ~34 B x hidden per token per layer. No
logits term: TRL 1.16's GRPO and DPO losses call the model with
`fused_lm_head=True` and never hold the full vocabulary's logits.
Image tokens per image come from `images.max_pixels` (28 x 28 pixels per
Qwen2.5-VL token), else from the checkpoint's own bound.
vLLM colocate takes `vllm_gpu_memory_utilization` of the card for its
weights and KV cache (2 x layers x kv_heads x head_dim x 2 B per token).
Distill's sampling workers take one GPU each, beside a judge served on the
same node (`distill.judge_gpus`). Host RAM per node while a stage loads its
model: bf16 weights, one full copy per rank unless ZeRO-3 builds them
partitioned (the TRL config exists before the model, so zero.Init acts) or
FSDP loads them on rank 0 only (`fsdp_cpu_ram_efficient_loading`); training
images are kept as stored and decoded per batch, so they add no copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from specs_vl.config import RunConfig
from specs_vl.models.loading import PATCH_AREA
from specs_vl.orchestration.model_shape import Shape, model_shape
from specs_vl.orchestration.paper import paper_differences
from specs_vl.training.batching import grpo_batching, pair_batching
from specs_vl.util.errors import ConfigError

GB = 1024**3
HEADROOM = 0.92  # of the card: CUDA context, allocator fragmentation, NCCL buffers


def sharding(launcher_file: str | None) -> str:
    """ "zero3", "zero2", "zero1", "fsdp", "ddp" or "none" (one process), from an accelerate config."""
    if not launcher_file:
        return "none"
    path = Path(launcher_file)
    if not path.exists():
        raise ConfigError(f"launcher.config_file {launcher_file}: file not found")
    acc = yaml.safe_load(path.read_text()) or {}
    kind = acc.get("distributed_type", "NO")
    if kind == "DEEPSPEED":
        return f"zero{(acc.get('deepspeed_config') or {}).get('zero_stage', 0)}".replace("zero0", "ddp")
    return {"FSDP": "fsdp", "MULTI_GPU": "ddp", "MULTI_CPU": "ddp"}.get(kind, "none")


def _cpu_ram_efficient(launcher_file: str | None) -> bool:
    """accelerate's fsdp_cpu_ram_efficient_loading: rank 0 loads the weights, the others get them by broadcast."""
    if not launcher_file or not Path(launcher_file).exists():
        return False
    acc = yaml.safe_load(Path(launcher_file).read_text()) or {}
    return bool((acc.get("fsdp_config") or {}).get("fsdp_cpu_ram_efficient_loading"))


def host_ram(shape: Shape, shard: str, gpus: int, launcher_file: str | None) -> tuple[float, str]:
    """(bytes of host RAM per node while the model loads, how), for `gpus` ranks on one node."""
    full = 2 * shape.params  # bf16: train_dtype() under DeepSpeed/FSDP
    if shard == "zero3":  # transformers 5 from_pretrained under the HfDeepSpeedConfig weakref: zero.Init
        return full, f"ZeRO-3 builds the weights partitioned: {full / gpus / GB:.1f} GB per rank"
    if shard == "fsdp" and _cpu_ram_efficient(launcher_file):
        return full, "FSDP loads on rank 0 only (fsdp_cpu_ram_efficient_loading)"
    ranks = max(gpus, 1)
    return ranks * full, f"{ranks} full copies of {full / GB:.1f} GB, one per rank"


def _static(shape: Shape, shard: str, gpus: int, trains: bool = True) -> dict[str, float]:
    p = shape.params
    w = 2 * p / (gpus if shard in ("zero3", "fsdp") else 1)
    if not trains:
        return {"weights": w}
    g = 2 * p / (gpus if shard in ("zero2", "zero3", "fsdp") else 1)
    o = 12 * p / (gpus if shard in ("zero1", "zero2", "zero3", "fsdp") else 1)
    return {"weights": w, "gradients": g, "optimizer": o}


def _activations(shape: Shape, tokens: int, checkpointing: bool) -> float:
    per_token = (2 * shape.layers + 34) if checkpointing else 34 * shape.layers
    return per_token * shape.hidden * tokens


@dataclass
class StagePlan:
    name: str
    lines: list[str] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)  # bytes per GPU, training peak
    vllm: float = 0.0  # bytes per GPU vLLM holds
    warnings: list[str] = field(default_factory=list)

    @property
    def peak(self) -> float:
        return sum(self.memory.values())


def image_tokens(cfg: RunConfig, shape: Shape) -> tuple[int, str]:
    """Tokens of one image at most, and where the figure comes from."""
    if cfg.images.max_pixels:
        return min(
            cfg.images.max_pixels // PATCH_AREA, shape.image_tokens
        ), f"images.max_pixels {cfg.images.max_pixels:,}"
    return shape.image_tokens, "the checkpoint's own max_pixels: set images.max_pixels to bound it"


def _grpo(name: str, c: Any, shape: Shape, shard: str, gpus: int, card: float, images: tuple[int, str]) -> StagePlan:
    b = grpo_batching(c.prompts_per_step, c.num_generations, gpus, c.mini_batch_prompts, c.micro_batch_size, name)
    plan = StagePlan(name)
    prompt = c.max_prompt_length or shape.prompt_tokens
    seq = prompt + c.max_completion_length
    plan.lines += [
        f"rollout batch: {b.rollout_prompts} prompts x {c.num_generations} = {b.rollout_completions} completions "
        f"(global); {b.rollout_completions // gpus} per GPU",
        f"mini-batch: {b.mini_batch_prompts} prompts = {b.mini_batch_completions} completions per optimiser step; "
        f"{b.optimizer_steps_per_rollout} optimiser steps per rollout batch"
        + (" (on-policy: clip-higher cannot act)" if b.optimizer_steps_per_rollout == 1 else ""),
        f"per GPU: micro-batch {b.micro_batch} completions, gradient accumulation {b.grad_accum}, "
        f"steps_per_generation {b.steps_per_generation}",
        f"steps: {c.steps} rollout batches = {c.steps * b.optimizer_steps_per_rollout} optimiser steps; "
        f"{c.steps * b.rollout_completions:,} completions",
        f"tokens per sequence: prompt + images <= {prompt:,} (longer prompts are dropped before training; one "
        f"image <= {images[0]:,} tokens, from {images[1]}), completion <= {c.max_completion_length:,}; {seq:,} in all",
        f"loss: {c.loss_type}, scale_rewards {c.scale_rewards}, epsilon_high {c.epsilon_high}, beta {c.beta}",
    ]
    plan.memory = _static(shape, shard, gpus)
    plan.memory["activations"] = _activations(shape, b.micro_batch * seq, c.gradient_checkpointing)
    if c.vllm == "colocate":
        tp = c.vllm_tensor_parallel_size
        max_len = c.vllm_max_model_length or seq
        plan.vllm = c.vllm_gpu_memory_utilization * card
        kv_per_token = 2 * shape.layers * shape.kv_heads * shape.head_dim * 2 / tp
        kv = plan.vllm - 2 * shape.params / tp - 2 * GB
        fits_seqs = kv / (kv_per_token * max_len) if kv > 0 else 0
        plan.lines.append(
            f"vLLM colocate: {c.vllm_gpu_memory_utilization:.0%} of the card, max length {max_len:,}, "
            f"KV cache {max(kv, 0) / GB:.1f} GB = {fits_seqs:.0f} sequences of {max_len:,} at once; "
            f"sleep mode {'on' if c.vllm_enable_sleep_mode else 'off'}, TP {tp}"
        )
        if fits_seqs < 1:
            plan.warnings.append(
                f"{name}: vLLM's KV cache cannot hold one {max_len:,}-token sequence; raise "
                f"{name}.vllm_gpu_memory_utilization or set {name}.vllm_tensor_parallel_size"
            )
        if max_len < seq:
            plan.warnings.append(
                f"{name}: vllm_max_model_length {max_len:,} is below prompt + completion {seq:,}; "
                f"raise {name}.vllm_max_model_length"
            )
    if name == "rl":
        _rl_eval(plan, c, shape, shard, gpus, card, prompt)
    if images[0] >= prompt:
        plan.warnings.append(
            f"{name}: one image can take {images[0]:,} tokens ({images[1]}), over the prompt budget of {prompt:,}: "
            "every such prompt would be dropped; set images.max_pixels"
        )
    return plan


def _rl_eval(plan: StagePlan, c: Any, shape: Shape, shard: str, gpus: int, card: float, prompt: int) -> None:
    """RL's own eval (step 0, every eval_every, the end): HF generate beside the resident training state and
    vLLM, its KV cache 2 x layers x kv_heads x head_dim x 2 B per token for each sequence of a batch."""
    new = c.eval_max_new_tokens or max(64, c.max_completion_length)
    seqs = c.eval_batch_size  # sequences per generate call: sampling.generate batches prompt x sample rows
    kv = seqs * (prompt + new) * 2 * shape.layers * shape.kv_heads * shape.head_dim * 2
    static = _static(shape, shard, gpus)
    resident = sum(static.values()) + plan.vllm
    plan.lines.append(
        f"RL eval (HF generate): {seqs} sequences of <= {prompt + new:,} tokens per call, "
        f"KV cache {kv / GB:.1f} GB beside {resident / GB:.1f} GB of training state and vLLM"
    )
    if kv + resident > card * HEADROOM:
        fit = max(0, int((card * HEADROOM - resident) // (kv / c.eval_batch_size)))
        plan.warnings.append(
            f"rl: the eval's KV cache ({kv / GB:.0f} GB) does not fit beside the training state and vLLM; "
            f"set rl.eval_batch_size to {fit} or less"
            + (" (none fits: shorten rl.eval_max_new_tokens)" if not fit else "")
        )


def _distill(c: Any, shape: Shape, gpus: int, card: float) -> StagePlan:
    """Distill's sampling workers (one GPU each, recipe/distill_sampling.py) and a judge on the same node."""
    plan = StagePlan("distill")
    workers, judge = c.data_parallel_size, c.judge_gpus if c.judge == "http" else 0
    if c.backend == "hf":
        plan.lines.append(f"sampling: HF generate, {workers} worker(s), one GPU each")
    else:
        plan.vllm = c.vllm_gpu_memory_utilization * card
        kv = plan.vllm - 2 * shape.params - 2 * GB
        plan.lines.append(
            f"sampling: {workers} vLLM worker(s), one GPU each, {c.vllm_gpu_memory_utilization:.0%} of the card: "
            f"weights {2 * shape.params / GB:.1f} GB, KV cache {max(kv, 0) / GB:.1f} GB"
        )
        if kv <= 0:
            plan.warnings.append(
                f"distill: {c.vllm_gpu_memory_utilization:.0%} of the card does not hold the weights; raise "
                "distill.vllm_gpu_memory_utilization"
            )
    where = f"{judge} GPU(s) of this node (distill.judge_gpus)" if judge else "served elsewhere"
    if c.judge == "http":
        plan.lines.append(f"judge: http at {c.judge_url}, {where}")
    plan.lines.append(f"GPUs: {workers} sampling + {judge} judge of {gpus}")
    if workers + judge > gpus:
        plan.warnings.append(
            f"distill: {workers} sampling GPUs and {judge} judge GPUs are more than the node's {gpus}; lower "
            "distill.data_parallel_size"
        )
    local = c.judge_url and any(h in c.judge_url for h in ("//127.0.0.1", "//localhost", "//0.0.0.0"))
    if c.judge == "http" and local and not judge:
        plan.warnings.append(
            f"distill: the judge at {c.judge_url} runs on this node but distill.judge_gpus is 0; say how many GPUs "
            "it holds, and start distill with CUDA_VISIBLE_DEVICES on the others"
        )
    return plan


def _coldstart(c: Any, shape: Shape, shard: str, gpus: int, n_pairs: int) -> StagePlan:
    b = pair_batching(c.batch_size, gpus, c.micro_batch_size)
    plan = StagePlan("coldstart")
    length = c.max_length or 2 * shape.prompt_tokens
    steps = c.max_steps or max(1, round(n_pairs * c.epochs / c.batch_size))
    plan.lines += [
        f"batch: {b.batch} pairs per optimiser step (global); per GPU: micro-batch {b.micro_batch} pairs, "
        f"gradient accumulation {b.grad_accum}",
        f"steps: ~{steps} optimiser steps for {n_pairs:,} pairs x {c.epochs} epoch(s)",
        f"tokens per pair side: <= {length:,} (prompt + images + response; "
        + ("longer pairs are dropped)" if c.max_length else "no max_length: assumed)"),
        f"method {c.method}: beta {c.beta}, lambda {c.sft_weight}, lr {c.learning_rate}; reference "
        + ("precomputed (no copy)" if c.precompute_ref else "a second copy of the weights"),
    ]
    plan.memory = _static(shape, shard, gpus)
    if c.method != "sft" and not c.precompute_ref and c.lora is None:
        plan.memory["reference"] = _static(shape, shard, gpus, trains=False)["weights"]
    plan.memory["activations"] = _activations(shape, 2 * b.micro_batch * length, c.gradient_checkpointing)
    return plan


def plan_run(cfg: RunConfig, gpus: int, gpu_memory_gb: float = 80, n_pairs: int = 9000) -> list[StagePlan]:
    """One StagePlan per training stage; `warnings` name the setting to change where a stage will not fit."""
    shape = model_shape(cfg)
    shard = sharding(cfg.launcher.config_file) if gpus > 1 or cfg.launcher.active else "none"
    card = gpu_memory_gb * GB
    plans = [
        _grpo("zero", cfg.zero, shape, shard, gpus, card, image_tokens(cfg, shape)),
        _distill(cfg.distill, shape, gpus, card),
        _coldstart(cfg.coldstart, shape, shard, gpus, n_pairs),
        _grpo("rl", cfg.rl, shape, shard, gpus, card, image_tokens(cfg, shape)),
    ]
    ram, how = host_ram(shape, shard, gpus, cfg.launcher.config_file)
    for p in plans:
        if p.name != "distill":
            p.lines.append(
                f"host RAM while loading: ~{ram / GB:.0f} GB per node ({how}); training images stay as stored "
                "and are decoded per batch"
            )
    for p in plans:
        if p.name == "distill":
            continue
        sleep = getattr(getattr(cfg, p.name), "vllm_enable_sleep_mode", False)
        room = card * HEADROOM - (0 if sleep else p.vllm)
        if p.peak > room:
            p.warnings.append(_advice(p, cfg, shard, gpus, room))
        elif p.vllm and sum(v for k, v in p.memory.items() if k in ("weights", "optimizer")) + p.vllm > card * HEADROOM:
            p.warnings.append(
                f"{p.name}: the policy's weights and optimizer plus vLLM's share exceed the card "
                f"while generating; lower {p.name}.vllm_gpu_memory_utilization"
            )
    if gpus > 1 and not cfg.launcher.active:
        plans[0].warnings.append(
            "launcher: unset, so `specs pipeline` trains in one process on one GPU; set "
            "launcher.config_file (configs/accelerate/deepspeed_zero3.yaml) and num_processes"
        )
    return plans


def _advice(p: StagePlan, cfg: RunConfig, shard: str, gpus: int, room: float) -> str:
    need = f"{p.name}: needs ~{p.peak / GB:.0f} GB per GPU, {room / GB:.0f} GB free; "
    if shard not in ("zero3", "fsdp") and (p.memory.get("optimizer", 0) > room / 3):
        return need + "shard it: launcher.config_file configs/accelerate/deepspeed_zero3.yaml"
    section = getattr(cfg, p.name)
    if not section.gradient_checkpointing and p.memory["activations"] > room / 4:
        return need + f"set {p.name}.gradient_checkpointing: true"
    if p.name == "coldstart" and "reference" in p.memory:
        return need + "set coldstart.precompute_ref: true"
    return (
        need
        + f"lower {p.name}.micro_batch_size"
        + ("" if p.name == "coldstart" else f" or {p.name}.vllm_gpu_memory_utilization")
    )


def render(cfg: RunConfig, plans: list[StagePlan], gpus: int, gpu_memory_gb: float) -> str:
    shape = model_shape(cfg)
    shard = sharding(cfg.launcher.config_file) if gpus > 1 or cfg.launcher.active else "none"
    out = [
        f"plan: {cfg.name} on {gpus} x {gpu_memory_gb:g} GB; model {shape.name} ({shape.params / 1e9:.2f}B "
        f"params); sharding {shard}; memory figures are rough estimates per GPU"
    ]
    for p in plans:
        out.append(f"\n[{p.name}]")
        out += [f"  {line}" for line in p.lines]
        mem = ", ".join(f"{k} {v / GB:.1f}" for k, v in p.memory.items())
        vllm = f" + vLLM {p.vllm / GB:.1f}" if p.vllm else ""
        if p.memory:
            out.append(f"  memory per GPU (GB): {mem}; training peak {p.peak / GB:.1f}{vllm} of {gpu_memory_gb:g}")
        elif p.vllm:
            out.append(f"  memory per GPU (GB): vLLM {p.vllm / GB:.1f} of {gpu_memory_gb:g}")
        out += [f"  warning: {w}" for w in p.warnings]
        if not p.warnings:
            out.append("  fits")
    bad = [p.name for p in plans if p.warnings]
    differ = paper_differences(cfg)
    paper = (
        "the paper's settings (RL rollout batch 128 prompts x 8, completion 10,240, 800 steps, lr 1e-6, "
        "no KL; cold start batch 64, max length 16,384, lr 1e-6, lambda 1)"
    )
    out.append("")
    out.append(
        f"{'these are' if not differ else 'these differ from'} {paper}"
        + ("" if not differ else ": " + "; ".join(differ))
    )
    out.append(
        f"will not fit as configured: {', '.join(bad)} (see the warnings)"
        if bad
        else f"every training stage fits on {gpus} x {gpu_memory_gb:g} GB"
        + (": the paper's settings fit" if not differ else "")
    )
    return "\n".join(out)
