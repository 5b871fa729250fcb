"""Benchmark adapters on tiny fixtures written in each benchmark's published schema."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import io  # noqa: E402
import json  # noqa: E402
import struct  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from specs_vl.evaluation.benchmarks import (  # noqa: E402
    BENCHMARKS,
    BenchmarkDataError,
    classify_answer,
    load_benchmark,
    parse_inline_choices,
    score_example,
)
from specs_vl.util.errors import DataError  # noqa: E402


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    """Keep `datasets`' arrow cache inside the test's tmp dir."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))


def png(size=(8, 6), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A valid PNG header claiming a huge size, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# --- fixtures in the published schemas ---


def mathvista_rows() -> list[dict]:
    meta = dict(
        category="math-targeted-vqa",
        context="geometry diagram",
        grade="high school",
        img_height=6,
        img_width=8,
        language="english",
        skills=["geometry reasoning"],
        source="GeoQA+",
        split="testmini",
    )
    return [
        dict(
            pid="1",
            question="What fraction of the shape is blue?",
            image="images/1.png",
            decoded_image={"bytes": png((8, 6)), "path": None},
            choices=["3/11", "8/11", "6/11", "3/5"],
            unit=None,
            precision=None,
            answer="8/11",
            question_type="multi_choice",
            answer_type="text",
            metadata={**meta, "task": "geometry problem solving"},
            query="Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, "
            "at the end.\nQuestion: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11\n"
            "(C) 6/11\n(D) 3/5",
        ),
        dict(
            pid="2",
            question="How many cubes are there?",
            image="images/2.png",
            decoded_image={"bytes": png((5, 4)), "path": None},
            choices=None,
            unit=None,
            precision=None,
            answer="7",
            question_type="free_form",
            answer_type="integer",
            metadata={**meta, "task": "visual question answering"},
            query="Hint: Please answer the question requiring an integer answer and provide the final value, "
            "e.g., 1, 2, 3, at the end.\nQuestion: How many cubes are there?",
        ),
        dict(
            pid="3",
            question="What is the length of AB?",
            image="images/3.png",
            decoded_image={"bytes": png((9, 9)), "path": None},
            choices=None,
            unit="cm",
            precision=1.0,
            answer="3.1",
            question_type="free_form",
            answer_type="float",
            metadata={**meta, "task": "geometry problem solving"},
            query="Hint: Please answer the question requiring a floating-point number with one decimal place "
            "and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.\nQuestion: What is the length "
            "of AB? (Unit: cm)",
        ),
    ]


def write_mathvista_parquet(path: Path, rows: list[dict]) -> Path:
    from datasets import Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    meta = Features(
        {
            "category": Value("string"),
            "context": Value("string"),
            "grade": Value("string"),
            "img_height": Value("int64"),
            "img_width": Value("int64"),
            "language": Value("string"),
            "skills": List(Value("string")),
            "source": Value("string"),
            "split": Value("string"),
            "task": Value("string"),
        }
    )
    features = Features(
        {
            "pid": Value("string"),
            "question": Value("string"),
            "image": Value("string"),
            "decoded_image": ImageFeature(),
            "choices": List(Value("string")),
            "unit": Value("string"),
            "precision": Value("float64"),
            "answer": Value("string"),
            "question_type": Value("string"),
            "answer_type": Value("string"),
            "metadata": meta,
            "query": Value("string"),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows, features=features).to_parquet(str(path))
    return path


@pytest.fixture
def mathvista_file(tmp_path) -> Path:
    return write_mathvista_parquet(tmp_path / "mathvista.parquet", mathvista_rows())


def write_images(folder: Path, names_sizes: dict[str, tuple[int, int]]) -> None:
    for name, size in names_sizes.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(png(size))


# --- MathVista ---


def test_mathvista_parquet_maps_to_examples(mathvista_file):
    exs = load_benchmark("mathvista", str(mathvista_file))
    assert [e["id"] for e in exs] == ["1", "2", "3"]
    mc, integer, flt = exs
    assert mc["question"].startswith("Hint: Please answer") and "(B) 8/11" in mc["question"]
    assert (mc["answer"], mc["answer_type"], mc["choices"]) == ("B", "mc", ["3/11", "8/11", "6/11", "3/5"])
    assert mc["family"] == "geometry problem solving"
    assert mc["instruction_style"] == "native" and mc["split"] == "testmini"
    assert isinstance(mc["image"], Image.Image) and mc["image"].size == (8, 6) and mc["image"].mode == "RGB"
    assert mc["meta"]["answer"] == "8/11" and mc["meta"]["question_type"] == "multi_choice"
    assert (integer["answer"], integer["answer_type"], integer["choices"]) == ("7", "integer", [])
    assert integer["image"].size == (5, 4)
    assert (flt["answer_type"], flt["meta"]["precision"], flt["meta"]["unit"]) == ("number", "1", "cm")
    assert all(isinstance(v, (str, type(None))) for e in exs for v in e["meta"].values())


def test_mathvista_scoring_uses_the_official_rules(mathvista_file):
    mc, integer, flt = load_benchmark("mathvista", str(mathvista_file))
    assert score_example("mathvista", "<think>...</think><answer>B</answer>", mc) == ("8/11", True)
    assert score_example("mathvista", "<answer>8/11</answer>", mc) == ("8/11", True)
    assert score_example("mathvista", "<answer>A</answer>", mc) == ("3/11", False)
    assert score_example("mathvista", "<answer>7</answer>", integer) == ("7", True)
    assert score_example("mathvista", "<answer>8</answer>", integer) == ("8", False)
    assert score_example("mathvista", "AB is \\boxed{3.14} cm", flt) == ("3.1", True)


def test_n_and_split_label(mathvista_file):
    exs = load_benchmark("mathvista", str(mathvista_file), split="test", n=2)
    assert [e["id"] for e in exs] == ["1", "2"]
    assert {e["split"] for e in exs} == {"test"}


def test_mathvista_official_json_layout_with_image_paths(tmp_path):
    rows = mathvista_rows()
    for r in rows:
        r.pop("decoded_image")
    write_images(tmp_path, {"images/1.png": (3, 2), "images/2.png": (4, 4), "images/3.png": (2, 5)})
    path = tmp_path / "testmini.json"
    path.write_text(json.dumps({r["pid"]: {k: v for k, v in r.items() if k != "pid"} for r in rows}))
    exs = load_benchmark("mathvista", str(path))
    assert [e["id"] for e in exs] == ["1", "2", "3"]
    assert [e["image"].size for e in exs] == [(3, 2), (4, 4), (2, 5)]
    assert exs[0]["answer"] == "B"


def test_mathvista_hub_snapshot_directory(tmp_path):
    snap = tmp_path / "MathVista"
    write_mathvista_parquet(snap / "data" / "testmini-00000-of-00001.parquet", mathvista_rows()[:2])
    exs = load_benchmark("mathvista", str(snap))
    assert [e["id"] for e in exs] == ["1", "2"]


# --- MathVerse ---


def mathverse_rows() -> list[dict]:
    q = "As shown in the figure, angle 1 = 50.0, then angle 2 is ()\nChoices:\nA:50°\nB:60°\nC:65°\nD:90°"
    meta = {"split": "testmini", "source": "GeoQA", "subject": "Plane Geometry", "subfield": "Angle"}
    return [
        dict(
            sample_index="1",
            problem_index="1",
            problem_version="Text Dominant",
            question=q,
            image="images/1.png",
            answer="C",
            question_type="multi-choice",
            metadata=meta,
            query_wo="Please directly answer the question and provide the correct option letter, e.g., A, B, "
            "C, D.\nQuestion: " + q,
            query_cot="Please first conduct reasoning, and then answer the question and provide the correct "
            "option letter, e.g., A, B, C, D, at the end.\nQuestion: " + q,
            question_for_eval=q,
        ),
        dict(
            sample_index="2",
            problem_index="2",
            problem_version="Vision Only",
            question="",
            image="images/2.png",
            answer="12",
            question_type="free-form",
            metadata={**meta, "subject": "Solid Geometry", "subfield": "Volume"},
            query_wo="According to the question shown in the image, please directly answer the question and "
            "provide the final value, e.g., 1, 2.5, 300.",
            query_cot="According to the question shown in the image, please first conduct reasoning, and then "
            "answer the question and provide the final value, e.g., 1, 2.5, 300, at the end.",
            question_for_eval="What is the volume?",
        ),
    ]


def test_mathverse_json_maps_and_scores(tmp_path):
    write_images(tmp_path, {"images/1.png": (6, 6), "images/2.png": (7, 3)})
    path = tmp_path / "testmini.json"
    path.write_text(json.dumps(mathverse_rows()))
    mc, free = load_benchmark("mathverse", str(path))
    assert mc["question"].startswith("Please first conduct reasoning") and "B:60°" in mc["question"]
    assert (mc["answer"], mc["answer_type"], mc["choices"]) == ("C", "mc", ["50°", "60°", "65°", "90°"])
    assert (mc["family"], mc["meta"]["problem_version"]) == ("Plane Geometry", "Text Dominant")
    assert (free["answer"], free["answer_type"], free["choices"]) == ("12", "integer", [])
    assert free["image"].size == (7, 3) and free["meta"]["question_for_eval"] == "What is the volume?"
    assert score_example("mathverse", "<think>x</think><answer>C</answer>", mc)[1] is True
    assert score_example("mathverse", "<think>x</think><answer>A</answer>", mc)[1] is False
    assert score_example("mathverse", "<answer>12</answer>", free)[1] is True
    assert score_example("mathverse", "<answer>13</answer>", free)[1] is False


def test_parse_inline_choices():
    assert parse_inline_choices("Q?\nChoices:\nA:1\nB. 2\n(C) 3") == ["1", "2", "3"]
    assert parse_inline_choices("no options here") == []


# --- MathVision ---


def test_mathvision_jsonl_maps_and_scores(tmp_path):
    write_images(tmp_path, {"images/1.png": (4, 3), "images/2.png": (3, 3), "images/3.png": (5, 5)})
    rows = [
        dict(
            id="1",
            question="Which figure is shaded?\n<image1>",
            options=["1", "2", "3", "4", "5"],
            image="images/1.png",
            answer="C",
            solution=None,
            level=2,
            subject="metric geometry - area",
        ),
        dict(
            id="2",
            question="Which net folds into the cube?\n<image1>",
            options=["A", "B", "C", "D", "E"],
            image="images/2.png",
            answer="E",
            solution=None,
            level=3,
            subject="solid geometry",
        ),
        dict(
            id="3",
            question="How many triangles are there?\n<image1>",
            options=[],
            image="images/3.png",
            answer="17",
            solution="Count them.",
            level=1,
            subject="counting",
        ),
    ]
    path = tmp_path / "mathvision.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    listed, in_image, free = load_benchmark("mathvision", str(path))
    assert listed["question"].startswith('Please solve the problem step by step and put your answer in one "\\boxed{}"')
    assert "(A) 1\n(B) 2\n(C) 3\n(D) 4\n(E) 5\n" in listed["question"]
    assert (listed["answer"], listed["answer_type"], listed["family"]) == ("C", "mc", "metric geometry - area")
    assert "(A) A" not in in_image["question"] and in_image["choices"] == ["A", "B", "C", "D", "E"]
    assert (free["answer_type"], free["choices"], free["meta"]["level"]) == ("integer", [], "1")
    assert listed["split"] == "test" and free["image"].size == (5, 5)
    assert score_example("mathvision", "so \\boxed{C}", listed)[1] is True
    assert score_example("mathvision", "so \\boxed{D}", listed)[1] is False
    assert score_example("mathvision", "\\boxed{17}", free)[1] is True


# --- MMMU ---


def mmmu_frame(image_1_bytes: list[bytes | None], options: list[str] | None = None):
    import pandas as pd

    ids = ["validation_Accounting_1", "validation_Art_Theory_2"]
    return pd.DataFrame(
        {
            "id": ids,
            "question": [
                "<image 1> Baxter Company has a relevant range. What is the cost per unit?",
                "What is the ratio shown in <image 1>?",
            ],
            "options": options or ["['$6', '$7', '$4', '$5']", "[]"],
            "explanation": ["", ""],
            **{
                "image_1": [None if b is None else {"bytes": b, "path": f"{i}.png"} for i, b in zip(ids, image_1_bytes)]
            },
            **{f"image_{k}": [None, None] for k in range(2, 8)},
            "img_type": ["['Tables']", "['Paintings']"],
            "answer": ["B", "0.25"],
            "topic_difficulty": ["Medium", "Easy"],
            "question_type": ["multiple-choice", "open"],
            "subfield": ["Managerial Accounting", "Art History"],
        }
    )


def test_mmmu_parquet_maps_and_scores(tmp_path):
    path = tmp_path / "validation-00000-of-00001.parquet"
    mmmu_frame([png((10, 4)), png((4, 10))]).to_parquet(path)
    mc, open_ = load_benchmark("mmmu", str(path))
    assert mc["question"].startswith("<image 1> Baxter Company")
    assert "(A) $6\n(B) $7\n(C) $4\n(D) $5\n" in mc["question"]
    assert mc["question"].endswith("Answer with the option's letter from the given choices directly.")
    assert (mc["answer"], mc["answer_type"], mc["choices"]) == ("B", "mc", ["$6", "$7", "$4", "$5"])
    assert (mc["family"], mc["split"], mc["meta"]["n_images"]) == ("Accounting", "validation", "1")
    assert mc["image"].size == (10, 4)
    assert open_["question"].endswith("Answer the question using a single word or phrase.")
    assert (open_["answer_type"], open_["choices"], open_["family"]) == ("number", [], "Art_Theory")
    assert score_example("mmmu", "<answer>B</answer>", mc)[1] is True
    assert score_example("mmmu", "<answer>D</answer>", mc)[1] is False
    assert score_example("mmmu", "<answer>0.25</answer>", open_)[1] is True


def test_mmmu_options_are_never_evaluated(tmp_path):
    path = tmp_path / "mmmu.parquet"
    mmmu_frame([png(), png()], options=["__import__('os').getcwd()", "[]"]).to_parquet(path)
    with pytest.raises(BenchmarkDataError, match=r"mmmu\.parquet: row 0: field 'options'"):
        load_benchmark("mmmu", str(path))


# --- errors ---


def test_missing_required_field_names_file_row_and_field(tmp_path):
    rows = mathvista_rows()
    rows[1]["answer"] = None
    path = write_mathvista_parquet(tmp_path / "mathvista.parquet", rows)
    with pytest.raises(BenchmarkDataError) as info:
        load_benchmark("mathvista", str(path))
    msg = str(info.value)
    assert "mathvista.parquet" in msg and "row 1" in msg and "'answer'" in msg and "missing" in msg
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)


def test_missing_field_in_a_jsonl_row(tmp_path):
    write_images(tmp_path, {"images/1.png": (4, 3)})
    good = dict(
        id="1", question="Q", options=[], image="images/1.png", answer="3", solution="", level=1, subject="counting"
    )
    bad = {k: v for k, v in good.items() if k != "question"} | {"id": "2"}
    path = tmp_path / "mathvision.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(BenchmarkDataError, match=r"mathvision\.jsonl: row 1: field 'question'"):
        load_benchmark("mathvision", str(path))


def test_missing_image_file_names_file_row_field_and_path(tmp_path):
    write_images(tmp_path, {"images/1.png": (6, 6)})  # images/2.png is missing
    path = tmp_path / "testmini.json"
    path.write_text(json.dumps(mathverse_rows()))
    with pytest.raises(BenchmarkDataError) as info:
        load_benchmark("mathverse", str(path))
    msg = str(info.value)
    assert "testmini.json: row 1: field 'image'" in msg and "images/2.png" in msg


@pytest.mark.parametrize(
    "content,problem",
    [
        (b"", "cannot read image"),
        (b"not an image at all", "cannot read image"),
        (png((64, 64))[:60], "cannot decode image"),
    ],
)
def test_empty_and_corrupt_image_files(tmp_path, content, problem):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "1.png").write_bytes(content)
    path = tmp_path / "testmini.json"
    path.write_text(json.dumps(mathverse_rows()[:1]))
    with pytest.raises(BenchmarkDataError, match=rf"testmini\.json: row 0: field 'image': {problem}"):
        load_benchmark("mathverse", str(path))


@pytest.mark.parametrize("side", [10_000, 20_000])  # over PIL's warning limit, and over its error limit
def test_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    rows = mathvista_rows()[:2]
    rows[1]["decoded_image"] = {"bytes": png_header(side, side), "path": None}
    path = write_mathvista_parquet(tmp_path / "mathvista.parquet", rows)
    with pytest.raises(BenchmarkDataError, match=r"mathvista\.parquet: row 1: field 'decoded_image': image.*pixel"):
        load_benchmark("mathvista", str(path))


def test_missing_image_in_a_row(tmp_path):
    path = tmp_path / "mmmu.parquet"
    mmmu_frame([png(), None]).to_parquet(path)
    with pytest.raises(BenchmarkDataError, match=r"mmmu\.parquet: row 1: field 'image_1': missing image"):
        load_benchmark("mmmu", str(path))


def test_unknown_benchmark_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        load_benchmark("mathvistaa")
    for name in BENCHMARKS:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="known: mathvista"):
        score_example("nope", "x", {})


def test_missing_local_path_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "testmini.parquet"
    with pytest.raises(FileNotFoundError, match="testmini.parquet"):
        load_benchmark("mathvista", str(missing))
    with pytest.raises(FileNotFoundError, match="data.jsonl"):
        load_benchmark("mmmu", "data.jsonl")


@pytest.mark.parametrize(
    "answer,kind",
    [
        ("7", "integer"),
        ("-2", "integer"),
        ("3.5", "number"),
        (".5", "number"),
        ("Yes", "yesno"),
        ("blue whale", "word"),
        ("2\\sqrt{3}", "expression"),
        ("[1, 2]", "expression"),
    ],
)
def test_classify_answer(answer, kind):
    assert classify_answer(answer) == kind


def test_registry_specs():
    assert {n: (s.hub_id, s.split) for n, s in BENCHMARKS.items()} == {
        "mathvista": ("AI4Math/MathVista", "testmini"),
        "mathverse": ("AI4Math/MathVerse", "testmini"),
        "mathvision": ("MathLLMs/MathVision", "test"),
        "mmmu": ("MMMU/MMMU", "validation"),
    }
    assert len(BENCHMARKS["mmmu"].hub_configs) == 30 and BENCHMARKS["mathverse"].hub_configs == ("testmini",)
