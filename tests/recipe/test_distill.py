"""Pair construction: both sides correct, only chosen in format; drops counted; ablations."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from specs_vl.cli.app import app
from specs_vl.recipe.distill import DistillConfig, build_pairs, to_preference_dataset
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import parse
from specs_vl.world import WorldConfig, build_split

runner = CliRunner()


def _fake_outputs(examples):
    """Hand-made zero/base responses covering each case."""
    zero, base = [], []
    for i, ex in enumerate(examples):
        a, wrong = ex["answer"], "zzz"
        good = f"<think>I look. So it is {a}.</think> <answer>{a}</answer>"
        case = i % 5
        if case == 0:  # normal: base correct but unformatted
            zero.append([good, good])
            base.append([f"Thus, the answer is {a}.", f"<think>x</think> <answer>{a}</answer>"])
        elif case == 1:  # every correct base response is valid -> corrupt one
            zero.append([good])
            base.append([f"<think>so {a}</think> <answer>{a}</answer>"])
        elif case == 2:  # zero never right
            zero.append([f"<think>So it is {wrong}.</think> <answer>{wrong}</answer>"])
            base.append([f"Answer: {a}"])
        elif case == 3:  # zero right but inconsistent with its reasoning -> judge drops it
            zero.append([f"<think>So it is {wrong}.</think> <answer>{a}</answer>"])
            base.append([f"Answer: {a}"])
        else:  # base never right
            zero.append([good])
            base.append([f"Answer: {wrong}"])
    return zero, base


def test_decoupled_pairs_are_correct_on_both_sides_and_differ_in_format():
    exs = build_split(WorldConfig(), "train", 20)
    zero, base = _fake_outputs(exs)
    pairs, stats = build_pairs(exs, zero, base, DistillConfig())
    assert len(pairs) == 8 == stats["pairs"]
    for p in pairs:
        ex = p["example"]
        for side in ("chosen", "rejected"):
            assert is_correct(extract_answer(p[side]), ex["answer"], ex["answer_type"], ex["choices"])
        assert parse(p["chosen"]).valid and not parse(p["rejected"]).valid
    assert stats["drop_reasons"] == {
        "no_correct_valid_chosen": 4,
        "judge_rejected_all_chosen": 4,
        "no_correct_rejected": 4,
    }
    # the default rejected_source is "corrupt": every rejected side is a corrupted correct base response
    assert "0" not in stats["corruption_histogram"] and sum(stats["corruption_histogram"].values()) == 8
    assert {p["corruption"] for p in pairs} <= {1, 2, 3, 4, 5}
    assert stats["rejected_source"] == "corrupt" and 0 <= stats["judge_rejection_rate"] <= 1
    assert stats["judge_checked"] == 16 and stats["judge_rejected"] == 4


def test_natural_and_mixed_rejected_sources():
    exs = build_split(WorldConfig(), "train", 20)
    zero, base = _fake_outputs(exs)
    natural, s_nat = build_pairs(exs, zero, base, DistillConfig(rejected_source="natural"))
    mixed, s_mix = build_pairs(exs, zero, base, DistillConfig(rejected_source="mixed"))
    assert natural and all(p["corruption"] == 0 for p in natural)
    assert s_nat["drop_reasons"]["no_natural_rejected"] == 4  # case 1: every correct base response is valid
    assert s_mix["corruption_histogram"]["0"] == 4 and sum(s_mix["corruption_histogram"].values()) == 8


def test_corruption_that_loses_the_answer_is_redrawn():
    """After kinds 1, 2 and 4 a bare "yes" is no longer read as the answer; those kinds are redrawn."""
    exs = [e for e in build_split(WorldConfig(), "train", 200) if e["answer_type"] in ("yesno", "word")][:30]
    zero = [[f"<think>So it is {e['answer']}.</think> <answer>{e['answer']}</answer>"] for e in exs]
    base = [[f"<think>red: 3. blue: 2. 3 is 2</think> <answer>{e['answer']}</answer>"] for e in exs]
    pairs, stats = build_pairs(exs, zero, base, DistillConfig(judge="none"))
    assert len(pairs) == len(exs) and stats["corruption_redraws"] > 0
    assert stats["dropped_corruption_lost_answer"] == 0
    for p in pairs:
        ex = p["example"]
        assert is_correct(extract_answer(p["rejected"]), ex["answer"], ex["answer_type"], ex["choices"])
        assert not parse(p["rejected"]).valid
    assert {p["corruption"] for p in pairs} <= {3, 5}  # the kinds that keep a bare word answer readable


def test_coupled_mode_rejects_a_wrong_answer():
    exs = build_split(WorldConfig(), "train", 10)
    zero, base = _fake_outputs(exs)
    pairs, stats = build_pairs(exs, zero, base, DistillConfig(mode="coupled"))
    assert pairs and all(not is_correct(extract_answer(p["rejected"]), p["example"]["answer"]) for p in pairs)


def test_pairs_dedupe_and_preference_dataset_schema():
    exs = build_split(WorldConfig(), "train", 5)
    zero, base = _fake_outputs(exs)
    pairs, _ = build_pairs(exs, zero, base, DistillConfig(pairs_per_question=3))
    assert len({(p["example"]["id"], p["chosen"], p["rejected"]) for p in pairs}) == len(pairs)
    ds = to_preference_dataset(pairs)
    assert {"prompt", "chosen", "rejected", "images", "id", "answer", "corruption"} <= set(ds.column_names)
    row = ds[0]
    assert row["chosen"][0]["role"] == "assistant" and row["prompt"][0]["content"][0]["type"] == "image"
    src = next(e for e in exs if e["id"] == row["id"])  # both sides answer the same question and image
    assert row["images"][0].tobytes() == src["image"].tobytes()
    assert src["question"] in row["prompt"][0]["content"][1]["text"]


def test_distill_stats_and_bad_input(tmp_path, tiny_base_dir):
    d = tmp_path / "pairs"
    d.mkdir()
    (d / "stats.json").write_text(json.dumps({"pairs": 3}))
    res = runner.invoke(app, ["distill", "--stats", str(d)])
    assert res.exit_code == 0 and '"pairs": 3' in res.output
    res = runner.invoke(app, ["distill", "--stats", str(tmp_path)])
    assert res.exit_code == 2 and "no stats.json" in res.output
    from datasets import Dataset
    from PIL import Image

    bad = tmp_path / "bad"
    Dataset.from_list([{"image": Image.new("RGB", (28, 28)), "question": "q?"}]).save_to_disk(str(bad))
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        ["distill", "--zero", str(tiny_base_dir), "--base", str(tiny_base_dir), "--data", str(bad), "--out", str(out)],
    )
    assert res.exit_code == 2 and "row 0" in res.output and "'answer'" in res.output
    assert not out.exists()
    text_only = tmp_path / "lm"
    text_only.mkdir()
    (text_only / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    res = runner.invoke(app, ["distill", "--zero", str(text_only), "--base", str(tiny_base_dir), "--out", str(out)])
    assert res.exit_code == 2 and "text-only" in res.output and not out.exists()


def test_the_hf_path_frees_each_models_gpu_cache_before_the_next_loads(monkeypatch, tmp_path):
    """`del model` alone leaves CUDA's cached blocks reserved: each side's model is freed and the cache
    emptied before the other side (and then the cold start) loads."""
    import gc
    import weakref

    import torch

    from specs_vl.recipe import distill, distill_sampling

    class Model:
        pass

    world = WorldConfig(train_size=10)
    examples = build_split(world, "train", 10)
    zero, base = _fake_outputs(examples)
    sides, loaded, at_empty = iter([zero, base]), [], []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: at_empty.append([r() is None for r in loaded]))

    def load(path, loading=None):
        m = Model()
        loaded.append(weakref.ref(m))
        return m, None

    monkeypatch.setattr(distill_sampling, "load_for_inference", load)
    monkeypatch.setattr(
        distill_sampling, "generate", lambda model, proc, exs, scfg, on_batch=None, source=None: next(sides)
    )
    gc.collect()
    distill.run_distill(DistillConfig(train_size=10, samples=2, backend="hf"), "zero", "base", tmp_path / "p", world)
    assert at_empty == [[True], [True, True]]  # once per side, each time after that side's model was gone


def test_shards_cover_every_question_once_in_order():
    from specs_vl.recipe.distill_sampling import shard_bounds

    for n, k in [(10, 3), (5, 2), (2, 4), (8, 8)]:
        spans = [shard_bounds(n, k, i) for i in range(k)]
        assert spans[0][0] == 0 and spans[-1][1] == n and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        assert max(b - a for a, b in spans) - min(b - a for a, b in spans) <= 1


def test_data_parallel_sampling_gathers_each_shards_own_samples_in_question_order(tiny_base_dir, tmp_path):
    """Two worker processes, each its share of the questions with seed + shard, concatenated in order: the
    same responses as sampling each share here with that seed."""
    from specs_vl.models.loading import DEFAULT_LOADING
    from specs_vl.recipe.distill_sampling import sample_here, sample_sharded, shard_bounds
    from specs_vl.training.train_split import load_examples

    world = WorldConfig(train_size=5)
    cfg = DistillConfig(train_size=5, samples=2, max_new_tokens=12, backend="hf", data_parallel_size=2, seed=3)
    work = tmp_path / "shards"
    got = sample_sharded("hf", tiny_base_dir, cfg, world, DEFAULT_LOADING, work, 5)
    examples = load_examples(None, world, 5)
    want = []
    for i in range(2):
        lo, hi = shard_bounds(5, 2, i)
        want += sample_here("hf", tiny_base_dir, examples[lo:hi], cfg, DEFAULT_LOADING, shard=i)
    assert got == want and len(got) == 5 and all(len(r) == 2 for r in got)

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    try:
        sample_sharded("hf", broken, cfg, world, DEFAULT_LOADING, tmp_path / "bad", 5)
    except Exception as e:  # noqa: BLE001 - the type is checked below
        from specs_vl.util.errors import TrainingError

        assert isinstance(e, TrainingError) and "shard(s) [0, 1] of 2 failed" in str(e) and "shard-0.log" in str(e)
    else:
        raise AssertionError("a failing shard must stop distill")
