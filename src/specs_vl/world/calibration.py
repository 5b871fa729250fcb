"""What the base model knows before any SPECS stage: does it look at the image?

Per training family, at T=1 on `id_test` under the format instruction:
- `accuracy`: the final answer is right, whatever the format;
- `oracle`: a text-only oracle that answers each question with the answer seen
  most often for that exact question text in a train export
  (`ORACLE_TRAIN` examples), else the family's most frequent answer;
- `blank_image`: the base's accuracy on the same prompts with a blank image;
- `format_valid`: the share of responses in the exact `<think>/<answer>` format.
A base that sees beats the oracle by a wide margin and falls towards it on
blank images.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from PIL import Image

from specs_vl.models.sampling import SampleConfig, generate
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import parse

from .dataset import WorldConfig, build_split, draw
from .scene import SIZE

ORACLE_TRAIN = 6000


def text_oracle(world: WorldConfig, n_train: int = ORACLE_TRAIN) -> tuple[dict[str, str], dict[str, str]]:
    """(most frequent answer per exact question text, per family) over `n_train` train examples."""
    by_q: dict[str, Counter] = defaultdict(Counter)
    by_f: dict[str, Counter] = defaultdict(Counter)
    for i in range(n_train):
        task, _ = draw(world, "train", i)
        by_q[task.question][task.answer] += 1
        by_f[task.family][task.answer] += 1
    return ({q: c.most_common(1)[0][0] for q, c in by_q.items()}, {f: c.most_common(1)[0][0] for f, c in by_f.items()})


def oracle_answer(ex: dict[str, Any], by_q: dict[str, str], by_f: dict[str, str]) -> str:
    return by_q.get(ex["question"], by_f.get(ex["family"], ""))


def _correct(text: str, ex: dict[str, Any]) -> bool:
    return is_correct(extract_answer(text), ex["answer"], ex["answer_type"], ex["choices"])


def calibrate(model, processor, world: WorldConfig, n: int, max_new_tokens: int, seed: int = 0) -> dict[str, Any]:
    """Per-family accuracy, oracle, blank-image accuracy and format-valid rate on `n` id_test prompts."""
    # the retired prefix of id_test, whatever world.test_start says: verdicts read from test_start on
    examples = build_split(world, "id_test", min(n, world.id_test_size), start=0)
    blank = [dict(ex, image=Image.new("RGB", (SIZE, SIZE), (255, 255, 255))) for ex in examples]
    scfg = SampleConfig(n=1, temperature=1.0, max_new_tokens=max_new_tokens, seed=seed)
    responses = [o[0] for o in generate(model, processor, examples, scfg)]
    blank_responses = [o[0] for o in generate(model, processor, blank, scfg)]
    by_q, by_f = text_oracle(world)
    rows: dict[str, list[tuple[bool, bool, bool, bool]]] = defaultdict(list)
    for ex, r, b in zip(examples, responses, blank_responses):
        oracle = is_correct(oracle_answer(ex, by_q, by_f), ex["answer"], ex["answer_type"], ex["choices"])
        rows[ex["family"]].append((_correct(r, ex), oracle, _correct(b, ex), parse(r).valid))
    per_family = {
        fam: {
            "accuracy": _mean(v, 0),
            "oracle": _mean(v, 1),
            "blank_image": _mean(v, 2),
            "format_valid": _mean(v, 3),
            "margin": _mean(v, 0) - _mean(v, 1),
            "n": len(v),
        }
        for fam, v in sorted(rows.items())
    }
    return {
        "split": "id_test",
        "n": len(examples),
        "temperature": 1.0,
        "oracle_train_examples": ORACLE_TRAIN,
        "format_valid_rate": sum(parse(r).valid for r in responses) / len(responses),
        "accuracy": sum(_correct(r, ex) for r, ex in zip(responses, examples)) / len(examples),
        "blank_image_accuracy": sum(_correct(b, ex) for b, ex in zip(blank_responses, examples)) / len(examples),
        "mean_response_chars": sum(map(len, responses)) / len(responses),
        "per_family": per_family,
    }


def _mean(rows: list[tuple[bool, ...]], i: int) -> float:
    return sum(r[i] for r in rows) / len(rows) if rows else 0.0
