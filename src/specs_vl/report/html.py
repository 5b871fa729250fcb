"""Render the report document (a dict built by report.py) as self-contained HTML and as Markdown.

No JavaScript, no network: inline CSS, images by relative path, every piece
of run text (responses, prompts, the config) HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any


def _esc(value: Any) -> str:
    return escape(str(value), quote=True)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1180px;color:#222;
padding:0 16px}
h1{font-size:24px;margin-bottom:2px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px}
th,td{border:1px solid #ddd;padding:4px 7px;text-align:right}
th{background:#f4f4f6}td:first-child,th:first-child{text-align:left;white-space:nowrap}td{white-space:nowrap}
td.note{white-space:normal;text-align:left;min-width:220px}
.held{color:#0a7a2f;font-weight:600}.contradicted{color:#b42318;font-weight:600}.inconclusive{color:#8a6d00;font-weight:600}
.not-testable{color:#777;font-weight:600}
img.plot{max-width:100%;border:1px solid #eee;margin:6px 0}
pre{background:#f7f7f9;padding:10px;overflow:auto;font-size:12px}
.pairs{display:grid;grid-template-columns:repeat(2,1fr);gap:12px}
.pair{border:1px solid #ddd;padding:8px;border-radius:6px}
.pair img{width:112px;height:112px;image-rendering:pixelated;float:left;margin-right:10px}
.pair pre{white-space:pre-wrap;margin:4px 0;padding:6px}.muted{color:#666}
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _stats_rows(stats: dict[str, Any] | None) -> list[list[str]]:
    if not stats:
        return []
    rows = [
        [k, str(stats[k])]
        for k in (
            "questions",
            "pairs",
            "questions_with_pairs",
            "mode",
            "rejected_source",
            "judge",
            "corruption_redraws",
        )
        if k in stats
    ]
    if "judge_rejection_rate" in stats:  # distill: chosen candidates the consistency judge rejected
        rows.append(["judge rejection rate", f"{stats['judge_rejection_rate']:.1%} of {stats.get('judge_checked', 0)}"])
    rows += [[f"dropped: {k}", str(v)] for k, v in stats.get("drop_reasons", {}).items()]
    rows += [
        [f"corruption {k}" + (" (natural base response)" if k == "0" else ""), str(v)]
        for k, v in stats.get("corruption_histogram", {}).items()
    ]
    for side in ("chosen_chars", "rejected_chars"):
        if side in stats:
            rows.append([f"{side.replace('_', ' ')} (mean / max)", f"{stats[side]['mean']:.1f} / {stats[side]['max']}"])
    return rows


def _num(x: Any, unit: str) -> str:
    return "—" if x is None else f"{x:+.2f}" if unit == "tokens" else f"{x:+.1f}"


def findings_table(found: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """One row per claim: prediction (when pre-registered), verdict, estimate, 95 % interval, seeds, prompts."""
    header = ["claim", "predicted", "verdict", "estimate", "95% CI", "unit", "seeds", "prompts", "note"]
    rows = [
        [
            f["claim"] + (" (primary)" if f.get("primary") else ""),
            f.get("prediction") or "",
            f["verdict"],
            _num(f["estimate"], f["unit"]),
            "—" if f["ci_low"] is None else f"[{_num(f['ci_low'], f['unit'])}, {_num(f['ci_high'], f['unit'])}]",
            f["unit"],
            str(f["seeds"]),
            str(f["prompts"]),
            f.get("note", ""),
        ]
        for f in found
    ]
    return header, rows


def _study_text(study: dict[str, Any] | None) -> list[str]:
    if not study:
        return []
    p = study.get("power") or {}
    return [
        f"Study: {len(study.get('seeds', []))} seeds, {p.get('prompts')} prompts per eval set. {p.get('statement', '')}",  # noqa: E501
        f"Wall time: {study['seconds']:.0f} s." if study.get("seconds") is not None else "",
    ]


def sections(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The report as (title, blocks); a block is ("p", text), ("table", (header, rows)), ("img", (src, alt)),
    ("pre", text) or ("pairs", pairs). Both renderers draw the same list."""
    verdict_note = (
        "The forest plot: each claim's estimate (point) and 95 % interval (line), coloured by verdict. "
        "Every comparison is paired over the same prompts: with several seeds a 95 % t-interval over "
        "seeds whose prompt part resamples the prompts jointly in every seed; with one seed a "
        "percentile bootstrap over prompts. held: the whole interval lies on the claim's side of 0; "
        "contradicted: wholly on the other side; inconclusive: it contains 0 (a tie is never held); "
        "not testable: the data is missing or GF is undefined. Rates are in percentage points. "
        "The primary claim (fixed before the run) is marked; the others are secondary, uncorrected."
    )
    plots = doc["plots"]
    found: list[tuple[str, Any]] = (
        [("img", (plots["forest"], "Forest plot of the findings"))] if "forest" in plots else []
    )
    if "models" in plots:
        found.append(("img", (plots["models"], "Accuracy, format validity and strict success per model and eval set")))
    found += [
        ("p", verdict_note),
        *[("p", t) for t in _study_text(doc.get("study")) if t],
        ("table", findings_table(doc["findings"])),
    ]
    evals: list[tuple[str, Any]] = []
    for title, table in doc["per_set"]:
        evals += [
            ("p", f"{title}, per eval set (sampled at the eval temperature):"),
            ("table", table) if table[1] else ("p", "not run"),
        ]
    evals += [("p", "Exploration:"), ("table", doc["exploration"]) if doc["exploration"][1] else ("p", "not run")]
    gf: list[tuple[str, Any]] = [
        (
            "p",
            f"{doc.get('psi_note', 'Psi')}; GF compared at "
            f"{doc['gf_step']} (fixed in the config before the run). GF is undefined "
            "(—) when a gain is <= 0. 'format' columns: compliance alone, in percent.",
        )
    ]
    gf += [("table", doc["gf"])] if doc["gf"][1] else [("p", "not run")]
    gf += [("img", (doc["plots"]["gf"], "GF curves"))] if "gf" in doc["plots"] else []
    if doc.get("decisions"):
        gf += [("p", "What GF decided (the rule is fixed in the config before the run):"), ("table", doc["decisions"])]
    if doc.get("gf_prediction"):
        gf += [
            (
                "p",
                "How well each signal at a cold-start checkpoint predicts world-id accuracy after RL from it "
                "(the paper: R² = 0.864 for GF); intervals resample seeds and, jointly, the test prompts; "
                "regret: accuracy after RL from the highest-GF checkpoint minus the best one's, t over seeds:",
            ),
            ("table", doc["gf_prediction"]),
        ]
        if "gf_prediction" in doc["plots"]:
            gf += [("img", (doc["plots"]["gf_prediction"], "GF and the checkpoint's Psi_ID against accuracy after RL"))]
    out = [("Findings", found)]
    rl: list[tuple[str, Any]] = []
    if doc.get("rl_gains"):
        rl += [
            ("p", "Where RL's gain comes from, on world-id accuracy (estimate [95 % interval]):"),
            ("table", doc["rl_gains"]),
        ]
    if doc.get("rollout_rise"):
        rl += [
            ("p", "Rollout accuracy on the training prompts, first and last 20 % of each RL run's rollout batches:"),
            ("table", doc["rollout_rise"]),
        ]
    if doc.get("tune_rl"):
        rl += [("p", doc["tune_rl"][1]), ("table", doc["tune_rl"][0])]
    if rl:
        out.append(("RL against its control", rl))
    out += [("Models", evals), ("Cold starts: Generalization Factor", gf)]
    if doc.get("lr"):
        out.append(
            (
                "Learning rate rule",
                [
                    (
                        "p",
                        "The same rule for every method, on dev: the smallest rate in the "
                        "grid reaching the format-validity target at T=1 within one epoch. "
                        "A seed without a row trained at the first seed's choice "
                        "(tune_lr.seeds: first).",
                    ),
                    ("table", doc["lr"]),
                ],
            )
        )
    if doc.get("calibration"):
        out.append(("Base model calibration", [("table", doc["calibration"])]))
    out.append(
        ("RL curves", [("img", (doc["plots"]["rl"], "RL curves"))] if "rl" in doc["plots"] else [("p", "not run")])
    )
    pairs: list[tuple[str, Any]] = [
        ("table", (["statistic", "value"], _stats_rows(doc["pair_stats"]))) if doc["pair_stats"] else ("p", "not run")
    ]
    out.append(("Pairs", pairs + ([("pairs", doc["pairs"])] if doc["pairs"] else [])))
    out.append(
        (
            "Stage times (seconds)",
            [("table", (["stage", "seconds"], doc["times"])) if doc["times"] else ("p", "not run")],
        )
    )
    out.append(("Config", [("pre", doc["config"])]))
    return out


def _verdict_cell(c: str) -> str:
    return f"<td class='{c.replace(' ', '-')}'>{_esc(c)}</td>"


def _html_block(kind: str, x: Any) -> str:
    if kind == "p":
        return f"<p>{_esc(x)}</p>"
    if kind == "pre":
        return f"<pre>{_esc(x)}</pre>"
    if kind == "img":
        return f"<img class='plot' src='{_esc(x[0])}' alt='{_esc(x[1])}'>"
    if kind == "table":
        header, rows = x
        vcols = {i for i, h in enumerate(header) if h in ("verdict", "predicted")}
        head = "".join(f"<th>{_esc(h)}</th>" for h in header)
        body = "".join(
            "<tr>"
            + "".join(
                _verdict_cell(c)
                if i in vcols and c
                else f"<td class='note'>{_esc(c)}</td>"
                if header[i] in ("note", "why")
                else f"<td>{_esc(c)}</td>"
                for i, c in enumerate(r)
            )
            + "</tr>"
            for r in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"
    return (
        "<div class='pairs'>"
        + "".join(
            f"<div class='pair'><img src='{_esc(p['image'])}' alt='pair image'>"
            f"<div class='muted'>{_esc(p['prompt'])}</div><div style='clear:both'></div>"
            f"<b>chosen</b><pre>{_esc(p['chosen'])}</pre>"
            f"<b>rejected</b> (corruption {_esc(p['corruption'])})<pre>{_esc(p['rejected'])}</pre></div>"
            for p in x
        )
        + "</div>"
    )


def render_html(doc: dict[str, Any]) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>SPECS report: {_esc(doc['name'])}</title>"
        f"<style>{CSS}</style></head><body>",
        f"<h1>SPECS report: {_esc(doc['name'])}</h1>",
        f"<p class='muted'>Seeds: {_esc(', '.join(doc['seeds']))}. With several seeds a table number is "
        "mean ± std over seeds.</p>",
        "<p class='contradicted'>trust_remote_code was ON for this run: model code from the hub was executed.</p>"
        if doc.get("trust_remote_code")
        else "<p class='muted'>trust_remote_code: off.</p>",
    ]
    for title, blocks in sections(doc):
        parts.append(f"<h2>{_esc(title)}</h2>" + "".join(_html_block(k, x) for k, x in blocks))
    parts.append("</body></html>")
    return "\n".join(parts)


def _md_block(kind: str, x: Any) -> str:
    if kind == "p":
        return str(x)
    if kind == "pre":
        return f"```yaml\n{x}\n```"
    if kind == "img":
        return f"![{x[1]}]({x[0]})"
    if kind == "table":
        return _md_table(*x)
    return "\n\n".join(
        f"![pair]({p['image']}) {p['prompt']}\n\n- chosen: `{p['chosen']}`\n"
        f"- rejected (corruption {p['corruption']}): `{p['rejected']}`"
        for p in x
    )


def render_markdown(doc: dict[str, Any]) -> str:
    lines = [
        f"# SPECS report: {doc['name']}",
        "",
        f"Seeds: {', '.join(doc['seeds'])}.",
        "",
        "**trust_remote_code was ON for this run: model code from the hub was executed.**"
        if doc.get("trust_remote_code")
        else "trust_remote_code: off.",
        "",
    ]
    for title, blocks in sections(doc):
        lines += [f"## {title}", ""] + [b for k, x in blocks for b in (_md_block(k, x), "")]
    return "\n".join(lines)
