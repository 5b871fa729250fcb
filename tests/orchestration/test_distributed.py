"""A real 2-process data-parallel run on the CPU (accelerate launch, gloo) against a 1-process run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACCELERATE = Path(sys.executable).parent / "accelerate"


def _config(tmp_path: Path, world, base_dir: Path, **sections) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"name": "ddp", "world": world.model_dump(mode="json"), "base_model": str(base_dir), **sections})
    )
    return path


def _run(args: list[str], procs: int, cwd: Path, pythonpath: str | None = None) -> None:
    env = {**os.environ, "SPECS_QUIET": "1", "OMP_NUM_THREADS": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    if procs == 1:
        cmd = [sys.executable, "-m", "specs_vl.cli", *args]
    else:
        # Two real gloo processes. `accelerate launch` with cpu_2proc.yaml (MULTI_CPU, no mpirun hostfile)
        # goes to accelerate 1.x's simple_launcher, which starts ONE process; torchrun starts two and
        # exports RANK/WORLD_SIZE, and TrainingArguments(use_cpu=True) then joins them over gloo.
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "specs_vl.cli",
            *args,
        ]
        env["ACCELERATE_USE_CPU"] = "true"
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    # torchrun's summary ends stderr; the failing rank's own `error:` line comes before it.
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:") or "Error:" in line]
    assert done.returncode == 0, "\n".join(errors[-5:]) + "\n" + done.stderr[-2000:]


@pytest.mark.skipif(not ACCELERATE.exists(), reason="accelerate CLI not installed")
def test_two_process_coldstart_matches_one_process(tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path):
    from specs_vl.models.load import load_vlm

    common = {
        "method": "dpo",
        "max_steps": 3,
        "save_steps": 3,
        "curve_every": 0,
        "curve_id_n": 4,
        "curve_ood_n": 4,
        "learning_rate": 2e-3,
        "curve_temperature": 0.0,
        "curve_samples": 1,
    }  # greedy: 1 and 2 processes must give one Psi
    from datasets import load_from_disk

    # One pair repeated: every batch holds the same rows whatever order each sampler draws them in,
    # so 2 ranks x 2 pairs with averaged gradients must equal 1 x 4 pairs.
    pairs = tmp_path / "pairs"
    load_from_disk(str(tiny_pairs_dir)).select([0] * 16).save_to_disk(str(pairs))
    tiny_pairs_dir = pairs
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    # batch_size is global (issue 15): 4 pairs per optimiser step on one process or two.
    one = _config(tmp_path / "one", tiny_world, tiny_base_dir, coldstart={**common, "batch_size": 4})
    two = _config(tmp_path / "two", tiny_world, tiny_base_dir, coldstart={**common, "batch_size": 4})
    _run(["coldstart", "-q", "-c", str(one), "--pairs", str(tiny_pairs_dir), "--out", "out"], 1, tmp_path / "one")
    _run(["coldstart", "-q", "-c", str(two), "--pairs", str(tiny_pairs_dir), "--out", "out"], 2, tmp_path / "two")
    r1, r2 = (json.loads((tmp_path / d / "out" / "result.json").read_text()) for d in ("one", "two"))
    assert r1["steps"] == r2["steps"] == 3
    m1, _ = load_vlm(tmp_path / "one" / "out" / "model")
    m2, _ = load_vlm(tmp_path / "two" / "out" / "model")
    base, _ = load_vlm(tiny_base_dir)
    # Adam turns float-order noise in near-zero gradients into lr-sized steps, so elementwise equality
    # is ill-posed; the two runs must instead agree far more closely than either moved from the base.
    flat = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (m1, m2, base)]
    moved = (flat[0] - flat[2]).abs().mean()
    apart = (flat[0] - flat[1]).abs().mean()
    assert moved > 0 and apart < 0.02 * moved, (float(apart), float(moved))
    losses = [
        [
            json.loads(line)["loss"]
            for line in (tmp_path / d / "out" / "log.jsonl").read_text().splitlines()
            if '"loss"' in line
        ]
        for d in ("one", "two")
    ]
    assert len(losses[0]) == len(losses[1]) == 3
    for a, b in zip(*losses):
        assert abs(a - b) <= 1e-3 * max(1.0, abs(a)), losses  # the same trajectory, step by step
    assert not list((tmp_path / "two" / "out").glob(".model*"))  # no temp dirs left by either rank
    _same_curve_start(tmp_path / "one" / "out" / "gf_curve.json", tmp_path / "two" / "out" / "gf_curve.json")


@pytest.mark.skipif(not ACCELERATE.exists(), reason="accelerate CLI not installed")
def test_two_process_dpo_with_the_reference_precomputed(tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path):
    """`--precompute-ref` on 2 ranks. `load_pairs` gives rows in memory, for which datasets names TRL's
    reference cache file at random in a per-process temp dir, so rank 1 could not open rank 0's file
    (ref_logps._on_shared_disk). At step 1 the policy is the reference, so every implicit reward is 0."""
    from datasets import load_from_disk

    (tmp_path / "two").mkdir()
    pairs = tmp_path / "two" / "pairs.jsonl"  # a user's file: no extra columns, so nothing of it is on disk
    with pairs.open("w") as f:
        for i, row in enumerate(load_from_disk(str(tiny_pairs_dir)).select(range(8))):
            row["images"][0].save(tmp_path / "two" / f"{i}.png")
            f.write(json.dumps({k: row[k] for k in ("prompt", "chosen", "rejected")} | {"images": [f"{i}.png"]}) + "\n")
    cfg = _config(
        tmp_path / "two",
        tiny_world,
        tiny_base_dir,
        coldstart={
            "method": "dpo",
            "precompute_ref": True,
            "max_steps": 2,
            "save_steps": 2,
            "batch_size": 4,
            "learning_rate": 2e-3,
            "curve_every": 0,
            "curve_id_n": 4,
            "curve_ood_n": 4,
            "curve_temperature": 0.0,
            "curve_samples": 1,
        },
    )
    _run(["coldstart", "-q", "-c", str(cfg), "--pairs", str(pairs), "--out", "out"], 2, tmp_path / "two")
    out = tmp_path / "two" / "out"
    logs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if '"loss"' in line]
    assert len(logs) == 2
    assert abs(logs[0]["rewards/chosen"]) < 1e-4 and abs(logs[0]["rewards/rejected"]) < 1e-4, logs[0]
    assert abs(logs[1]["rewards/margins"]) > 1e-4  # one step later the policy has left the reference
    assert json.loads((out / "result.json").read_text())["steps"] == 2


def _same_curve_start(one: Path, two: Path) -> None:
    """The GF/eval curve: every rank generated its share of the prompts, and the gathered Psi is the
    1-process Psi (step 0: the same base model, greedy)."""
    p1, p2 = (json.loads(f.read_text())["points"] for f in (one, two))
    assert [p["step"] for p in p1] == [p["step"] for p in p2]
    for a, b in zip(p1, p2):
        assert a["prompts_per_rank"] == {"world-id": [4], "world-ood": [4]}  # per set the curve evaluates
        assert b["prompts_per_rank"] == {"world-id": [2, 2], "world-ood": [2, 2]}  # both ranks called generate
    assert (p1[0]["psi_id"], p1[0]["psi_ood"]) == (p2[0]["psi_id"], p2[0]["psi_ood"])
    assert p1[0]["id"] == p2[0]["id"] and p1[0]["ood"] == p2[0]["ood"]


@pytest.mark.skipif(not ACCELERATE.exists(), reason="accelerate CLI not installed")
def test_two_process_rl_ends_with_the_outputs_of_one_process(tiny_world, tiny_base_dir, tmp_path):
    rl = {
        "steps": 2,
        "num_generations": 2,
        "prompts_per_step": 2,
        "max_completion_length": 12,
        "save_steps": 2,
        "train_size": 16,
        "eval_id_n": 4,
        "eval_ood_n": 4,
        "eval_temperature": 0.0,
        "eval_samples": 1,
    }  # greedy: 1 and 2 processes must give one Psi
    outs = {}
    for procs in (1, 2):
        d = tmp_path / f"p{procs}"
        d.mkdir()
        cfg = _config(d, tiny_world, tiny_base_dir, rl=rl)
        _run(["rl", "-q", "-c", str(cfg), "--from", str(tiny_base_dir), "--out", "out"], procs, d)
        outs[procs] = d / "out"
    names = [sorted(p.name for p in o.iterdir() if not p.name.startswith(".")) for o in outs.values()]
    assert names[0] == names[1]
    for o in outs.values():
        assert json.loads((o / "result.json").read_text())["steps"] == 2
        assert [r["step"] for r in json.loads((o / "curve.json").read_text())] == [1, 2]
    _same_curve_start(outs[1] / "eval_curve.json", outs[2] / "eval_curve.json")


# Loaded by each rank's interpreter (sitecustomize on PYTHONPATH): the ranks disagree on the step to keep, and
# every restore is written down, so the test sees what each rank did.
_DISAGREE = """
import os
if "RANK" in os.environ:  # torchrun's workers, not the launcher
    import specs_vl.recipe.coldstart as cs
    rank, real_choose, real_restore = os.environ["RANK"], cs.choose_step, cs.restore_checkpoint
    def choose_step(points, rule):
        return {**real_choose(points, rule), "step": 2 if rank == "0" else 1, "why": "rank " + rank}
    def restore_checkpoint(trainer, checkpoint):
        with open("restored.txt", "a") as f:
            f.write(rank + " " + os.path.basename(str(checkpoint)) + "\\n")
        real_restore(trainer, checkpoint)
    cs.choose_step, cs.restore_checkpoint = choose_step, restore_checkpoint
"""


@pytest.mark.skipif(not ACCELERATE.exists(), reason="accelerate CLI not installed")
def test_two_process_select_restores_rank_0s_choice_on_every_rank(tiny_world, tiny_base_dir, tiny_pairs_dir, tmp_path):
    """`coldstart.select: gf` is a decision: rank 0's step reaches every rank before the (under ZeRO-3
    collective) restore, and the saved model is that step's checkpoint."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_DISAGREE)
    (tmp_path / "two").mkdir()
    cfg = _config(
        tmp_path / "two",
        tiny_world.model_copy(update={"test_start": 16}),
        tiny_base_dir,
        coldstart={
            "method": "sft",
            "select": "gf",
            "max_steps": 3,
            "batch_size": 4,
            "learning_rate": 2e-3,
            "curve_every": 1,
            "curve_id": "world-dev",
            "curve_ood": ["world-dev-ood"],
            "curve_id_n": 4,
            "curve_ood_n": 4,
            "curve_samples": 1,
            "curve_max_new_tokens": 16,
        },
    )
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    _run(["coldstart", "-q", "-c", str(cfg), "--pairs", str(tiny_pairs_dir), "--out", "out"], 2, tmp_path / "two", path)
    out = tmp_path / "two" / "out"
    assert sorted((tmp_path / "two" / "restored.txt").read_text().split("\n")[:-1]) == [
        "0 checkpoint-2",
        "1 checkpoint-2",
    ]
    assert json.loads((out / "result.json").read_text())["selected"]["why"] == "rank 0"

    def weights(p):
        return Qwen2_5_VLForConditionalGeneration.from_pretrained(str(p), dtype=torch.float32).state_dict()

    saved, step2, step3 = (
        weights(p) for p in (out / "model", out / "checkpoints/checkpoint-2", out / "checkpoints/checkpoint-3")
    )
    assert all(torch.equal(saved[k], step2[k]) for k in saved)
    assert not all(torch.equal(saved[k], step3[k]) for k in saved)
