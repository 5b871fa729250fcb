"""Batched sampling against a one-prompt-at-a-time loop, in generated tokens/s (JSON out).

Both run in this process on the same model and prompts; each round runs both and takes the ratio within the
round. Uses the default base (shipped with the package).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from common import machine, spread

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SPECS_QUIET", "1")


def main(n: int, max_new_tokens: int, rounds: int) -> dict:
    import torch

    from specs_vl.config import demo_config_path, load_run_config
    from specs_vl.models.load import load_vlm
    from specs_vl.models.sampling import SampleConfig, generate
    from specs_vl.world import build_split
    from specs_vl.world.base_model import build_base_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    cfg = load_run_config(demo_config_path())
    model, proc = load_vlm(build_base_model(cfg.world, cfg.base))
    exs = build_split(cfg.world, "id_test", n)

    def tokens_per_s(batch_size: int) -> float:
        t = time.perf_counter()
        outs = generate(model, proc, exs, SampleConfig(max_new_tokens=max_new_tokens, batch_size=batch_size, seed=1))
        tokens = sum(len(proc.tokenizer(o[0], add_special_tokens=False)["input_ids"]) + 1 for o in outs)
        return tokens / (time.perf_counter() - t)

    per: dict[str, list[float]] = {"single": [], "batched": [], "speedup": []}
    for r in range(rounds):
        order = (1, n) if r % 2 == 0 else (n, 1)
        got = {b: tokens_per_s(b) for b in order}
        per["single"].append(got[1])
        per["batched"].append(got[n])
        per["speedup"].append(got[n] / got[1])
    return {
        "benchmark": "batched sampling vs a one-prompt loop",
        "prompts": n,
        "max_new_tokens": max_new_tokens,
        "single_tokens_per_s": spread(per["single"], 1),
        "batched_tokens_per_s": spread(per["batched"], 1),
        "speedup": spread(per["speedup"], 2),
        "goal": "speedup median >= 10",
        **machine(),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    print(json.dumps(main(a.prompts, a.max_new_tokens, a.rounds), indent=2))
