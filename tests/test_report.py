"""The report: tables, plots, findings that follow the numbers, escaping, partial runs, seeds, and a real browser."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conftest import need_program
from specs_vl.report import write_report
from specs_vl.report.findings import findings

MODELS = ["base", "zero", "coldstart-dpo-sft", "coldstart-sft", "coldstart-dpo", "rl-dpo-sft", "rl-sft", "rl-dpo",
          "rl-base"]


def _metrics(acc: float, fmt: float = 0.9, rbf: float = 1.5, pass4: float = 0.6) -> dict:
    o = {"n_responses": 40, "n_prompts": 10, "accuracy": acc, "format_valid_rate": fmt, "strict_success": acc * fmt,
         "mean_length": 20.0, "rbf": rbf, "pass@1": acc, "pass@4": pass4}
    return {"overall": o, "by_family": {}, "by_instruction_style": {}, "suite": "x", "config": {}}


def _points(g_id: float, g_ood: float) -> list[dict]:
    from specs_vl.evaluation.curve import with_gains

    pts = [{"step": 0, "psi_id": 20.0, "psi_ood": 20.0}, {"step": 10, "psi_id": 20.0 + g_id, "psi_ood": 20.0 + g_ood}]
    for p in pts:
        p["id"] = p["ood"] = {"accuracy": 0.2, "format_valid_rate": 0.5, "strict_success": 0.1, "mean_length": 9.0}
    return with_gains(pts)


def make_run(d: Path, gf_dpo=(10.0, 8.0), gf_sft=(10.0, 2.0), rl_acc=(0.40, 0.30), response="<think>x</think>",
             with_pairs: bool = True) -> Path:
    from specs_vl.stages.distill import to_preference_dataset
    from specs_vl.world import WorldConfig, build_split

    d.mkdir(parents=True, exist_ok=True)
    accs = dict(zip(MODELS, [0.2, 0.25, 0.3, 0.3, 0.1, rl_acc[0], rl_acc[1], 0.2, 0.3]))
    for m in MODELS:
        for suite in ("world-id", "world-ood"):
            f = d / "eval" / m / suite / "metrics.json"
            f.parent.mkdir(parents=True, exist_ok=True)
            fmt = 0.3 if m == "base" else 0.95
            f.write_text(json.dumps(_metrics(accs[m], fmt, rbf=1.6 if m == "rl-dpo-sft" else 1.4,
                                             pass4=0.7 if m == "rl-dpo-sft" else 0.6)))
    for method, gains in (("dpo-sft", gf_dpo), ("sft", gf_sft), ("dpo", (1.0, 1.0))):
        (d / f"coldstart-{method}").mkdir()
        (d / f"coldstart-{method}" / "gf_curve.json").write_text(
            json.dumps({"method": method, "psi": "strict", "points": _points(*gains)}))
    for label in ("dpo-sft", "sft", "dpo", "base"):
        (d / f"rl-{label}").mkdir()
        rows = [{"step": s, "reward": 0.5 + s / 20, "accuracy": 0.3, "format_rate": 0.9, "completion_length": 20,
                 "reward_std": 0.2, "entropy": 0.3, "frac_reward_zero_std": 0.1} for s in range(1, 6)]
        (d / f"rl-{label}" / "curve.json").write_text(json.dumps(rows))
    if with_pairs:
        exs = build_split(WorldConfig(train_size=4), "train", 3)
        pairs = [{"example": e, "chosen": response, "rejected": "plain", "corruption": i} for i, e in enumerate(exs)]
        to_preference_dataset(pairs).save_to_disk(str(d / "pairs"))
        (d / "pairs" / "stats.json").write_text(json.dumps({"questions": 3, "pairs": 3, "drop_reasons": {"x": 1},
                                                            "corruption_histogram": {"0": 1, "1": 2}}))
    (d / "config.yaml").write_text("name: t\ndistill:\n  judge_api_key: sk-secret-123\n  judge_api_key_env: K\n")
    (d / "manifest.json").write_text(json.dumps({"stages": {"zero": {"status": "complete", "seconds": 3.5}}}))
    return d


def _imgs(index: Path) -> list[str]:
    return re.findall(r"<img[^>]*src='([^']+)'", index.read_text())


def test_report_has_every_model_plot_and_finding(tmp_path):
    run = make_run(tmp_path / "run")
    index = write_report(run)
    page = index.read_text()
    for m in MODELS:
        assert f"<td>{m}</td>" in page
    srcs = _imgs(index)
    assert {"gf_curves.png", "rl_curves.png"} <= set(srcs) and len(srcs) == 5  # 2 plots + 3 pair images
    for src in srcs:
        Image.open(index.parent / src).verify()
    assert (index.parent / "report.md").read_text().count("![") == 5
    assert "sk-secret" not in page and "sk-secret" not in (index.parent / "report.md").read_text()
    assert "3.5" in page  # stage time from the manifest


@pytest.mark.parametrize("gf_dpo,gf_sft,expected", [((10.0, 8.0), (10.0, 2.0), "held"),
                                                     ((10.0, 2.0), (10.0, 8.0), "did not hold"),
                                                     ((10.0, -3.0), (10.0, -1.0), "did not hold")])
def test_findings_follow_the_numbers(tmp_path, gf_dpo, gf_sft, expected):
    run = make_run(tmp_path / "run", gf_dpo=gf_dpo, gf_sft=gf_sft, rl_acc=(0.3, 0.4), with_pairs=False)
    by_claim = {f["claim"]: f for f in findings(run)}
    assert by_claim["GF(dpo-sft) > GF(sft)"]["status"] == expected
    assert by_claim["zero improves the format rate over base"]["status"] == "held"
    assert by_claim["after RL, SPECS >= the SFT cold start on ID"]["status"] == "did not hold"
    assert "0.300" in by_claim["after RL, SPECS >= the SFT cold start on ID"]["evidence"]
    assert by_claim["SPECS explores more (pass@k, RBF)"]["status"] == "held"
    assert by_claim["after RL, SPECS >= no cold start (RL from the base) on ID and OOD"]["status"] == "held"


def test_run_text_is_escaped(tmp_path):
    run = make_run(tmp_path / "run", response="<script>alert(1)</script>")
    page = write_report(run).read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_partial_run_renders_with_not_run(tmp_path):
    run = tmp_path / "run"
    (run / "zero").mkdir(parents=True)
    page = write_report(run).read_text()
    assert "not run" in page and "not measured" in page
    assert all(f["status"] == "not measured" for f in findings(run))


def test_seeds_give_mean_and_std(tmp_path):
    run = tmp_path / "run"
    make_run(run / "seed-0", rl_acc=(0.40, 0.30))
    make_run(run / "seed-1", rl_acc=(0.50, 0.30))
    page = write_report(run).read_text()
    assert "0.450 ± 0.071" in page  # rl-dpo-sft ID accuracy over the two seeds


def test_report_renders_in_headless_chromium_with_its_images(tmp_path):
    chromium = need_program("chromium")  # under CI=true a missing chromium fails here
    run = make_run(tmp_path / "run")
    index = write_report(run)
    probe = index.parent / "probe.html"  # the page plus a script that records each image's decoded width
    probe.write_text(index.read_text().replace("</body>", "<script>window.addEventListener('load',()=>{document."
                     "body.setAttribute('data-widths',[...document.images].map(i=>i.naturalWidth).join(','))})"
                     "</script></body>"))
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    widths = [int(w) for w in re.search(r'data-widths="([^"]*)"', dom).group(1).split(",")]
    assert len(widths) == 5 and all(w > 0 for w in widths), widths
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1280,2000", index.as_uri()],
                   capture_output=True, timeout=120)
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50  # not a blank page


def test_report_says_when_trust_remote_code_was_on(tmp_path):
    run = make_run(tmp_path / "off", with_pairs=False)
    assert "trust_remote_code: off" in write_report(run).read_text()
    run = make_run(tmp_path / "on", with_pairs=False)
    (run / "config.yaml").write_text("name: t\ntrust_remote_code: true\n")
    page = write_report(run).read_text()
    assert "trust_remote_code was ON" in page
    assert "trust_remote_code was ON" in (run / "report" / "report.md").read_text()


def test_trust_remote_code_is_off_unless_the_config_turns_it_on(tmp_path, monkeypatch):
    from specs_vl.config import load_run_config
    from specs_vl.models.load import trusts_remote_code

    monkeypatch.delenv("SPECS_TRUST_REMOTE_CODE", raising=False)
    assert trusts_remote_code() is False
    cfg = tmp_path / "c.yaml"
    cfg.write_text("trust_remote_code: true\n")
    load_run_config(cfg)
    assert trusts_remote_code() is True and trusts_remote_code(False) is False
    cfg.write_text("name: x\n")
    load_run_config(cfg)
    assert trusts_remote_code() is False
