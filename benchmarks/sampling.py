"""Batched sampling against a one-prompt-at-a-time loop, in generated tokens/s (JSON out).

Both run in this process on the same model and prompts, so the ratio is
meaningful on a noisy machine. Uses the cached demo base model (builds it if
missing).
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SPECS_QUIET", "1")


def main(n: int = 64, max_new_tokens: int = 48) -> dict:
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

    def run(batch_size: int) -> tuple[float, int]:
        t = time.perf_counter()
        outs = generate(model, proc, exs, SampleConfig(max_new_tokens=max_new_tokens, batch_size=batch_size, seed=1))
        tokens = sum(len(proc.tokenizer(o[0], add_special_tokens=False)["input_ids"]) + 1 for o in outs)
        return time.perf_counter() - t, tokens

    single_s, single_tok = run(1)
    batched_s, batched_tok = run(n)
    result = {
        "prompts": n,
        "max_new_tokens": max_new_tokens,
        "single_tokens_per_s": single_tok / single_s,
        "batched_tokens_per_s": batched_tok / batched_s,
        "speedup": (batched_tok / batched_s) / (single_tok / single_s),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
