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
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:24px;margin-bottom:2px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px}th,td{border:1px solid #ddd;padding:4px 7px;text-align:right}
th{background:#f4f4f6}td:first-child,th:first-child{text-align:left;white-space:nowrap}
.held{color:#0a7a2f;font-weight:600}.did-not-hold{color:#b42318;font-weight:600}.not-measured{color:#777;font-weight:600}
img.plot{max-width:100%;border:1px solid #eee;margin:6px 0}pre{background:#f7f7f9;padding:10px;overflow:auto;font-size:12px}
.pairs{display:grid;grid-template-columns:repeat(2,1fr);gap:12px}.pair{border:1px solid #ddd;padding:8px;border-radius:6px}
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
    rows = [[k, str(stats[k])] for k in ("questions", "pairs", "questions_with_pairs", "mode", "rejected_source", "judge",
                                         "corruption_redraws") if k in stats]
    if "judge_rejection_rate" in stats:  # distill: chosen candidates the consistency judge rejected
        rows.append(["judge rejection rate", f"{stats['judge_rejection_rate']:.1%} of {stats.get('judge_checked', 0)}"])
    rows += [[f"dropped: {k}", str(v)] for k, v in stats.get("drop_reasons", {}).items()]
    rows += [[f"corruption {k}" + (" (natural base response)" if k == "0" else ""), str(v)]
             for k, v in stats.get("corruption_histogram", {}).items()]
    for side in ("chosen_chars", "rejected_chars"):
        if side in stats:
            rows.append([f"{side.replace('_', ' ')} (mean / max)", f"{stats[side]['mean']:.1f} / {stats[side]['max']}"])
    return rows


def render_html(doc: dict[str, Any]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>SPECS report: {_esc(doc['name'])}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>SPECS report: {_esc(doc['name'])}</h1>",
             f"<p class='muted'>Seeds: {_esc(', '.join(doc['seeds']))}. Psi = strict success (the right answer in "
             "the format the prompt asked for), in percent, from greedy decoding; the model table samples at the eval temperature.</p>",
             "<p class='did-not-hold'>trust_remote_code was ON for this run: model code from the hub was executed.</p>"
             if doc.get("trust_remote_code") else "<p class='muted'>trust_remote_code: off.</p>",
             "<h2>Findings</h2><ul>"]
    for f in doc["findings"]:
        cls = f["status"].replace(" ", "-")
        parts.append(f"<li>{_esc(f['claim'])}: <span class='{cls}'>{_esc(f['status'])}</span>"
                     f"<br><span class='muted'>{_esc(f['evidence'])}</span></li>")
    parts.append("</ul><h2>Models</h2>" + _table(*doc["models"]))
    parts.append("<h2>Cold starts: Generalization Factor</h2>")
    if doc["gf"][1]:
        parts.append(_table(*doc["gf"]))
    if "gf" in doc["plots"]:
        parts.append(f"<img class='plot' src='{_esc(doc['plots']['gf'])}' alt='GF curves'>")
    if not doc["gf"][1]:
        parts.append("<p>not run</p>")
    parts.append("<h2>RL curves</h2>")
    parts.append(f"<img class='plot' src='{_esc(doc['plots']['rl'])}' alt='RL curves'>" if "rl" in doc["plots"]
                 else "<p>not run</p>")
    parts.append("<h2>Pairs</h2>")
    parts.append(_table(["statistic", "value"], _stats_rows(doc["pair_stats"])) if doc["pair_stats"] else "<p>not run</p>")
    if doc["pairs"]:
        parts.append("<div class='pairs'>")
        for p in doc["pairs"]:
            parts.append(f"<div class='pair'><img src='{_esc(p['image'])}' alt='pair image'>"
                         f"<div class='muted'>{_esc(p['prompt'])}</div><div style='clear:both'></div>"
                         f"<b>chosen</b><pre>{_esc(p['chosen'])}</pre>"
                         f"<b>rejected</b> (corruption {_esc(p['corruption'])})<pre>{_esc(p['rejected'])}</pre></div>")
        parts.append("</div>")
    parts.append("<h2>Stage times (seconds)</h2>" + (_table(["stage", "seconds"], doc["times"]) if doc["times"]
                                                     else "<p>not run</p>"))
    parts.append(f"<h2>Config</h2><pre>{_esc(doc['config'])}</pre></body></html>")
    return "\n".join(parts)


def render_markdown(doc: dict[str, Any]) -> str:
    lines = [f"# SPECS report: {doc['name']}", "", f"Seeds: {', '.join(doc['seeds'])}.", "",
             "**trust_remote_code was ON for this run: model code from the hub was executed.**"
             if doc.get("trust_remote_code") else "trust_remote_code: off.", "", "## Findings", ""]
    lines += [f"- {f['claim']}: **{f['status']}**. {f['evidence']}" for f in doc["findings"]]
    lines += ["", "## Models", "", _md_table(*doc["models"]), "", "## Cold starts: Generalization Factor", ""]
    lines += [_md_table(*doc["gf"]) if doc["gf"][1] else "not run", ""]
    lines += [f"![GF curves]({doc['plots']['gf']})" if "gf" in doc["plots"] else "", "", "## RL curves", ""]
    lines += [f"![RL curves]({doc['plots']['rl']})" if "rl" in doc["plots"] else "not run", "", "## Pairs", ""]
    lines += [_md_table(["statistic", "value"], _stats_rows(doc["pair_stats"])) if doc["pair_stats"] else "not run", ""]
    for p in doc["pairs"]:
        lines += [f"![pair]({p['image']}) {p['prompt']}", "", f"- chosen: `{p['chosen']}`",
                  f"- rejected (corruption {p['corruption']}): `{p['rejected']}`", ""]
    lines += ["## Stage times (seconds)", "", _md_table(["stage", "seconds"], doc["times"]) if doc["times"] else "not run"]
    lines += ["", "## Config", "", "```yaml", doc["config"], "```", ""]
    return "\n".join(lines)

