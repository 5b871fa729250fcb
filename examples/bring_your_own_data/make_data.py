"""Write a small dataset in the example schema: JSONL files with PNG images beside them.

It stands in for your own files. Each row: {"image": "images/train-0.png", "question": ..., "answer": ...,
"answer_type": ..., "choices": [...]}, image paths relative to the JSONL file (docs/data.md).
The pictures come from specs-vl's procedural world only because this example must run offline.

    python make_data.py mydata          # mydata/{train,heldout_id,ood_a,ood_b}.jsonl + mydata/images/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from specs_vl.world import WorldConfig, build_split

SETS = {  # file name: (world split the questions come from, rows, first row)
    "train": ("train", 20, 0),
    "heldout_id": ("id_test", 6, 0),  # held out, same kind of question
    "ood_a": ("ood_test", 4, 0),  # out of distribution: unseen question kinds and answer styles
    "ood_b": ("ood_test", 3, 4),
}


def write_set(root: Path, name: str, split: str, n: int, offset: int = 0) -> int:
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, ex in enumerate(build_split(WorldConfig(seed=7), split, n + offset)[offset:]):
        img = f"images/{name}-{i}.png"
        ex["image"].save(root / img)
        row = {"image": img, "question": ex["question"], "answer": ex["answer"], "answer_type": ex["answer_type"]}
        if ex.get("choices"):
            row["choices"] = ex["choices"]
        lines.append(json.dumps(row))
    (root / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return n


def main(out: str = "mydata") -> dict[str, int]:
    sizes = {name: write_set(Path(out), name, *spec) for name, spec in SETS.items()}
    print(f"wrote {out}/: " + ", ".join(f"{k}.jsonl ({v} rows)" for k, v in sizes.items()))
    return sizes


if __name__ == "__main__":
    main(*sys.argv[1:2])
