"""Our verl command against verl itself, and the reward in an environment without torch.

verl is installed (once, cached) into its own virtualenv: `verl --no-deps`
plus what its Hydra composition and its reward loader import (hydra-core,
omegaconf, and ray + tensordict, which `import verl` pulls in through
`verl.protocol`); torch, numpy and pyarrow come from this environment through
a .pth file, so nothing heavy is downloaded. This needs the package index
(CI has it) the first time; the venv is reused afterwards.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

from side_venv import side_python

ROOT = Path(__file__).resolve().parents[2]
VERL_VERSION = "0.9.1"  # the verl release this was checked against
VENV = Path(os.environ.get("SPECS_VERL_VENV", Path.home() / ".cache" / "specs-vl" / f"verl-venv-{VERL_VERSION}"))
# what `import verl` (verl/__init__ -> verl.protocol) and Hydra composition need beyond this environment
VERL_EXTRAS = ["hydra-core", "omegaconf", "tensordict", "ray"]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def verl_python() -> Path:
    """The cached virtualenv's python, built on first use."""
    return side_python(VENV, VERL_VERSION, [["--no-deps", f"verl=={VERL_VERSION}"], VERL_EXTRAS])


def _specs(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SPECS_QUIET": "1"}
    return _run([sys.executable, "-m", "specs_vl.cli", "export", "verl", *args], cwd=cwd, env=env)


def test_our_command_composes_with_verls_own_config(tmp_path):
    from specs_vl.config import RunConfig
    from specs_vl.export.verl_command import verl_overrides

    cfg_path = tmp_path / "run.yaml"
    cfg_path.write_text(
        "name: v\nworld:\n  train_size: 8\n  id_test_size: 4\n"
        "rl:\n  steps: 7\n  num_generations: 4\n  prompts_per_step: 4\n  max_completion_length: 512\n"
        "  epsilon_high: 0.28\n  learning_rate: 1.0e-6\n"
    )
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "qwen3_vl", "vision_config": {"patch_size": 16}}))
    assert _specs("val.parquet", "--split", "id_test", "-c", str(cfg_path), cwd=tmp_path).returncode == 0
    r = _specs(
        "train.parquet",
        "-c",
        str(cfg_path),
        "--print-command",
        "--val",
        "val.parquet",
        "--model",
        str(model),
        "--gpus",
        "8",
        "--max-prompt-length",
        "4096",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    (tmp_path / "cmd.sh").write_text(r.stdout)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # our specs_vl first (verl imports the reward by path)
    out = _run(
        [
            str(verl_python()),
            str(ROOT / "tests" / "helpers" / "verl_check.py"),
            str(tmp_path / "cmd.sh"),
            str(tmp_path / "val.parquet"),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    expected = verl_overrides(
        RunConfig.model_validate(
            {
                "name": "v",
                "rl": {
                    "steps": 7,
                    "num_generations": 4,
                    "prompts_per_step": 4,
                    "max_completion_length": 512,
                    "epsilon_high": 0.28,
                    "learning_rate": 1e-6,
                },
            }
        ),
        tmp_path / "train.parquet",
        tmp_path / "val.parquet",
        model,
        8,
        1,
        4096,
    )
    assert got["values"] == json.loads(json.dumps(expected))  # every value we set arrives as we set it
    v = got["values"]
    assert v["actor_rollout_ref.rollout.n"] == 4 and v["data.image_patch_size"] == 16
    assert v["data.max_prompt_length"] == 4096 and v["data.max_response_length"] == 512
    assert v["actor_rollout_ref.actor.clip_ratio_high"] == 0.28 and v["data.train_batch_size"] == 4
    assert v["data.val_files"].endswith("val.parquet") and v["actor_rollout_ref.model.path"] == str(model)
    assert got["reward_path"] == str(ROOT / "src" / "specs_vl" / "scoring" / "rewards.py")
    assert got["legacy_reward_path"] is None  # not the top-level key verl no longer reads
    assert got["right"] == {"score": 1.5, "acc": 1.0, "format": 1.0}  # verl's loader, our compute_score
    assert got["wrong"] == {"score": 0.5, "acc": 0.0, "format": 1.0}


def _closure(dist: str) -> set[str]:
    """`dist` and every distribution it requires here (markers evaluated, no extras), by name."""
    from packaging.requirements import Requirement

    seen, todo = set(), [dist]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        reqs = (Requirement(r) for r in md.requires(name) or [])
        todo += [r.name for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]
    return seen


def test_reward_imports_with_stdlib_and_math_verify_only(tmp_path):
    """`pip install --no-deps specs-vl` into verl's env: the reward module needs no torch (nor anything else)."""
    site = tmp_path / "site"
    site.mkdir()
    for dist in _closure("math-verify"):  # code and dist-info (latex2sympy2 checks the antlr4 version)
        for f in md.distribution(dist).files or []:
            top = f.parts[0]
            if not top.endswith((".pth", "__pycache__")) and ".." not in f.parts and not (site / top).exists():
                (site / top).symlink_to(Path(f.locate()).parents[len(f.parts) - 1] / top)
    code = (
        "import sys; import specs_vl.scoring.rewards as r; "
        "print(r.compute_score('specs_vl', '<think>x</think> <answer>7</answer>', '7', {'answer_type': 'integer'})); "
        "print(r.compute_score('specs_vl', '<think>x</think> <answer>$\\\\frac{1}{2}$</answer>', '0.5', None)); "
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))"
    )
    env = {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{site}", "PATH": os.environ.get("PATH", "")}
    r = _run([sys.executable, "-S", "-c", code], env=env)  # -S: no site-packages, so no torch
    assert r.returncode == 0, r.stderr[-3000:]
    score, latex, modules = r.stdout.strip().splitlines()
    assert score == latex == "{'score': 1.5, 'acc': 1.0, 'format': 1.0}"  # the second needs math-verify
    assert "torch" not in json.loads(modules) and "math_verify" in json.loads(modules)
    assert set(json.loads(modules)) <= {
        "specs_vl",
        "math_verify",
        "latex2sympy2_extended",
        "sympy",
        "mpmath",
        "antlr4",
        "_distutils_hack",
        "__main__",
    }
    assert _run([sys.executable, "-S", "-c", "import torch"], env=env).returncode != 0  # the env really has none
