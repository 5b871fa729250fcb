"""The world: determinism, disjoint splits, answers re-derived from pixels, clear errors."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from specs_vl.world import FAMILIES, OOD_FAMILIES, TRAIN_FAMILIES, WorldConfig, build_split, make_example
from specs_vl.world.styles import OOD_STYLES

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


def count_blobs(img, x0: int, x1: int) -> int:
    px = img.load()
    # The die's interior only: 6 px inside its outline.
    dark = {(x, y) for x in range(x0 + 7, x1 - 6) for y in range(35, 78) if sum(px[x, y][:3]) < 150}
    seen, blobs = set(), 0
    for p in dark:
        if p in seen:
            continue
        blobs += 1
        stack = [p]
        while stack:
            q = stack.pop()
            if q in seen or q not in dark:
                continue
            seen.add(q)
            x, y = q
            stack += [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)]
    return blobs


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
        return str(count_blobs(img, 0, 56) + count_blobs(img, 56, 112))
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
    if fam == "majority":
        counts = Counter(c for _, (c, _) in cells)
        top = counts.most_common(1)[0][0]
        return next(letter for letter, c in options(q).items() if c == top)
    raise AssertionError(f"no independent check for family {fam}")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_answer_rederived_from_pixels(family):
    from specs_vl.world.dataset import example_from_task
    import random

    for i in range(40):
        task = FAMILIES[family](random.Random(f"check:{family}:{i}"))
        ex = example_from_task(task, "format", "train", str(i))
        assert rederive(ex) == ex["answer"], (family, ex["question"], task.key)


def test_deterministic_from_seed_split_index():
    cfg = WorldConfig()
    for split in ("train", "id_test", "ood_test"):
        a, b = make_example(cfg, split, 7), make_example(cfg, split, 7)
        assert png(a["image"]) == png(b["image"])
        assert {k: v for k, v in a.items() if k != "image"} == {k: v for k, v in b.items() if k != "image"}
    other = make_example(WorldConfig(seed=1), "train", 7)
    assert (other["question"], png(other["image"])) != (make_example(cfg, "train", 7)["question"], png(make_example(cfg, "train", 7)["image"]))


def test_splits_disjoint_and_composed_as_specified():
    cfg = WorldConfig(train_size=600, id_test_size=150, ood_test_size=150)
    train, id_test, ood = (build_split(cfg, s) for s in ("train", "id_test", "ood_test"))
    train_imgs = {png(e["image"]) for e in train}
    for test in (id_test, ood):
        assert not train_imgs & {png(e["image"]) for e in test}
        assert not {(e["question"], png(e["image"])) for e in train} & {(e["question"], png(e["image"])) for e in test}
    assert {e["family"] for e in train} == set(TRAIN_FAMILIES) == {e["family"] for e in id_test}
    assert {e["instruction_style"] for e in train} == {"format"} == {e["instruction_style"] for e in id_test}
    assert set(OOD_FAMILIES) <= {e["family"] for e in ood}
    assert not set(OOD_FAMILIES) & {e["family"] for e in train}
    assert set(OOD_STYLES) <= {e["instruction_style"] for e in ood}
    assert {e["answer_type"] for e in train + ood} == {"integer", "mc", "word", "yesno"}
    for e in train + id_test + ood:
        assert set(e) == {"id", "image", "question", "answer", "answer_type", "choices", "family", "instruction_style", "split"}
        if e["answer_type"] == "mc":
            assert len(e["choices"]) == 4 and e["answer"] in "ABCD"


def test_ten_thousand_examples_build_with_distinct_ids():
    """Speed is measured in benchmarks/, not asserted here (no test depends on the machine's load)."""
    exs = build_split(WorldConfig(train_size=10_000), "train")
    assert len(exs) == 10_000 and len({e["id"] for e in exs}) == 10_000


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(train_families=("count", "spiral")), "spiral"),
        (dict(ood_styles=("boxed", "haiku")), "haiku"),
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
