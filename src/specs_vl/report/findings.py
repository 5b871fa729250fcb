"""Did the paper's claims hold on this run? Each verdict comes with the numbers that decided it.

A claim is "held", "did not hold", or "not measured" when a stage it needs
has not run. With several seeds the comparison is on the seed means.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from specs_vl.report.tables import seed_dirs


def _metric(dirs: list[Path], model: str, suite: str, key: str) -> float | None:
    vals = []
    for d in dirs:
        try:
            v = json.loads((d / "eval" / model / suite / "metrics.json").read_text())["overall"].get(key)
        except (OSError, json.JSONDecodeError, KeyError):
            continue
        if v is not None:
            vals.append(v)
    return statistics.mean(vals) if vals else None


def _gf(dirs: list[Path], method: str) -> dict[str, float] | None:
    finals = []
    for d in dirs:
        try:
            finals.append(json.loads((d / f"coldstart-{method}" / "gf_curve.json").read_text())["points"][-1])
        except (OSError, json.JSONDecodeError, KeyError, IndexError):
            continue
    if not finals:
        return None
    return {k: statistics.mean(p[k] or 0.0 for p in finals) for k in ("gf", "g_id", "g_ood")}  # gf null: 0


def _verdict(claim: str, ok: bool | None, evidence: str) -> dict[str, str]:
    status = "not measured" if ok is None else ("held" if ok else "did not hold")
    return {"claim": claim, "status": status, "evidence": evidence}


def _pass_k(dirs: list[Path], model: str) -> tuple[str, float | None]:
    keys = []
    for d in dirs:
        try:
            o = json.loads((d / "eval" / model / "world-id" / "metrics.json").read_text())["overall"]
            keys += [k for k in o if k.startswith("pass@") and o[k] is not None]
        except (OSError, json.JSONDecodeError, KeyError):
            pass
    key = max(keys, key=lambda k: int(k[5:]), default="pass@1")
    return key, _metric(dirs, model, "world-id", key)


def findings(run_dir: Path) -> list[dict[str, str]]:


    dirs = seed_dirs(Path(run_dir))
    out = []

    base_f, zero_f = (_metric(dirs, m, "world-id", "format_valid_rate") for m in ("base", "zero"))
    ok = None if base_f is None or zero_f is None else zero_f > base_f
    out.append(_verdict("zero improves the format rate over base", ok,
                        "not measured" if ok is None else f"world-id format-valid rate: base {base_f:.3f}, zero {zero_f:.3f}"))

    dpo_sft, sft = _gf(dirs, "dpo-sft"), _gf(dirs, "sft")
    if dpo_sft is None or sft is None:
        out.append(_verdict("GF(dpo-sft) > GF(sft)", None, "not measured"))
    else:
        ok = dpo_sft["gf"] > sft["gf"]
        ev = (f"final GF: dpo-sft {dpo_sft['gf']:.1f} (gains ID {dpo_sft['g_id']:+.1f}, OOD {dpo_sft['g_ood']:+.1f}); "
              f"sft {sft['gf']:.1f} (gains ID {sft['g_id']:+.1f}, OOD {sft['g_ood']:+.1f})")
        if dpo_sft["gf"] == sft["gf"] == 0:
            ev += "; both GF are 0 because a gain was not positive, so the claim cannot hold"
        out.append(_verdict("GF(dpo-sft) > GF(sft)", ok, ev))

    for suite, label in (("world-id", "ID"), ("world-ood", "OOD")):
        a, b = (_metric(dirs, m, suite, "accuracy") for m in ("rl-dpo-sft", "rl-sft"))
        ok = None if a is None or b is None else a >= b
        out.append(_verdict(f"after RL, SPECS >= the SFT cold start on {label}", ok,
                            "not measured" if ok is None else f"{suite} accuracy after RL: from dpo-sft {a:.3f}, from sft {b:.3f}"))

    a_id, a_ood, b_id, b_ood = (_metric(dirs, m, s, "accuracy") for m in ("rl-dpo-sft", "rl-base")
                                for s in ("world-id", "world-ood"))
    ok = None if None in (a_id, a_ood, b_id, b_ood) else (a_id >= b_id and a_ood >= b_ood)
    out.append(_verdict("after RL, SPECS >= no cold start (RL from the base) on ID and OOD", ok,
                        "not measured" if ok is None else f"accuracy after RL, from dpo-sft vs from base: "
                        f"ID {a_id:.3f} vs {b_id:.3f}, OOD {a_ood:.3f} vs {b_ood:.3f}"))

    k, pk_a = _pass_k(dirs, "rl-dpo-sft")
    pk_b = _metric(dirs, "rl-sft", "world-id", k)
    rbf_a, rbf_b = (_metric(dirs, m, "world-id", "rbf") for m in ("rl-dpo-sft", "rl-sft"))
    if None in (pk_a, pk_b, rbf_a, rbf_b):
        out.append(_verdict("SPECS explores more (pass@k, RBF)", None, "not measured"))
    else:
        both = pk_a > pk_b and rbf_a > rbf_b
        ev = (f"world-id after RL, from dpo-sft vs from sft: {k} {pk_a:.3f} vs {pk_b:.3f} "
              f"({'higher' if pk_a > pk_b else 'not higher'}), RBF {rbf_a:.2f} vs {rbf_b:.2f} "
              f"({'higher' if rbf_a > rbf_b else 'not higher'})")
        out.append(_verdict("SPECS explores more (pass@k, RBF)", both, ev))
    return out

