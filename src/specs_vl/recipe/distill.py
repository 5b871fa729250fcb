"""Stage 1b, `specs distill`: self-distilled preference pairs.

Both models answer every training question with the format instruction.
- chosen: a zero-model response that is correct, format-valid and passes the judge.
- rejected (decoupled, the default): a correct base-model response to the
  same question, with its format broken. `rejected_source` says how:
  `corrupt` (default, as the paper): a correct base response with one of the
  five corruptions drawn at random; `natural`: a correct base response that
  is already not format-valid; `mixed`: natural when there is one, else corrupt.
  A corruption can destroy the answer (drop the tag that held it), so the
  corrupted text is re-checked with `answers.is_correct`; when the gold is no
  longer recoverable another kind is drawn (counted as a redraw), and the
  question is dropped when no kind keeps it.
- rejected (coupled ablation): a base-model response whose answer is wrong.
So a decoupled pair differs only in surface form; both sides are right.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from specs_vl.data.schema import prompt_text, user_message
from specs_vl.judge import get_judge, judge_many
from specs_vl.models.loading import DEFAULT_LOADING, Loading
from specs_vl.models.vllm import resolve_backend
from specs_vl.recipe.distill_config import DistillConfig
from specs_vl.recipe.distill_sampling import sample_here, sample_sharded
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import KINDS, corrupt_with_kind, parse
from specs_vl.training.train_split import load_examples
from specs_vl.util.atomic import atomic_dir
from specs_vl.util.progress import say
from specs_vl.world import WorldConfig


def _correct(ex: dict[str, Any], text: str) -> bool:

    return is_correct(extract_answer(text), ex["answer"], ex.get("answer_type", "auto"), ex.get("choices") or None)


def make_judge(cfg: DistillConfig, cache: Path | None = None):

    if cfg.judge != "http":
        return get_judge(cfg.judge)
    if not cfg.judge_url:
        raise ValueError("distill.judge is 'http' but distill.judge_url is not set")
    return get_judge(
        "http",
        url=cfg.judge_url,
        model=cfg.judge_model,
        api_key_env=cfg.judge_api_key_env,
        timeout=cfg.judge_timeout,
        retries=cfg.judge_retries,
        concurrency=cfg.judge_concurrency,
        cache=cache,
    )


def _corrupted(ex: dict[str, Any], correct: list[str], rng: random.Random, counts: Counter) -> tuple[str, int] | None:
    """A corruption of a correct response that still scores correct; redraws the kind until one does."""
    sources = [t for t in correct if parse(t).valid] or correct
    for text in rng.sample(sources, len(sources)):
        kinds = rng.sample(KINDS, len(KINDS))
        for kind in kinds:
            out, kind = corrupt_with_kind(text, kind)
            if out != text and not parse(out).valid and _correct(ex, out):
                return out, kind
            counts["redraws"] += 1
    return None


def _rejected(ex, r_outs, cfg: DistillConfig, rng: random.Random, counts: Counter) -> tuple[list[tuple[str, int]], str]:
    """Rejected candidates (text, corruption kind; 0 = natural) and the drop reason if there are none."""
    if cfg.mode == "coupled":
        return [(t, 0) for t in dict.fromkeys(r_outs) if not _correct(ex, t)], "no_wrong_rejected"
    correct = [t for t in dict.fromkeys(r_outs) if _correct(ex, t)]
    if not correct:
        return [], "no_correct_rejected"
    natural = [(t, 0) for t in correct if not parse(t).valid]
    if cfg.rejected_source == "natural" or (cfg.rejected_source == "mixed" and natural):
        return natural, "no_natural_rejected"
    one = _corrupted(ex, correct, rng, counts)
    return ([one] if one else []), "corruption_lost_answer"


def build_pairs(
    examples, chosen_outs, rejected_outs, cfg: DistillConfig, judge=None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Pairs and their statistics from already-sampled responses (no models)."""

    judge, rng = judge or make_judge(cfg), random.Random(cfg.seed)
    pairs, drops, corruptions, counts = [], Counter(), Counter(), Counter()
    goods = [
        [t for t in dict.fromkeys(c) if parse(t).valid and _correct(ex, t)] for ex, c in zip(examples, chosen_outs)
    ]
    asked = [(prompt_text(ex), t) for ex, good in zip(examples, goods) for t in good]
    verdicts = dict(zip(asked, judge_many(judge, asked)))
    for ex, good, r_outs in zip(examples, goods, rejected_outs):
        chosen = [t for t in good if verdicts[(prompt_text(ex), t)].ok]
        if not good:
            drops["no_correct_valid_chosen"] += 1
            continue
        if not chosen:
            drops["judge_rejected_all_chosen"] += 1
            continue
        rejected, reason = _rejected(ex, r_outs, cfg, rng, counts)
        if not rejected:
            drops[reason] += 1
            continue
        seen = set()
        for i in range(cfg.pairs_per_question):
            c, (r, kind) = chosen[i % len(chosen)], rejected[i % len(rejected)]
            if (c, r) in seen or c == r:
                continue
            seen.add((c, r))
            corruptions[str(kind)] += 1
            pairs.append({"example": ex, "chosen": c, "rejected": r, "corruption": kind})
    judged = sum(len(g) for g in goods)
    judge_rejected = sum(not v.ok for v in verdicts.values())
    stats = {
        "questions": len(examples),
        "pairs": len(pairs),
        "questions_with_pairs": len({p["example"]["id"] for p in pairs}),
        "drop_reasons": dict(drops),
        "corruption_histogram": dict(sorted(corruptions.items())),
        "corruption_redraws": counts["redraws"],
        "dropped_corruption_lost_answer": drops["corruption_lost_answer"],
        "judge_checked": judged,
        "judge_rejected": judge_rejected,
        "judge_rejection_rate": judge_rejected / judged if judged else 0.0,
        "chosen_chars": _length_stats([p["chosen"] for p in pairs]),
        "rejected_chars": _length_stats([p["rejected"] for p in pairs]),
        "mode": cfg.mode,
        "rejected_source": cfg.rejected_source,
        "judge": cfg.judge,
    }
    if hasattr(judge, "counts"):  # the http judge: requests, retries, failures; and earlier runs on its cache
        stats["judge_counts"] = dict(judge.counts)
        stats["judge_counts_earlier_runs"] = dict(judge.earlier)
    return pairs, stats


def _length_stats(texts: list[str]) -> dict[str, float]:
    if not texts:
        return {"mean": 0.0, "median": 0.0, "max": 0}
    lens = [len(t) for t in texts]
    return {"mean": statistics.mean(lens), "median": statistics.median(lens), "max": max(lens)}


def to_preference_dataset(pairs: list[dict[str, Any]]):
    """TRL's conversational preference format with images, plus metadata columns. Each image is stored as its
    file's own bytes (an in-memory one is encoded once), so the pairs folder stands alone."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Dataset, List
    from datasets import Image as ImageFeature

    ds = Dataset.from_list(
        [
            {
                "prompt": user_message(p["example"]),
                "chosen": [{"role": "assistant", "content": p["chosen"]}],
                "rejected": [{"role": "assistant", "content": p["rejected"]}],
                "images": [_embedded(p["example"]["image"])],
                "id": p["example"]["id"],
                "answer": p["example"]["answer"],
                "family": p["example"].get("family", ""),
                "corruption": p["corruption"],
            }
            for p in pairs
        ]
    )
    return ds.cast_column("images", List(ImageFeature(mode="RGB")))  # stored {bytes, path} dicts are images


def _embedded(image: Any) -> Any:
    """A decoded image as is; a stored one (data/images.stored_image) as its file's bytes."""
    if isinstance(image, dict) and not image.get("bytes"):
        return {"bytes": Path(image["path"]).read_bytes(), "path": None}
    return image


def run_distill(
    cfg: DistillConfig,
    zero: str | Path,
    base: str | Path,
    out: Path,
    world: Any = None,
    loading: Loading = DEFAULT_LOADING,
) -> dict[str, Any]:
    """Sample both models, build pairs, write `out/` (a datasets dir with stats.json) atomically."""

    t0 = time.time()
    probe = make_judge(cfg)  # fail on a bad or unreachable judge before minutes of sampling
    if hasattr(probe, "check"):
        probe.check()
    examples = load_examples(cfg.data, world or WorldConfig(), cfg.train_size)
    backend = resolve_backend(cfg.backend, "distill")
    outs, timings = {}, {"backend": backend, "data_parallel_size": cfg.data_parallel_size}
    for side, path in (("chosen", cfg.chosen_model or zero), ("rejected", cfg.rejected_model or base)):
        t = time.time()
        if cfg.data_parallel_size > 1:
            work = Path(out).parent / f".{Path(out).name}.shards" / side
            outs[side] = sample_sharded(backend, path, cfg, world or WorldConfig(), loading, work, len(examples))
        else:
            outs[side] = sample_here(backend, path, examples, cfg, loading)
        timings[f"sample_{side}_seconds"] = round(time.time() - t, 1)
    judge = make_judge(cfg, cache=Path(out).parent / "judge_cache.jsonl")
    pairs, stats = build_pairs(examples, outs["chosen"], outs["rejected"], cfg, judge)
    stats.update(timings, chosen_model=str(cfg.chosen_model or zero), rejected_model=str(cfg.rejected_model or base))
    if not pairs:
        raise ValueError(
            f"distill produced no pairs from {len(examples)} questions; drop reasons: {stats['drop_reasons']}"
        )
    stats["seconds"] = round(time.time() - t0, 1)
    with atomic_dir(Path(out)) as tmp:
        to_preference_dataset(pairs).save_to_disk(str(tmp))
        (tmp / "stats.json").write_text(json.dumps(stats, indent=2))
    shutil.rmtree(Path(out).parent / f".{Path(out).name}.shards", ignore_errors=True)  # the shards' responses
    say(
        f"distill: {stats['pairs']} pairs from {stats['questions']} questions in {stats['seconds']}s; "
        f"drops {stats['drop_reasons']}; corruptions {stats['corruption_histogram']} "
        f"({stats['corruption_redraws']} redraws); judge rejected {stats['judge_rejection_rate']:.1%}"
    )
    return stats
