"""The report: tables, plots, findings that follow the numbers, escaping, partial runs, seeds, and a real browser."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from pathlib import Path

import pytest
from conftest import need_program
from PIL import Image

from specs_vl.report import write_report
from specs_vl.report.findings import findings

MODELS = [
    "base",
    "zero",
    "coldstart-dpo-sft",
    "coldstart-sft",
    "coldstart-dpo",
    "rl-dpo-sft",
    "rl-sft",
    "rl-dpo",
    "rl-base",
]


ACC = dict(zip(MODELS, [0.2, 0.25, 0.3, 0.3, 0.1, 0.4, 0.3, 0.2, 0.3]))
FIELDS = {"claim", "verdict", "estimate", "ci_low", "ci_high", "seeds", "prompts", "metric", "models"}


def _hit(i: int, j: int, salt: int, rate: float) -> bool:
    return (i * 31 + j * 17 + salt * 7) * 7919 % 1000 < rate * 1000  # fixed pseudo-random, no RNG state


def _rows(acc: float, fmt: float, rbf: float, prompts: int, salt: int) -> list[dict]:
    return [
        {
            "id": f"q{i}",
            "sample": j,
            "family": "count",
            "instruction_style": "tags",
            "response": "x",
            "extracted": "1",
            "correct": _hit(i, j, salt, acc),
            "valid": _hit(i, j, salt + 1, fmt),
            "followed": True,
            "strict": _hit(i, j, salt, acc) and _hit(i, j, salt + 1, fmt),
            "length": 9,
            "rbf": rbf + (i % 3) * 0.01,
        }
        for i in range(prompts)
        for j in range(4)
    ]


def _curve(g_id: float, g_ood: float, prompts: int = 60) -> dict:
    def pt(step: int, gi: float, go: float) -> dict:
        sets = {}
        for name, role, base, gain in (("world-id", "id", 20.0, gi), ("world-ood", "ood", 20.0, go)):
            pp = [(base + gain + (4 if i % 2 else -4)) / 100 for i in range(prompts)]
            sets[name] = {
                "role": role,
                "psi": 100 * sum(pp) / prompts,
                "format_valid": 0.5 + gain / 200,
                "per_prompt": {"psi": pp, "format_valid": [0.5] * prompts},
            }
        return {"step": step, "psi_id": sets["world-id"]["psi"], "psi_ood": sets["world-ood"]["psi"], "sets": sets}

    from specs_vl.evaluation.curve import with_gains

    return {
        "points": with_gains([pt(0, 0, 0), pt(10, g_id, g_ood)]),
        "settings": {"psi": "strict", "temperature": 1.0, "samples": 4},
    }


def make_run(
    d: Path,
    gf_dpo=(10.0, 8.0),
    gf_sft=(10.0, 2.0),
    rl_acc=(0.40, 0.30),
    response="<think>x</think>",
    with_pairs: bool = True,
    prompts: int = 60,
    findings_cfg: str = "findings:\n  gf_step: 10\n",
) -> Path:
    from specs_vl.evaluation.runner import aggregate
    from specs_vl.recipe.distill import to_preference_dataset
    from specs_vl.world import WorldConfig, build_split

    d.mkdir(parents=True, exist_ok=True)
    accs = {**ACC, "rl-dpo-sft": rl_acc[0], "rl-sft": rl_acc[1]}
    for k, m in enumerate(MODELS):
        for suite in ("world-id", "world-ood"):
            out = d / "eval" / m / suite
            out.mkdir(parents=True, exist_ok=True)
            rows = _rows(accs[m], 0.3 if m == "base" else 0.95, 1.6 if m == "rl-dpo-sft" else 1.4, prompts, k)
            (out / "generations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
            (out / "metrics.json").write_text(json.dumps(aggregate(rows, (1, 4))))
    for method, gains in (("dpo-sft", gf_dpo), ("sft", gf_sft), ("dpo", (1.0, 1.0))):
        (d / f"coldstart-{method}").mkdir()
        (d / f"coldstart-{method}" / "gf_curve.json").write_text(json.dumps(_curve(*gains)))
    for label in ("dpo-sft", "sft", "dpo", "base"):
        (d / f"rl-{label}").mkdir()
        rows = [
            {
                "step": s,
                "reward": 0.5 + s / 20,
                "accuracy": 0.3,
                "format_rate": 0.9,
                "completion_length": 20,
                "reward_std": 0.2,
                "entropy": 0.3,
                "frac_reward_zero_std": 0.1,
            }
            for s in range(1, 6)
        ]
        (d / f"rl-{label}" / "curve.json").write_text(json.dumps(rows))
    if with_pairs:
        exs = build_split(WorldConfig(train_size=4), "train", 3)
        pairs = [{"example": e, "chosen": response, "rejected": "plain", "corruption": i} for i, e in enumerate(exs)]
        to_preference_dataset(pairs).save_to_disk(str(d / "pairs"))
        (d / "pairs" / "stats.json").write_text(
            json.dumps({"questions": 3, "pairs": 3, "drop_reasons": {"x": 1}, "corruption_histogram": {"0": 1, "1": 2}})
        )
    (d / "config.yaml").write_text(
        "name: t\ndistill:\n  judge_api_key: sk-secret-123\n  judge_api_key_env: K\n" + findings_cfg
    )
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
    assert "Compliance (format validity)" in page and "world-ood" in page
    srcs = _imgs(index)
    assert {"forest.png", "models.png", "gf_curves.png", "rl_curves.png"} <= set(srcs)
    assert len(srcs) == 7  # 4 plots + 3 pair images
    for src in srcs:
        Image.open(index.parent / src).verify()
    assert (index.parent / "report.md").read_text().count("![") == 7
    assert "sk-secret" not in page and "sk-secret" not in (index.parent / "report.md").read_text()
    assert "3.5" in page  # stage time from the manifest


def test_findings_json_schema_and_every_comparison_has_an_interval(tmp_path):
    run = make_run(tmp_path / "run", with_pairs=False)
    index = write_report(run)
    found = json.loads((index.parent / "findings.json").read_text())
    assert isinstance(found, list) and len(found) >= 10
    for f in found:
        assert FIELDS <= set(f), f
        assert f["verdict"] in ("held", "contradicted", "inconclusive", "not testable")
        assert isinstance(f["models"], list) and isinstance(f["seeds"], int) and isinstance(f["prompts"], int)
        if f["verdict"] != "not testable":
            assert f["ci_low"] <= f["estimate"] <= f["ci_high"], f
            assert f["seeds"] == 1 and f["prompts"] > 0
            assert "one seed: the interval covers prompt noise only" in f["note"]  # seed noise is not in it
            dp = 2 if f["unit"] == "tokens" else 1
            assert f"[{f['ci_low']:+.{dp}f}, {f['ci_high']:+.{dp}f}]" in index.read_text()
    retention = [f for f in found if f["id"].startswith("retention-")]
    assert len(retention) == 3 and all(f["verdict"] == "not testable" for f in retention)  # no retention set


@pytest.mark.parametrize(
    "gf_dpo,gf_sft,expected",
    [
        ((10.0, 8.0), (10.0, 2.0), "held"),
        ((10.0, 2.0), (10.0, 8.0), "contradicted"),
        ((10.0, 5.0), (10.0, 5.0), "inconclusive"),
        ((10.0, -3.0), (10.0, -1.0), "not testable"),
    ],
)
def test_findings_follow_the_intervals(tmp_path, gf_dpo, gf_sft, expected):
    run = make_run(tmp_path / "run", gf_dpo=gf_dpo, gf_sft=gf_sft, rl_acc=(0.1, 0.6), with_pairs=False)
    by_id = {f["id"]: f for f in findings(run)}
    assert by_id["gf-dpo-sft-vs-sft"]["verdict"] == expected
    assert by_id["zero-format"]["verdict"] == "held"
    rl = by_id["rl-id-vs-sft"]
    assert rl["verdict"] == "contradicted" and rl["ci_high"] < 0 and rl["models"] == ["rl-dpo-sft", "rl-sft"]
    assert by_id["explore-rbf"]["verdict"] == "held" and by_id["explore-rbf"]["unit"] == "tokens"
    assert by_id["explore-pass@k"]["metric"] == "pass@4"


def test_undefined_gf_is_a_dash_in_the_report_and_null_in_json(tmp_path):
    run = make_run(tmp_path / "run", gf_dpo=(10.0, -3.0), with_pairs=False)
    index = write_report(run)
    curve = json.loads((run / "coldstart-dpo-sft" / "gf_curve.json").read_text())
    assert curve["points"][-1]["gf"] is None
    found = {f["id"]: f for f in json.loads((index.parent / "findings.json").read_text())}
    assert found["gf-dpo-sft-vs-sft"]["verdict"] == "not testable" and found["gf-dpo-sft-vs-sft"]["estimate"] is None
    assert "GF is undefined" in found["gf-dpo-sft-vs-sft"]["note"]
    md = (index.parent / "report.md").read_text()
    assert "Psi = strict in percent, sampled at T=1, 4 samples per prompt" in md
    assert "| dpo-sft | 10 | 30.0 | 17.0 | 10.0 | -3.0 | — |" in md


def test_single_seed_with_few_prompts_is_inconclusive(tmp_path):
    run = make_run(tmp_path / "run", rl_acc=(0.34, 0.30), prompts=30, with_pairs=False)
    by_id = {f["id"]: f for f in findings(run)}
    assert by_id["rl-id-vs-sft"]["verdict"] == "inconclusive"
    assert by_id["rl-id-vs-sft"]["ci_low"] < 0 < by_id["rl-id-vs-sft"]["ci_high"]


def test_gf_step_defaults_to_the_end_of_the_first_epoch(tmp_path):
    run = make_run(tmp_path / "run", findings_cfg="coldstart:\n  batch_size: 1\n")  # 3 pairs: epoch = 3 steps
    by_id = {f["id"]: f for f in findings(run)}
    assert by_id["gf-dpo-sft-vs-sft"]["verdict"] == "not testable"  # the curve has no point in (0, 3]
    run = make_run(tmp_path / "run2", findings_cfg="coldstart:\n  batch_size: 1\n", with_pairs=False)
    (run / "pairs").mkdir()
    (run / "pairs" / "stats.json").write_text(json.dumps({"pairs": 12}))
    f = {f["id"]: f for f in findings(run)}["gf-dpo-sft-vs-sft"]
    assert f["verdict"] == "held" and "end of the first epoch" in f["note"] and "step 10" in f["note"]


def test_predictions_are_shown_beside_the_verdicts(tmp_path):
    run = make_run(
        tmp_path / "run",
        with_pairs=False,
        findings_cfg="findings:\n  gf_step: 10\n  predictions:\n    zero-format: held\n",
    )
    index = write_report(run)
    assert {f["id"]: f for f in findings(run)}["zero-format"]["prediction"] == "held"
    assert re.search(
        r"zero &gt;&gt; base on format[^<]*</td><td class='held'>held</td><td class='held'>held", index.read_text()
    )


def test_base_calibration_is_rendered_per_family(tmp_path):
    run = make_run(tmp_path / "run", with_pairs=False)
    base = tmp_path / "base"
    base.mkdir()
    (base / "calibration.json").write_text(
        json.dumps(
            {
                "per_family": {
                    "count": {"accuracy": 0.25, "oracle": 0.9, "blank_image": 0.05, "format_valid": 0.4, "n": 40}
                }
            }
        )
    )
    (run / "manifest.json").write_text(json.dumps({"stages": {"base": {"status": "complete", "path": str(base)}}}))
    page = write_report(run).read_text()
    assert "Base model calibration" in page and "<td>count</td><td>0.250</td><td>0.900</td>" in page


def test_run_text_is_escaped(tmp_path):
    run = make_run(tmp_path / "run", response="<script>alert(1)</script>")
    page = write_report(run).read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_partial_run_renders_with_not_run(tmp_path):
    run = tmp_path / "run"
    (run / "zero").mkdir(parents=True)
    index = write_report(run)
    page = index.read_text()
    assert "not run" in page and "not testable" in page
    assert all(f["verdict"] == "not testable" for f in findings(run))
    assert _imgs(index) == ["forest.png"]  # every claim still has a row; no model was evaluated: no model figure
    Image.open(index.parent / "forest.png").verify()


def test_seeds_give_mean_and_std(tmp_path):
    run = tmp_path / "run"
    make_run(run / "seed-0", rl_acc=(0.40, 0.30), with_pairs=False)
    make_run(run / "seed-1", rl_acc=(0.50, 0.30), with_pairs=False)
    (run / "config.yaml").write_text("findings:\n  gf_step: 10\n")
    page = write_report(run).read_text()
    accs = [
        json.loads((run / s / "eval" / "rl-dpo-sft" / "world-id" / "metrics.json").read_text())["overall"]["accuracy"]
        for s in ("seed-0", "seed-1")
    ]
    assert f"{statistics.mean(accs):.3f} ± {statistics.stdev(accs):.3f}" in page  # rl-dpo-sft ID accuracy
    f = {f["id"]: f for f in findings(run)}["rl-id-vs-sft"]
    assert f["seeds"] == 2 and f["seed_sd"] > 0


def test_report_renders_in_headless_chromium_with_its_images(tmp_path):
    chromium = need_program("chromium")  # under CI=true a missing chromium fails here
    run = make_run(tmp_path / "run")
    index = write_report(run)
    probe = index.parent / "probe.html"  # the page plus a script that records each image's decoded width
    probe.write_text(
        index.read_text().replace(
            "</body>",
            "<script>window.addEventListener('load',()=>{document."
            "body.setAttribute('data-widths',[...document.images].map(i=>i.naturalWidth).join(','))})"
            "</script></body>",
        )
    )
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    widths = [int(w) for w in re.search(r'data-widths="([^"]*)"', dom).group(1).split(",")]
    assert len(widths) == 7 and all(w > 0 for w in widths), widths
    shot = tmp_path / "shot.png"
    subprocess.run(
        flags + [f"--screenshot={shot}", "--window-size=1280,2000", index.as_uri()], capture_output=True, timeout=120
    )
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


def test_the_forest_plot_has_a_row_per_finding_in_order_and_leads_the_page(tmp_path):
    from specs_vl.evaluation.forest import finding_rows

    run = make_run(tmp_path / "run", with_pairs=False)
    index = write_report(run)
    found = json.loads((index.parent / "findings.json").read_text())
    rows = finding_rows(found)
    assert [r["label"] for r in rows] == [f["claim"] for f in found] and len(rows) == len(found)
    assert [r["verdict"] for r in rows] == [f["verdict"] for f in found]
    assert rows[0]["primary"] and found[0]["id"] == "rl-gain-over-noise" and not any(r["primary"] for r in rows[1:])
    untestable = [r for r in rows if r["verdict"] == "not testable"]
    assert untestable and all(r["low"] is None and r["high"] is None and r["estimate"] is None for r in untestable)
    for r, f in zip(rows, found):
        if r["verdict"] != "not testable":
            assert (r["low"], r["estimate"], r["high"]) == (f["ci_low"], f["estimate"], f["ci_high"])
            assert r["unit"] == f["unit"]
    assert {r["unit"] for r in rows} == {"points", "tokens"}  # RBF keeps its own unit (its own panel)
    page = index.read_text()
    before_tables = page[: page.index("<table")]
    assert re.findall(r"<img[^>]*src='([^']+)'", before_tables) == ["forest.png", "models.png"]
    assert Image.open(index.parent / "forest.png").size[1] > 400  # a row per claim, not a thumbnail


def test_the_model_figure_reads_the_model_tables_numbers(tmp_path):
    from specs_vl.report.figures import model_panels

    run = make_run(tmp_path / "run", with_pairs=False)
    panels = dict(model_panels([run]))
    assert list(panels) == ["accuracy", "format valid", "strict success"]
    acc = json.loads((run / "eval" / "rl-dpo-sft" / "world-id" / "metrics.json").read_text())["overall"]
    assert panels["accuracy"]["world-id"]["rl-dpo-sft"] == (pytest.approx(100 * acc["accuracy"]), 0.0)
    assert panels["format valid"]["world-ood"]["base"][0] == pytest.approx(
        100
        * json.loads((run / "eval" / "base" / "world-ood" / "metrics.json").read_text())["overall"]["format_valid_rate"]
    )
    page = write_report(run).read_text()
    assert f"<td>{acc['strict_success']:.3f}</td>" in page  # the table below shows the same number
