"""Bad input from the command line: one `error:` line that ends stderr and names the file/row/field/key/option,
exit 2, no traceback, nothing created, previous output byte-identical, and no expensive work first.

"No expensive work" is checked by what it would leave behind: the base model's cache dir (SPECS_VL_CACHE,
an empty temp dir here) is never created, so the base was neither built nor resolved; the model given is a
header-only fake (config.json and a one-tensor safetensors file), so any real load or sampling would fail
with a different message than the one asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from specs_vl.cli.app import app

runner = CliRunner()


def _tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """An empty working dir and an empty base-model cache; returns the working dir."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("SPECS_VL_CACHE", str(tmp_path / "cache"))
    return work


def fails(args: list[str], *must: str, root: Path | None = None) -> str:
    """Run the CLI; assert the contract; return the error line."""
    root = root or Path.cwd()
    before = _tree(root)
    res = runner.invoke(app, args)
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    lines = res.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), res.stderr
    assert len([x for x in lines if x.startswith("error:")]) == 1 and "Traceback" not in res.output, res.output
    assert "\n" not in lines[-1] and "<unicode string>" not in lines[-1]
    for m in must:
        assert m in lines[-1], (m, lines[-1])
    assert _tree(root) == before, "the failed command created or changed files"
    assert not (root.parent / "cache").exists(), "the base model was built or resolved before validation"
    return lines[-1]


def fake_vlm(d: Path) -> Path:
    """config.json and safetensors headers good enough for the header check, and nothing more: its
    model_type is unknown to transformers, so a real load fails at once (a missed check cannot hang)."""
    import torch
    from safetensors.torch import save_file

    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"model_type": "header-only-fake", "vision_config": {}}))
    save_file({"w": torch.zeros(1)}, str(d / "model.safetensors"))
    return d


def write_config(path: Path, **sections) -> Path:
    path.write_text(
        yaml.safe_dump({"name": "t", "world": {"train_size": 8, "id_test_size": 4, "ood_test_size": 4}, **sections})
    )
    return path


# --- config files ---


def test_yaml_syntax_error_names_the_file_and_line(ws):
    (ws / "c.yaml").write_text("name: a\n  zero: [\n")
    fails(["zero", "-c", "c.yaml"], "c.yaml: not valid YAML: line 2, column 7")


def test_non_utf8_config_names_the_file(ws):
    (ws / "c.yaml").write_bytes(b"name: caf\xe9\n")
    fails(["zero", "-c", "c.yaml"], "c.yaml: not UTF-8 text (byte 0xe9 at offset 9)")


def test_duplicate_key_names_the_key_and_both_lines(ws):
    (ws / "c.yaml").write_text("name: a\nzero:\n  steps: 3\n  prompts_per_step: 2\n  steps: 4\n")
    fails(["zero", "-c", "c.yaml"], "c.yaml: key 'steps' appears twice, on lines 3 and 5")


def test_config_that_is_a_directory(ws):
    (ws / "d").mkdir()
    fails(["rl", "-c", "d", "--from", "base"], "d: is a directory, not a config file")


def test_config_with_a_bom_loads(ws):
    from specs_vl.config import load_run_config

    (ws / "c.yaml").write_bytes("\ufeffname: bom\n".encode())
    assert load_run_config(ws / "c.yaml").name == "bom"


# --- recipe stages: checked before the base is built, before any model load, before --out exists ---


def test_zero_bad_data_creates_no_out_dir_and_builds_no_base(ws):
    fails(["zero", "--data", "nope", "--out", "z"], "nope: no such file or directory, and not a loadable hub dataset")


def test_zero_default_out_is_not_left_empty(ws):
    write_config(ws / "c.yaml", zero={"train_size": 1, "prompts_per_step": 2, "num_generations": 2})
    fails(["zero", "-c", "c.yaml"], "the world's train split: 1 examples, fewer than the 2 prompts")
    assert not (ws / "runs").exists()


def test_zero_broken_base_is_found_from_its_header(ws):
    (ws / "m").mkdir()
    fails(["zero", "--base", "m", "--out", "z"], "--base: m: no config.json; not a model directory")


def test_coldstart_bad_pairs_before_the_base(ws):
    (ws / "p.jsonl").write_text('{"prompt": "<image>q", "chosen": "a"}\n')
    fails(["coldstart", "--pairs", "p.jsonl"], "p.jsonl: row 0: field 'rejected': missing required field")


def test_coldstart_broken_base_after_good_pairs(ws, tiny_pairs_dir):
    fails(
        ["coldstart", "--pairs", str(tiny_pairs_dir), "--base", "./nobase", "--out", "cs"],
        "--base: nobase: model directory does not exist",
    )


def test_coldstart_out_that_is_a_file(ws, tiny_pairs_dir):
    (ws / "out").write_text("keep me")
    fails(["coldstart", "--pairs", str(tiny_pairs_dir), "--out", "out"], "--out out: is a file")


def test_distill_broken_base_fails_before_the_zero_side_is_sampled(ws):
    zero = fake_vlm(ws / "zero")
    fails(
        ["distill", "--zero", str(zero), "--base", "./broken", "--out", "p"],
        "--base: broken: model directory does not exist",
    )


def test_distill_base_that_is_neither_a_dir_nor_on_the_hub(ws):
    zero = fake_vlm(ws / "zero")
    fails(
        ["distill", "--zero", str(zero), "--base", "no-such-model", "--out", "p"],
        "--base: no-such-model: not a local model directory, and no model config found for it on the Hugging Face hub",
    )


def test_distill_missing_zero_model(ws):
    fails(["distill", "--out", "p"], "no zero model given: pass --zero PATH")  # never a silent runs/demo


def test_distill_bad_mode_is_one_line(ws):
    line = fails(["distill", "--mode", "sideways"], "command-line overrides: distill.mode:")
    assert "pydantic" not in line and "For further information" not in line


def test_rl_unknown_from_lists_the_stage_names(ws):
    line = fails(["rl", "--from", "dpo_sft"], "--from 'dpo_sft'", "dpo-sft, dpo, sft", "'base'")
    assert "huggingface" not in line.lower() and "internet" not in line


def test_rl_from_a_method_not_yet_trained(ws):
    fails(["rl", "--from", "sft", "--out", "r"], "no sft cold start given: pass --model PATH")


def test_rl_from_base_bad_data_builds_no_base(ws):
    fails(["rl", "--from", "base", "--data", "nope"], "nope: no such file or directory, and not a loadable hub dataset")


def test_bad_override_names_the_option(ws, tiny_pairs_dir):
    fails(
        ["coldstart", "--pairs", str(tiny_pairs_dir), "--max-steps", "0"],
        "command-line overrides: coldstart.max_steps:",
    )


def test_pipeline_bad_seeds_names_the_option(ws):
    fails(["pipeline", str(write_config(ws / "c.yaml")), "--seeds", "0,x"], "--seeds '0,x'")


def test_pipeline_takes_its_config_as_c_too(ws):
    fails(["pipeline"], "specs pipeline needs a run config", "-c CONFIG.yaml")
    # with -c the positional word is an override, read (and refused) as one
    fails(["pipeline", "-c", str(write_config(ws / "c.yaml")), "rl.steps=0"], "command-line overrides: rl.steps")


# --- eval ---


@pytest.mark.parametrize(
    ("args", "must"),
    [
        (["--n", "-5"], "--n -5: must be at least 1"),
        (["--batch-size", "0"], "--batch-size 0: must be at least 1"),
        (["--samples", "0"], "--samples 0: must be at least 1"),
        (["--max-new-tokens", "0"], "--max-new-tokens 0: must be at least 1"),
        (["--temperature", "-1"], "--temperature -1.0: must be at least 0"),
        (["--k", "1 8"], "--k '1 8': give comma-separated integers"),
        (["--k", "8"], "--k '8': every k must be between 1 and --samples 1"),
        (["--k", ","], "--k ',': give at least one k"),
        (["--suite", "mmlu"], "unknown suite 'mmlu'"),
    ],
)
def test_eval_bad_option_names_it(ws, args, must):
    fails(["eval", "nomodel", *args], must)


def test_eval_empty_data_file(ws):
    (ws / "mv.jsonl").write_text("")
    fails(["eval", "nomodel", "--suite", "mathvista", "--data", "mv.jsonl"], "mv.jsonl: no rows")


def test_eval_world_suite_with_data_is_refused(ws):
    (ws / "mine.jsonl").write_text('{"image": "a.png", "question": "q", "answer": "1"}\n')
    fails(
        ["eval", "nomodel", "--suite", "world-id", "--data", "mine.jsonl"],
        "--suite world-id --data mine.jsonl: a world suite is generated from the world and reads no file; "
        "drop --suite to score mine.jsonl",
    )


def test_eval_folder_that_is_not_a_benchmark(ws):
    (ws / "folder").mkdir()
    (ws / "folder" / "notes.txt").write_text("hello")
    fails(["eval", "nomodel", "--suite", "mathvista", "--data", "folder"], "folder: not a mathvista benchmark")


def test_eval_broken_model_after_the_data(ws):
    fails(["eval", "nomodel/x/y", "--suite", "world-id", "--n", "2"], "MODEL: nomodel/x/y: model directory does not")


# --- export verl: file-system errors are one line ---


def test_export_to_a_directory(ws):
    (ws / "d.parquet").mkdir()
    fails(["export", "verl", "d.parquet", "--force"], "d.parquet: is a directory; give a file path")


def test_export_under_a_file(ws):
    (ws / "f").write_text("x")
    fails(["export", "verl", "f/out.parquet"], "f/out.parquet: cannot be created", "is a file")


def test_export_to_a_read_only_dir(ws, monkeypatch):
    """Root ignores permissions, so the access check is made to answer as for a normal user."""
    import specs_vl.util.outputs as outputs

    (ws / "ro").mkdir()
    monkeypatch.setattr(outputs.os, "access", lambda p, mode: Path(p).name != "ro")
    fails(["export", "verl", "ro/out.parquet"], "ro/out.parquet: cannot be written", "read-only")


def test_export_write_error_is_one_line_and_keeps_the_old_file(ws, monkeypatch):
    import errno
    import os

    import specs_vl.util.atomic as atomic

    (ws / "out.parquet").write_bytes(b"previous")

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(ws / "out.parquet"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    fails(["export", "verl", "out.parquet", "--force", "--n", "2"], "could not read or write", "Permission denied")


# --- report ---


def test_report_refuses_a_folder_that_is_not_a_run(ws):
    (ws / "docs").mkdir()
    (ws / "docs" / "a.txt").write_text("x")
    fails(["report", "docs"], "docs: not a run directory")
    assert not (ws / "docs" / "report").exists()


def test_report_on_a_missing_dir(ws):
    fails(["report", "nope"], "nope: run directory does not exist")


# --- data ---


def test_pairs_file_with_a_bom_loads(tmp_path, tiny_world):
    from conftest import make_pairs_rows

    from specs_vl.data.pairs import load_pairs

    rows = make_pairs_rows(tiny_world, 2)
    img_dir = tmp_path / "img"
    img_dir.mkdir()
    lines = []
    for i, r in enumerate(rows):
        r["example"]["image"].save(img_dir / f"{i}.png")
        lines.append(
            json.dumps(
                {
                    "prompt": "<image>" + r["example"]["question"],
                    "chosen": r["chosen"],
                    "rejected": r["rejected"],
                    "images": [str(img_dir / f"{i}.png")],
                }
            )
        )
    f = tmp_path / "pairs.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    assert len(load_pairs(f)) == 2


def test_a_prompt_longer_than_the_context_is_refused_before_sampling(tmp_path, tiny_world):
    from specs_vl.models.load import load_vlm
    from specs_vl.models.sampling import SampleConfig, generate
    from specs_vl.util.errors import DataError
    from specs_vl.world import build_split
    from specs_vl.world.families import FAMILIES

    model, processor = load_vlm(FAMILIES["qwen2.5-vl"](tmp_path / "m"))
    examples = build_split(tiny_world, "train", 3)
    examples[1] = {**examples[1], "question": "how many? " * 100_000}  # ~1 MB, context 1,024 tokens
    calls = []
    model.generate = lambda *a, **k: calls.append(1)  # sampling must not start
    with pytest.raises(
        DataError,
        match=r"prompts: row 1: field 'question': prompt of \d+ tokens .* over the "
        r"model's context of 1024 tokens",
    ):
        generate(model, processor, examples, SampleConfig(max_new_tokens=16))
    assert not calls


def test_specs_eval_names_the_file_of_a_prompt_longer_than_the_context(ws, tmp_path, tiny_world):
    """A 1 MB question pasted into an eval file: FILE: row N: field 'question', exit 2, nothing written."""
    from specs_vl.world import build_split
    from specs_vl.world.families import FAMILIES

    model = FAMILIES["qwen2.5-vl"](tmp_path / "m")  # context 1,024 tokens
    lines = []
    for i, e in enumerate(build_split(tiny_world, "id_test", 3)):
        e["image"].save(ws / f"{i}.png")
        q = "how many? " * 100_000 if i == 2 else e["question"]
        lines.append(json.dumps({"image": f"{i}.png", "question": q, "answer": e["answer"]}))
    (ws / "big.jsonl").write_text("\n".join(lines) + "\n")
    fails(
        ["eval", str(model), "--data", "big.jsonl", "--max-new-tokens", "8"],
        "error: big.jsonl: row 2: field 'question': prompt of ",
        "over the model's context of 1024 tokens",
    )
