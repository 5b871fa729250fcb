"""Evaluation suites as data: where the examples come from and how a response is scored.

A suite yields examples in the example schema. Scoring returns the extracted
answer, whether it is correct (ignoring format), whether the response
followed the instruction style the example asked for, and strict success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specs_vl.data.examples import load_examples_from
from specs_vl.evaluation.benchmarks import load_benchmark, score_example
from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.styles import strict_answer
from specs_vl.util.errors import ConfigError
from specs_vl.world import WorldConfig, build_split


@dataclass(frozen=True)
class Score:
    extracted: str | None
    correct: bool  # the final answer is right, whatever the format
    followed: bool  # the requested output style was followed
    strict: bool  # followed, and the answer *as that style defines it* is right


def score_world(response: str, ex: dict[str, Any]) -> Score:
    kind, choices = ex.get("answer_type", "auto"), ex.get("choices") or None
    extracted = extract_answer(response)
    correct = is_correct(extracted, ex["answer"], kind, choices)
    style_answer = strict_answer(ex.get("instruction_style") or "none", response)
    followed = style_answer is not None
    strict = followed and is_correct(style_answer, ex["answer"], kind, choices)
    # "three" under the number-as-a-word requirement is right although extract_answer reads a word
    return Score(extracted, correct or strict, followed, strict)


def _benchmark_scorer(name: str) -> Callable[[str, dict[str, Any]], Score]:
    def score(response: str, ex: dict[str, Any]) -> Score:
        extracted, correct = score_example(name, response, ex)
        return Score(extracted, bool(correct), True, bool(correct))

    return score


@dataclass(frozen=True)
class Suite:
    name: str
    load: Callable[..., list[dict[str, Any]]]
    score: Callable[[str, dict[str, Any]], Score]


def _world_loader(split: str) -> Callable[..., list[dict[str, Any]]]:
    def load(n: int | None = None, world=None, **_: Any) -> list[dict[str, Any]]:

        world = world or WorldConfig()
        return build_split(world, split, n if n is not None else world.size(split))

    return load


def _dev_ood_loader(n: int | None = None, world=None, **_: Any) -> list[dict[str, Any]]:
    """The three OOD sets interleaved, from index 0: the part before `world.test_start`, which no verdict
    reads, so a design step (coldstart.select: gf) can read OOD data too."""
    world = world or WorldConfig()
    n = n if n is not None else world.test_start
    if n > world.test_start:
        raise ConfigError(
            f"world-dev-ood reads OOD indices [0, world.test_start={world.test_start}), below the verdicts' "
            f"range; {n} prompts do not fit: lower the count or raise world.test_start"
        )
    return build_split(world, "ood_test", n, start=0)


def _benchmark_loader(name: str) -> Callable[..., list[dict[str, Any]]]:
    def load(n: int | None = None, path: str | None = None, split: str | None = None, **_: Any):
        return load_benchmark(name, path, split, n)

    return load


# World suites: name -> split. "world-ood" interleaves the three OOD sets (Psi_OOD is their equal-weight
# mean); "world-retention" (full style switches) is reported on its own and is not part of GF.
WORLD_SUITES: dict[str, str] = {
    "world-dev": "dev",
    "world-id": "id_test",
    "world-ood-domain": "ood_domain",
    "world-ood-surface": "ood_surface",
    "world-ood-requirement": "ood_requirement",
    "world-retention": "retention",
    "world-ood": "ood_test",
}
OOD_SUITES: tuple[str, ...] = ("world-ood-domain", "world-ood-surface", "world-ood-requirement")

SUITES: dict[str, Suite] = {
    **{name: Suite(name, _world_loader(split), score_world) for name, split in WORLD_SUITES.items()},
    "world-dev-ood": Suite("world-dev-ood", _dev_ood_loader, score_world),
    **{
        b: Suite(b, _benchmark_loader(b), _benchmark_scorer(b))
        for b in ("mathvista", "mathverse", "mathvision", "mmmu")
    },
}


# Held-out data of the user's own, in the example schema (docs/data.md): spec "data:PATH" (a .jsonl/.json/
# .parquet file with image paths relative to it, a save_to_disk folder, or a hub id). Scored like the world.
DATA_PREFIX = "data:"


def _data_loader(path: str) -> Callable[..., list[dict[str, Any]]]:
    def load(n: int | None = None, **_: Any) -> list[dict[str, Any]]:

        return load_examples_from(path, "test", n)

    return load


def data_suite_spec(path: str | Path) -> str:
    return f"{DATA_PREFIX}{path}"


def data_file(name: str) -> str | None:
    """PATH of a `data:PATH` suite (its rows are the examples, in order); None for any other suite."""
    return name[len(DATA_PREFIX) :] if name.startswith(DATA_PREFIX) and len(name) > len(DATA_PREFIX) else None


def suite_dirname(name: str) -> str:
    """A directory name for a suite's results: the name, or data-<file stem> for data:PATH."""
    if not name.startswith(DATA_PREFIX):
        return name
    stem = Path(name[len(DATA_PREFIX) :].rstrip("/")).stem or "data"
    return "data-" + "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)


def is_suite(name: str) -> bool:
    """A registered suite name, or a `data:PATH` spec (the path is checked when the suite loads)."""
    return name in SUITES or (name.startswith(DATA_PREFIX) and len(name) > len(DATA_PREFIX))


def get_suite(name: str) -> Suite:
    if name.startswith(DATA_PREFIX) and len(name) > len(DATA_PREFIX):
        return Suite(name, _data_loader(name[len(DATA_PREFIX) :]), score_world)
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}, or data:PATH for your own data")
    return SUITES[name]
