"""The eval runner and CLI on the tiny base model; strict success per instruction style."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from specs_vl.cli.app import app
from specs_vl.evaluation.suites import score_world
from specs_vl.models.vllm import vllm_available

runner = CliRunner()


def ex(style: str, answer: str = "3", answer_type: str = "integer", choices=()):
    return {
        "id": "x",
        "answer": answer,
        "answer_type": answer_type,
        "choices": list(choices),
        "instruction_style": style,
    }


@pytest.mark.parametrize(
    "style, response, correct, followed, strict",
    [
        ("format", "<think>1 + 2 = 3.</think> <answer>3</answer>", True, True, True),
        ("format", "1 + 2 = 3. Thus, the answer is 3.", True, False, False),
        ("format", "<think>1 + 1 = 2.</think> <answer>2</answer>", False, True, False),
        ("boxed", "1 + 2 = 3. The answer is \\boxed{3}.", True, True, True),
        ("boxed", "<think>1 + 2 = 3.</think> <answer>3</answer>", True, False, False),
        ("hint", "1 + 2 = 3. The final answer is 3.", True, True, True),
        ("hint", "<think>1 + 2 = 3.</think> <answer>3</answer>", True, False, False),
        ("json", '{"answer": "3"}', True, True, True),
        ("json", '{"answer": "4"}', False, True, False),
        # the paper's output is the training format, and strict checks accept it
        ("format", "<think>1 + 2 = 3.</think> <answer> The answer is \\boxed{3} </answer>", True, True, True),
        ("format", "<think>1 + 2 = 3.</think> <answer> The answer is \\boxed{4} </answer>", False, True, False),
        ("boxed", "<think>1 + 2 = 3.</think> <answer> The answer is \\boxed{3} </answer>", True, True, True),
        # ood_requirement: the format, with another requirement inside <answer>
        ("req_bare", "<think>1 + 2 = 3.</think> <answer>3</answer>", True, True, True),
        ("req_bare", "<think>1 + 2 = 3.</think> <answer> The answer is \\boxed{3} </answer>", True, False, False),
        ("req_word", "<think>1 + 2 = 3.</think> <answer>three</answer>", True, True, True),
        ("req_word", "<think>1 + 2 = 3.</think> <answer>3</answer>", True, False, False),
        ("req_json", '<think>1 + 2 = 3.</think> <answer>{"answer": "3"}</answer>', True, True, True),
        ("req_json", '{"answer": "3"}', True, False, False),
    ],
)
def test_strict_success_is_defined_per_style(style, response, correct, followed, strict):
    s = score_world(response, ex(style))
    assert (s.correct, s.followed, s.strict) == (correct, followed, strict)


def test_letter_style_needs_only_the_letter():
    e = ex("letter", "B", "mc", ["red", "green", "blue", "yellow"])
    assert score_world("B", e).strict
    assert not score_world("<think>x</think> <answer>B</answer>", e).followed
    assert not score_world("A", e).strict


@pytest.mark.parametrize("suite", ["world-id", "world-ood"])
def test_specs_eval_writes_consistent_outputs(tiny_base_dir, tmp_path, suite):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("world:\n  id_test_size: 10\n  ood_test_size: 10\n")
    out = tmp_path / suite
    res = runner.invoke(
        app,
        [
            "eval",
            str(tiny_base_dir),
            "--suite",
            suite,
            "--samples",
            "2",
            "--k",
            "1,2",
            "--out",
            str(out),
            "--max-new-tokens",
            "12",
            "--config",
            str(cfg),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    n = 2 * (10 if suite == "world-id" else 30)  # world-ood: the three OOD sets, 10 prompts each
    assert len(rows) == n and {"id", "response", "extracted", "correct", "valid"} <= set(rows[0])
    o = metrics["overall"]
    assert o["accuracy"] == pytest.approx(sum(r["correct"] for r in rows) / n)
    assert o["format_valid_rate"] == pytest.approx(sum(r["valid"] for r in rows) / n)
    assert o["strict_success"] <= o["accuracy"] + 1e-9
    assert o["pass@1"] == pytest.approx(o["accuracy"]) and o["pass@2"] >= o["pass@1"]
    assert o["maj@1"] == pytest.approx(o["pass@1"]) and o["maj@2"] <= o["pass@2"] and o["best@2"] == o["pass@2"]
    assert f"maj@2={o['maj@2']:.3f}" in res.output
    assert o["rbf"] >= 1.0 and o["mean_length"] > 0
    n_fam = sum(v["n_responses"] for v in metrics["by_family"].values())
    n_sty = sum(v["n_responses"] for v in metrics["by_instruction_style"].values())
    assert n_fam == n_sty == n
    if suite == "world-ood":
        assert len(metrics["by_instruction_style"]) > 1
        assert {r["id"].split("-")[0] for r in rows} == {"ood_domain", "ood_surface", "ood_requirement"}


def test_eval_rejects_bad_inputs(tmp_path, tiny_base_dir):
    res = runner.invoke(app, ["eval", str(tiny_base_dir), "--suite", "nope"])
    assert res.exit_code == 2 and "unknown suite 'nope'" in res.output
    res = runner.invoke(app, ["eval", str(tmp_path / "missing"), "--suite", "world-id"])
    assert res.exit_code == 2 and "does not exist" in res.output
    text_only = tmp_path / "lm"
    text_only.mkdir()
    (text_only / "config.json").write_text(json.dumps({"model_type": "qwen2", "hidden_size": 8}))
    res = runner.invoke(app, ["eval", str(text_only), "--suite", "world-id"])
    assert res.exit_code == 2 and "text-only" in res.output
    res = runner.invoke(
        app, ["eval", str(tiny_base_dir), "--suite", "world-id", "--k", "4", "--samples", "2", "--n", "2"]
    )
    assert res.exit_code == 2 and "--samples >= 4" in res.output


def test_world_export_cli(tmp_path):
    from datasets import load_from_disk
    from PIL import Image

    out = tmp_path / "train"
    res = runner.invoke(app, ["world", "export", str(out), "--split", "train", "--n", "12", "--quiet"])
    assert res.exit_code == 0, res.output
    ds = load_from_disk(str(out))
    assert len(ds) == 12 and isinstance(ds[0]["image"], Image.Image)
    assert set(ds.column_names) == {
        "id",
        "image",
        "question",
        "answer",
        "answer_type",
        "choices",
        "family",
        "instruction_style",
        "split",
    }
    again = runner.invoke(app, ["world", "export", str(out), "--n", "3"])
    assert again.exit_code == 2 and "not empty" in again.output
    bad = runner.invoke(app, ["world", "export", str(tmp_path / "x"), "--split", "validation"])
    assert bad.exit_code == 2 and "unknown split 'validation'" in bad.output
    assert not (tmp_path / "x").exists()


def write_data(d, world, n: int = 3, question: str | None = None):
    """`n` world prompts as the user keeps them: a JSONL file with PNG paths beside it."""
    from specs_vl.world import build_split

    d.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, e in enumerate(build_split(world, "id_test", n)):
        e["image"].save(d / f"{i}.png")
        q = question if question is not None and i == n - 1 else e["question"]
        lines.append(json.dumps({"image": f"{i}.png", "question": q, "answer": e["answer"], "id": f"mine-{i}"}))
    (d / "mine.jsonl").write_text("\n".join(lines) + "\n")
    return d / "mine.jsonl"


def test_eval_with_data_alone_scores_that_file(tiny_base_dir, tiny_world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_data(tmp_path / "mine", tiny_world)
    res = runner.invoke(app, ["eval", str(tiny_base_dir), "--data", str(data), "--max-new-tokens", "8", "--quiet"])
    assert res.exit_code == 0, res.output
    out = tmp_path / res.output.strip().splitlines()[-1].removeprefix("wrote ").removesuffix("/metrics.json")
    metrics = json.loads((out / "metrics.json").read_text())
    rows = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert metrics["suite"] == f"data:{data}" and out.name.endswith("data-mine")
    assert [r["id"] for r in rows] == ["mine-0", "mine-1", "mine-2"]


class _HFEngine:
    """VLLMEngine's `generate(processor, examples, cfg)` over HF generate, so the engine path of `evaluate`
    can run on a CPU with responses the HF path also gives."""

    def __init__(self, model):
        self.model = model

    def generate(self, processor, examples, cfg):
        from specs_vl.models.sampling import generate

        return generate(self.model, processor, examples, cfg)


def test_both_backends_are_scored_by_one_evaluate(tiny_base, tiny_world):
    from specs_vl.evaluation.runner import EvalConfig, evaluate

    model, proc = tiny_base
    cfg = EvalConfig(n=6, samples=2, ks=(1, 2), max_new_tokens=12, suite_args={"world": tiny_world})
    hf_records, hf = evaluate("world-id", cfg, model=model, processor=proc)
    en_records, en = evaluate("world-id", cfg, engine=_HFEngine(model), processor=proc)
    assert (hf["backend"], en["backend"]) == ("hf", "vllm")
    assert [r["response"] for r in en_records] == [r["response"] for r in hf_records]
    for key in ("accuracy", "format_valid_rate", "strict_success", "pass@2", "maj@2", "mean_length"):
        assert en["overall"][key] == hf["overall"][key], key
    assert en["by_family"].keys() == hf["by_family"].keys()
    assert hf["overall"]["rbf"] >= 1.0 and en["overall"]["rbf"] is None  # RBF needs the logits
    assert en["config"]["rbf"] is False and hf["config"]["rbf"] is True
    with pytest.raises(ValueError, match="exactly one"):
        evaluate("world-id", cfg)


@pytest.mark.skipif(vllm_available(), reason="vLLM and a GPU are here: the refusal cannot happen")
def test_eval_backend_vllm_without_vllm_is_one_clear_line(tiny_base_dir):
    res = runner.invoke(app, ["eval", str(tiny_base_dir), "--n", "1", "--backend", "vllm"])
    assert res.exit_code == 2
    assert "backend 'vllm' needs `pip install vllm` and a CUDA GPU" in res.output
    res = runner.invoke(app, ["eval", str(tiny_base_dir), "--n", "1", "--backend", "tpu"])
    assert res.exit_code == 2 and "backend must be auto, hf or vllm" in res.output
