"""What a user meets first: --version, env, config show/doc, overrides, the public API, tracking."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import specs_vl
from specs_vl.cli import app

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_version_flag_and_module_attribute_agree():
    res = run("--version")
    assert res.exit_code == 0
    assert res.output.strip() == f"specs-vl {specs_vl.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", specs_vl.__version__)


def test_env_lists_the_libraries_a_run_depends_on():
    res = run("env", "--json")
    assert res.exit_code == 0
    info = json.loads(res.output)
    import torch
    import trl

    assert info["torch"] == torch.__version__.split("+")[0] or info["torch"].startswith(torch.__version__[:3])
    assert info["trl"] == trl.__version__ and "vllm" in info and "cuda available" in info


def test_config_show_applies_overrides_and_validates_them(tmp_path):
    cfg = tmp_path / "x.yaml"
    cfg.write_text("coldstart:\n  beta: 0.2\n")
    res = run("config", "show", "-c", cfg, "coldstart.learning_rate=1e-6", "coldstart.batch_size=8")
    assert res.exit_code == 0, res.output
    shown = yaml.safe_load(res.output)
    assert shown["name"] == "x"  # named after its file, never silently "demo"
    assert (shown["coldstart"]["learning_rate"], shown["coldstart"]["batch_size"], shown["coldstart"]["beta"]) == (
        1e-6,
        8,
        0.2,
    )
    bad = run("config", "show", "-c", cfg, "coldstart.batch_size=eight")
    assert bad.exit_code == 2 and "coldstart.batch_size" in bad.output
    typo = run("config", "show", "coldstart.lerning_rate=1")
    assert typo.exit_code == 2 and "coldstart.lerning_rate: unknown key" in typo.output
    shape = run("config", "show", "coldstart.learning_rate")
    assert shape.exit_code == 2 and "KEY=VALUE" in shape.output


def test_trainer_kwargs_pass_through_and_unknown_fields_are_refused():
    from specs_vl.config import load_run_config
    from specs_vl.training.passthrough import with_trainer_kwargs
    from specs_vl.util.errors import ConfigError

    cfg = load_run_config(None, ["rl.trainer_kwargs={lr_scheduler_type: cosine, weight_decay: 0.1}"])
    args = with_trainer_kwargs({"learning_rate": 1.0}, cfg.rl.trainer_kwargs, "rl", "GRPOConfig")
    assert args == {"learning_rate": 1.0, "lr_scheduler_type": "cosine", "weight_decay": 0.1}
    with pytest.raises(ConfigError, match="no_such_field: not a field of TRL's GRPOConfig"):
        load_run_config(None, ["zero.trainer_kwargs.no_such_field=1"])


def test_docs_config_md_is_generated_from_the_models_and_current():
    from specs_vl.config import RunConfig
    from specs_vl.config.doc import render, rows

    missing = [key for key, _, _, meaning in rows(RunConfig) if not meaning]
    assert not missing, f"keys without a meaning (comment them in the model): {missing}"
    assert (ROOT / "docs" / "config.md").read_text() == render(), (
        "docs/config.md is stale: run `specs config doc > docs/config.md`"
    )
    assert "| `coldstart.curve_ood` |" in render() and "| `rl.trainer_kwargs` |" in render()


def test_the_readme_api_example_runs(tmp_path, monkeypatch, tiny_base_dir):
    """The README's Python example, as written, with the test's tiny base model added to its overrides."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"<!-- api-example -->\n```python\n(.*?)```", text, re.S).group(1)
    assert "from specs_vl import" in code
    monkeypatch.chdir(tmp_path)
    code = code.replace("overrides=[", f"overrides=['base_model={tiny_base_dir}', ", 1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the example is ours
    assert scope["zero"]["steps"] == 2
    assert Path(scope["metrics"]["out"], "metrics.json").exists()
    assert (tmp_path / "runs" / "quick" / "zero" / "model" / "README.md").exists()


def test_tensorboard_writes_event_files(tmp_path, tiny_base_dir):
    pytest.importorskip("tensorboard")  # the [tensorboard] extra; installed by `make test`
    from specs_vl.api import load_config, run_zero

    cfg = load_config(
        overrides=[
            "name=tb",
            f"base_model={tiny_base_dir}",
            "zero.steps=1",
            "zero.num_generations=2",
            "zero.prompts_per_step=2",
            "zero.max_completion_length=8",
            "zero.report_to=tensorboard",
            "world.train_size=8",
        ]
    )
    run_zero(cfg, out=tmp_path / "zero")
    events = list((tmp_path / "zero" / "tensorboard").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0


def test_a_stage_without_config_or_out_never_writes_into_runs_demo(tmp_path, monkeypatch):
    from specs_vl.api import load_config, stage_dir
    from specs_vl.config import is_named

    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides=["zero.steps=3"])
    assert not is_named(cfg)
    a = stage_dir(cfg, is_named(cfg), "zero", None)
    assert a.parent == Path("runs") and a.name.startswith("zero-") and "demo" not in str(a)
    a.mkdir(parents=True)
    assert stage_dir(cfg, False, "zero", None) != a
    assert stage_dir(load_config(overrides=["name=x"]), True, "zero", None) == Path("runs/x/zero")
