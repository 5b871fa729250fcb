"""`load_pairs`: every bad pairs input stops with a DataError naming the file, the row and the field."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from specs_vl.data.pairs import load_pairs
from specs_vl.util.errors import DataError

CHOSEN = "<think>Two and two make four.</think> <answer>4</answer>"
REJECTED = "Two and two make four. Answer: 4"


def png(path: Path, size: tuple[int, int] = (8, 6), mode: str = "RGB", color: int | tuple = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, "PNG")
    return path


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A 1x1 PNG whose IHDR says width x height (CRC fixed): a decompression bomb that is never allocated."""
    png(path, (1, 1))
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def row(i: int = 0, **kw) -> dict:
    r = {
        "id": f"q{i}",
        "prompt": "<image>\nWhat is 2 + 2?",
        "chosen": CHOSEN,
        "rejected": REJECTED,
        "images": ["img/a.png"],
        "answer": "4",
        "family": "sum",
        "corruption": 5,
    }
    r.update(kw)
    return {k: v for k, v in r.items() if v is not ...}  # `...` drops a field


def write_jsonl(tmp_path: Path, rows: list[dict], name: str = "pairs.jsonl") -> Path:
    png(tmp_path / "img" / "a.png")
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def bad(tmp_path: Path, bad_row: dict, at: int = 1, name: str = "pairs.jsonl") -> Path:
    """A file with good rows around one bad row at index `at`."""
    rows = [row(i) for i in range(3)]
    rows[at] = {**bad_row, "id": f"q{at}"}
    return write_jsonl(tmp_path, rows, name)


def expect(path: Path, row_no: int | None, field: str | None, problem: str, **kw) -> str:
    with pytest.raises(DataError) as e:
        load_pairs(path, **kw)
    msg = str(e.value)
    assert path.name in msg, msg
    if row_no is not None:
        assert f"row {row_no}" in msg and e.value.row == row_no, msg
    if field is not None:
        assert f"field '{field}'" in msg, msg
    assert problem in msg, msg
    return msg


# --- good inputs ---


def test_good_jsonl_with_relative_images_becomes_trl_conversational(tmp_path):
    png(tmp_path / "img" / "b.png", mode="RGBA", color=(1, 2, 3, 4))
    conversational = row(
        1,
        prompt=[{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Sum?"}]}],
        chosen=[{"role": "assistant", "content": CHOSEN}],
        rejected=[{"role": "assistant", "content": REJECTED}],
        images=["img/b.png"],
    )
    two = row(
        2, prompt="Left <image> right <image> which is bigger?", images=["img/a.png", str(tmp_path / "img/b.png")]
    )
    single = {k: v for k, v in row(3).items() if k != "images"} | {"image": "img/a.png"}
    path = write_jsonl(tmp_path, [row(0), conversational, two, single])

    ds = load_pairs(path)

    assert ds.column_names == ["prompt", "chosen", "rejected", "images", "id", "answer", "family", "corruption"]
    assert len(ds) == 4 and ds["id"] == ["q0", "q1", "q2", "q3"]
    r0 = ds[0]
    assert r0["prompt"] == [
        {"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "What is 2 + 2?"}]}
    ]
    assert r0["chosen"] == [{"role": "assistant", "content": CHOSEN}]
    assert r0["rejected"] == [{"role": "assistant", "content": REJECTED}]
    assert ds[1]["prompt"] == [
        {"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "Sum?"}]}
    ]
    assert [p["type"] for p in ds[2]["prompt"][0]["content"]] == ["text", "image", "text", "image", "text"]
    for r in ds:
        n_slots = sum(p["type"] == "image" for p in r["prompt"][0]["content"])
        assert n_slots == len(r["images"]) >= 1
        assert all(isinstance(im, Image.Image) and im.mode == "RGB" for im in r["images"])
    assert ds[1]["images"][0].size == (8, 6) and ds[1]["images"][0].getpixel((0, 0)) == (1, 2, 3)


def test_good_json_list_and_parquet(tmp_path):
    import pandas as pd

    rows = [row(0), row(1, prompt="<image> Sum?")]
    png(tmp_path / "img" / "a.png")
    (tmp_path / "p.json").write_text(json.dumps(rows))
    pd.DataFrame(rows).to_parquet(tmp_path / "p.parquet")
    for name in ("p.json", "p.parquet"):
        ds = load_pairs(tmp_path / name)
        assert len(ds) == 2 and ds[1]["prompt"][0]["content"][1]["text"] == "Sum?"
        assert ds[0]["images"][0].mode == "RGB"


def test_save_to_disk_dir_round_trips(tiny_pairs_dir, tmp_path):
    from datasets import load_from_disk

    raw = load_from_disk(str(tiny_pairs_dir))
    ds = load_pairs(tiny_pairs_dir)
    assert len(ds) == len(raw)
    assert set(raw.column_names) <= set(ds.column_names)
    for col in ("prompt", "chosen", "rejected", "id", "answer", "family", "corruption"):
        assert ds[col] == raw[col], col
    assert ds[0]["images"][0].tobytes() == raw[0]["images"][0].convert("RGB").tobytes()
    # what load_pairs returns can be saved and read again unchanged
    ds.save_to_disk(str(tmp_path / "again"))
    again = load_pairs(tmp_path / "again")
    assert again["prompt"] == ds["prompt"] and again["id"] == ds["id"]


def test_image_token_check_off_puts_images_first(tmp_path):
    path = write_jsonl(tmp_path, [row(0, prompt="What is 2 + 2?")])
    ds = load_pairs(path, image_token_check=False)
    assert [p["type"] for p in ds[0]["prompt"][0]["content"]] == ["image", "text"]


# --- bad rows ---


def test_missing_chosen(tmp_path):
    expect(bad(tmp_path, row(chosen=...)), 1, "chosen", "missing required field")


@pytest.mark.parametrize("field", ["rejected", "chosen", "prompt"])
def test_empty_or_whitespace_text(tmp_path, field):
    expect(bad(tmp_path, row(**{field: " \n\t"}), at=2), 2, field, "empty required field")


def test_empty_assistant_message(tmp_path):
    expect(bad(tmp_path, row(rejected=[{"role": "assistant", "content": ""}])), 1, "rejected", "empty required field")


def test_chosen_equals_rejected(tmp_path):
    expect(bad(tmp_path, row(rejected=CHOSEN + " ")), 1, "rejected", "same text as 'chosen'")


def test_image_path_does_not_exist(tmp_path):
    msg = expect(bad(tmp_path, row(images=["img/nope.png"])), 1, "images[0]", "image file not found")
    assert "nope.png" in msg


def test_image_file_is_not_an_image(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "junk.png").write_bytes(b"this is not a PNG file, just some text" * 10)
    expect(bad(tmp_path, row(images=["img/junk.png"])), 1, "images[0]", "cannot read image")


def test_truncated_image_fails_to_decode(tmp_path):
    (tmp_path / "img").mkdir()
    Image.effect_noise((64, 64), 50).save(tmp_path / "img" / "noise.png")
    data = (tmp_path / "img" / "noise.png").read_bytes()
    (tmp_path / "img" / "cut.png").write_bytes(data[: len(data) // 2])
    expect(bad(tmp_path, row(images=["img/cut.png"])), 1, "images[0]", "cannot decode image")


def test_zero_byte_image(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "empty.png").write_bytes(b"")
    expect(bad(tmp_path, row(images=["img/empty.png"])), 1, "images[0]", "image file is empty (0 bytes)")


def test_decompression_bomb_is_refused_without_decoding(tmp_path, monkeypatch):
    from PIL import ImageFile

    png_claiming(tmp_path / "img" / "bomb.png", 40000, 40000)  # 1.6 G pixels, 4.8 GB as RGB
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or real_load(self))
    expect(bad(tmp_path, row(images=["img/bomb.png"])), 1, "images[0]", "pixel limit")
    assert (40000, 40000) not in decoded  # refused from the header: no pixel was decoded


def test_image_over_our_pixel_limit_but_under_pils(tmp_path):
    png_claiming(tmp_path / "img" / "big.png", 5000, 5000)  # 25 M pixels: PIL would decode it
    expect(bad(tmp_path, row(images=["img/big.png"])), 1, "images[0]", "over the 16,000,000 pixel limit")
    png_claiming(tmp_path / "img" / "big.png", 300, 200)
    expect(bad(tmp_path, row(images=["img/big.png"])), 1, "images[0]", "over the 50,000 pixel limit", max_pixels=50_000)


def test_image_without_placeholder(tmp_path):
    expect(bad(tmp_path, row(prompt="What is 2 + 2?")), 1, "prompt", "0 image placeholder(s) for 1 image(s)")


def test_conversational_prompt_without_image_part(tmp_path):
    prompt = [{"role": "user", "content": [{"type": "text", "text": "What is 2 + 2?"}]}]
    expect(bad(tmp_path, row(prompt=prompt)), 1, "prompt", "0 image placeholder(s) for 1 image(s)")


def test_placeholders_without_images(tmp_path):
    expect(
        bad(tmp_path, row(prompt="<image> and <image>: which?")), 1, "images", "1 image(s) for 2 image placeholder(s)"
    )
    expect(bad(tmp_path, row(images=...)), 1, "images", "no image")


def test_bad_image_in_a_save_to_disk_dir(tmp_path):
    from datasets import Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    good = png(tmp_path / "a.png").read_bytes()
    feats = Features(
        {
            "prompt": Value("string"),
            "chosen": Value("string"),
            "rejected": Value("string"),
            "images": List(ImageFeature()),
        }
    )
    Dataset.from_dict(
        {
            "prompt": ["<image> Sum?"] * 2,
            "chosen": [CHOSEN] * 2,
            "rejected": [REJECTED] * 2,
            "images": [[{"bytes": good, "path": None}], [{"bytes": b"\x89PNG\r\n\x1a\n broken", "path": None}]],
        },
        features=feats,
    ).save_to_disk(str(tmp_path / "pairs_dir"))
    expect(tmp_path / "pairs_dir", 1, "images[0]", "cannot read image")


# --- bad files ---


def test_empty_dataset(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n")
    expect(path, None, None, "the dataset is empty")


def test_missing_file_or_dir(tmp_path):
    expect(tmp_path / "nope.jsonl", None, None, "no such file or directory")
    expect(tmp_path / "nope_dir", None, None, "no such file or directory")


def test_unknown_extension(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("prompt,chosen,rejected\n")
    expect(path, None, None, "unsupported file type '.csv'")


def test_dir_that_is_not_a_dataset(tmp_path):
    (tmp_path / "d").mkdir()
    expect(tmp_path / "d", None, None, "not a datasets.save_to_disk directory")


def test_invalid_json_line(tmp_path):
    path = write_jsonl(tmp_path, [row(0)])
    path.write_text(path.read_text() + '{"prompt": "<image> x", \n')
    expect(path, 1, None, "line 2 is not valid JSON")
