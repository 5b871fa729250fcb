"""The world: determinism, disjoint splits, answers re-derived from pixels, clear errors."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from specs_vl.scoring.styles import REQUIREMENT_STYLES, RETENTION_STYLES
from specs_vl.world import FAMILIES, OOD_FAMILIES, TRAIN_FAMILIES, WorldConfig, build_split, make_example
from specs_vl.world.dataset import OOD_SETS, draw
from specs_vl.world.tasks import paraphrase

TEST_SETS = ("id_test", *OOD_SETS, "retention")

CELL = 28


def png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# ---- an independent reader of the images: pixels only, no generator state ----


def colour_of(rgb) -> str | None:
    r, g, b = rgb[:3]
    if r > 200 and g > 200 and b > 200:
        return None
    if r > 180 and g > 150 and b < 100:
        return "yellow"
    if r > 150 and g < 100 and b < 100:
        return "red"
    if g > r and g > b:
        return "green"
    if b > r and b > g:
        return "blue"
    return None


def read_cells(img) -> dict[tuple[int, int], tuple[str, str]]:
    px = img.load()
    cells = {}
    for row in range(4):
        for col in range(4):
            cols = Counter()
            for y in range(row * CELL, (row + 1) * CELL):
                for x in range(col * CELL, (col + 1) * CELL):
                    c = colour_of(px[x, y])
                    if c:
                        cols[c] += 1
            if not cols:
                continue
            colour, area = cols.most_common(1)[0]
            shape = "square" if area > 360 else "circle" if area > 250 else "triangle"
            cells[(row, col)] = (colour, shape)
    return cells


def read_bars(img) -> dict[str, int]:
    px = img.load()
    bars = {}
    for col in range(4):
        x = col * CELL + CELL // 2 - 2
        filled = [y for y in range(112) if colour_of(px[x, y])]
        bars[colour_of(px[x, 111])] = round(len(filled) / CELL)
    return bars


def count_pips(img) -> int:
    """Pips on every die: per 56-px quadrant with a black outline, blobs of the colour that is not the body's."""
    px = img.load()
    total = 0
    for quadrant in range(4):
        x0, y0 = (quadrant % 2) * 56, (quadrant // 2) * 56
        if sum(px[x0 + 2, y0 + 28][:3]) > 60:  # no black outline: no die here
            continue
        body = px[x0 + 5, y0 + 5][:3]
        pip = {
            (x, y)
            for x in range(x0 + 5, x0 + 52)
            for y in range(y0 + 5, y0 + 52)
            if sum(abs(a - b) for a, b in zip(px[x, y][:3], body)) > 120
        }
        seen = set()
        for p in pip:
            if p in seen:
                continue
            total += 1
            stack = [p]
            while stack:
                q = stack.pop()
                if q in seen or q not in pip:
                    continue
                seen.add(q)
                x, y = q
                stack += [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)]
    return total


def options(question: str) -> dict[str, str]:
    return dict(re.findall(r"([A-D])\. (\w+)", question))


def rederive(ex) -> str:
    q, img = ex["question"], ex["image"]
    fam = ex["family"]
    if fam == "bar":
        bars = read_bars(img)
        if q.startswith("Which bar"):
            top = max(bars, key=bars.get)
            return next(letter for letter, c in options(q).items() if c == top)
        return str(bars[re.search(r"the (\w+) bar", q).group(1)])
    if fam == "dice":
        return str(count_pips(img))
    cells = read_cells(img).items()

    def n(colour=None, shape=None):
        return sum(1 for _, (c, s) in cells if (colour in (None, c)) and (shape in (None, s)))

    if fam == "count":
        if m := re.fullmatch(r"How many (\w+) shapes are there\?", q):
            return str(n(colour=m.group(1)))
        if m := re.fullmatch(r"How many (\w+) (\w+)s are there\?", q):
            return str(n(m.group(1), m.group(2)))
        return str(n(shape=re.fullmatch(r"How many (\w+)s are there\?", q).group(1)))
    if fam == "arith":
        if m := re.fullmatch(r"How many (\w+)s and (\w+)s are there in total\?", q):
            return str(n(shape=m.group(1)) + n(shape=m.group(2)))
        m = re.fullmatch(r"How many more (\w+)s than (\w+)s are there\?", q)
        return str(n(shape=m.group(1)) - n(shape=m.group(2)))
    if fam == "compare":
        m = re.fullmatch(r"Are there more (\w+) shapes than (\w+) shapes\?", q)
        return "yes" if n(colour=m.group(1)) > n(colour=m.group(2)) else "no"
    if fam == "where":
        m = re.search(r"the (\w+) row, column (\d)", q)
        row = ["top", "second", "third", "bottom"].index(m.group(1))
        colour, shape = dict(cells)[(row, int(m.group(2)) - 1)]
        return colour if q.startswith("What colour") else shape
    if fam == "rowcount":
        row = ["top", "second", "third", "bottom"].index(re.search(r"the (\w+) row", q).group(1))
        return str(sum(1 for (r, _), _ in cells if r == row))
    if fam == "majority":
        counts = Counter(c for _, (c, _) in cells)
        top = counts.most_common(1)[0][0]
        return next(letter for letter, c in options(q).items() if c == top)
    raise AssertionError(f"no independent check for family {fam}")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_answer_rederived_from_pixels(family):
    import random

    from specs_vl.world.dataset import example_from_task

    for i in range(40):
        task = FAMILIES[family](random.Random(f"check:{family}:{i}"))
        ex = example_from_task(task, "format", "train", str(i))
        assert rederive(ex) == ex["answer"], (family, ex["question"], task.key)


def test_deterministic_from_seed_split_index():
    cfg = WorldConfig()
    for split in ("train", "dev", "id_test", *OOD_SETS, "retention", "ood_test", "pretrain"):
        a, b = make_example(cfg, split, 7), make_example(cfg, split, 7)
        assert png(a["image"]) == png(b["image"])
        assert {k: v for k, v in a.items() if k != "image"} == {k: v for k, v in b.items() if k != "image"}
    other = make_example(WorldConfig(seed=1), "train", 7)
    assert (other["question"], png(other["image"])) != (
        make_example(cfg, "train", 7)["question"],
        png(make_example(cfg, "train", 7)["image"]),
    )


def test_splits_disjoint_and_composed_as_specified():
    cfg = WorldConfig(train_size=600, id_test_size=150, ood_test_size=150)
    train, dev, id_test, ood = (build_split(cfg, s) for s in ("train", "dev", "id_test", "ood_test"))
    train_imgs, dev_imgs = {png(e["image"]) for e in train}, {png(e["image"]) for e in dev}
    assert not train_imgs & dev_imgs
    for test in (id_test, ood):
        assert not (train_imgs | dev_imgs) & {png(e["image"]) for e in test}
    assert (
        {e["family"] for e in train}
        == set(TRAIN_FAMILIES)
        == {e["family"] for e in id_test}
        == {e["family"] for e in dev}
    )
    assert {e["instruction_style"] for e in train + dev + id_test} == {"format"}
    assert set(OOD_FAMILIES) <= {e["family"] for e in ood}
    assert not set(OOD_FAMILIES) & {e["family"] for e in train + dev}
    assert set(REQUIREMENT_STYLES) <= {e["instruction_style"] for e in ood}
    assert {e["split"] for e in ood} == set(OOD_SETS)
    assert {e["answer_type"] for e in train + ood} == {"integer", "mc", "word", "yesno"}
    for e in train + id_test + ood:
        assert set(e) == {
            "id",
            "image",
            "question",
            "answer",
            "answer_type",
            "choices",
            "family",
            "instruction_style",
            "split",
        }
        if e["answer_type"] == "mc":
            assert 2 <= len(e["choices"]) <= 4 and e["answer"] in "ABCD"


def test_default_split_sizes_and_distinct_images():
    """id_test >= 1,000 prompts; each OOD set >= 500 prompts on >= 300 distinct images (keys <=> images)."""
    cfg = WorldConfig()
    assert cfg.size("id_test") >= 1000
    keys = {s: [draw(cfg, s, i)[0].key for i in range(cfg.size(s))] for s in ("train", "dev", *TEST_SETS)}
    for s in OOD_SETS:
        assert len(keys[s]) >= 500 and len(set(keys[s])) >= 300, s
    for s in ("train", "dev"):  # dev is for tuning only: no image shared with train or any test split
        for t in TEST_SETS:
            assert not set(keys[s]) & set(keys[t]), (s, t)
    assert not set(keys["train"]) & set(keys["dev"])
    # equal keys <=> equal images, checked on a sample of each OOD set
    for s in OOD_SETS:
        exs = build_split(cfg, s, 40)
        assert len({png(e["image"]) for e in exs}) == len({draw(cfg, s, i)[0].key for i in range(40)})


def test_ood_content_is_in_pretraining_but_never_in_training_splits():
    cfg = WorldConfig()
    pre = [draw(cfg, "pretrain", i) for i in range(3000)]
    train = [draw(cfg, s, i) for s in ("train", "dev") for i in range(cfg.size(s))]
    pre_families, pre_styles = {t.family for t, _ in pre}, {st for _, st in pre}
    assert set(OOD_FAMILIES) <= pre_families and set(REQUIREMENT_STYLES) <= pre_styles
    assert any(len(t.key) == 3 for t, _ in pre)  # the shifted renderer
    assert any(
        t.question != paraphrase(t.question) or t.question.startswith(("Count the", "Which colour does"))
        for t, _ in pre
    )
    assert not {t.family for t, _ in train} & set(OOD_FAMILIES)
    assert {st for _, st in train} == {"format"} and all(len(t.key) == 2 for t, _ in train)
    surface = [draw(cfg, "ood_surface", i)[0] for i in range(50)]
    assert all(len(t.key) == 3 for t in surface if t.family != "dice")
    assert sum(t.question != paraphrase(t.question) for t in surface) == 0  # already paraphrased


def test_retention_is_the_full_style_switches():
    exs = build_split(WorldConfig(), "retention", 40)
    assert {e["instruction_style"] for e in exs} == set(RETENTION_STYLES)


def test_ten_thousand_examples_build_with_distinct_ids():
    """Speed is measured in benchmarks/, not asserted here (no test depends on the machine's load)."""
    exs = build_split(WorldConfig(train_size=10_000), "train")
    assert len(exs) == 10_000 and len({e["id"] for e in exs}) == 10_000


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(train_families=("count", "spiral")), "spiral"),
        (dict(retention_styles=("boxed", "haiku")), "haiku"),
        (dict(requirement_styles=("req_json", "boxed")), "boxed"),
        (dict(train_size="many"), "train_size"),
        (dict(train_families=("count",), ood_families=("count",)), "count"),
    ],
)
def test_bad_world_config_names_the_problem(kwargs, needle):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=needle):
        WorldConfig(**kwargs)


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        make_example(WorldConfig(), "validation", 0)


def test_malformed_world_yaml_names_file_and_key(tmp_path):
    from specs_vl.config import load_run_config
    from specs_vl.util.errors import ConfigError

    bad = tmp_path / "run.yaml"
    bad.write_text("world:\n  seed: 0\n  trian_size: 10\n")
    with pytest.raises(ConfigError, match=r"run.yaml: world.trian_size: unknown key"):
        load_run_config(bad)
    bad.write_text("world: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_run_config(bad)


def test_world_show_and_export_every_split(tmp_path):
    import json

    from datasets import load_from_disk
    from typer.testing import CliRunner

    from specs_vl.cli.app import app
    from specs_vl.world import SPLITS

    runner = CliRunner()
    for split in SPLITS:
        res = runner.invoke(app, ["world", "show", "--split", split, "--n", "3"])
        rows = [json.loads(line) for line in res.output.splitlines()]
        assert res.exit_code == 0 and len(rows) == 3 and all(r["question"] in r["prompt"] for r in rows), split
        res = runner.invoke(app, ["world", "export", str(tmp_path / split), "--split", split, "--n", "3", "--quiet"])
        assert res.exit_code == 0 and len(load_from_disk(str(tmp_path / split))) == 3, split
    res = runner.invoke(app, ["world", "show", "--split", "validation"])
    assert res.exit_code == 2 and "unknown split 'validation'" in res.output
