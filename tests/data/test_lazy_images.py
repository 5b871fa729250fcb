"""Training images stay as stored until used (issue 28, item 8): the training set is checked row by row but holds
no pixels; TRL's dataset decodes and bounds each image when a rollout reads it; pairs built from stored images
carry the files' bytes, so the pairs folder stands alone."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk
from PIL import Image

from specs_vl.data.images import decode_image, image_size
from specs_vl.models.load import load_processor
from specs_vl.models.loading import Loading, bounded_size
from specs_vl.recipe.distill import to_preference_dataset
from specs_vl.training.train_split import load_examples, rl_dataset
from specs_vl.util.errors import DataError


def _write_rows(root, sizes):
    rows = []
    for i, size in enumerate(sizes):
        Image.new("RGB", size, (40 * i, 90, 200)).save(root / f"img{i}.png")
        rows.append({"image": f"img{i}.png", "question": f"q{i}?", "answer": str(i)})
    path = root / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_training_set_is_checked_but_holds_no_pixels(tmp_path):
    path = _write_rows(tmp_path, [(64, 48), (30, 90)])
    examples = load_examples(str(path), None)
    assert [e["image"] for e in examples] == [
        {"bytes": None, "path": str((tmp_path / f"img{i}.png").resolve())} for i in range(2)
    ]
    assert [image_size(e["image"]) for e in examples] == [(64, 48), (30, 90)]  # read from the header
    assert decode_image(examples[1]["image"]).mode == "RGB"
    (tmp_path / "img1.png").write_bytes((tmp_path / "img1.png").read_bytes()[:60])  # truncated: does not decode
    with pytest.raises(DataError) as e:
        load_examples(str(path), None)
    assert (e.value.row, e.value.field) == (1, "image") and "train.jsonl" in str(e.value)


def test_trl_reads_each_image_decoded_and_bounded(tmp_path, tiny_base_dir):
    processor = load_processor(tiny_base_dir, Loading(min_pixels=3136, max_pixels=50_176))
    path = _write_rows(tmp_path, [(640, 480), (56, 56)])
    examples = load_examples(str(path), None)
    ds = rl_dataset(examples, processor)
    assert ds.features["image"].__class__.__name__ == "Image"  # stored under datasets' Image feature
    for i, size in enumerate([(640, 480), (56, 56)]):
        image = ds[i]["image"]
        assert image.mode == "RGB" and image.size == bounded_size(size, processor)
    assert ds[0]["image"].size != (640, 480)  # the large one was resized, as TRL's vLLM would not do itself
    assert ds[1]["answer"] == "1" and ds[1]["prompt"][0]["content"][0]["type"] == "image"


def test_pairs_from_stored_images_carry_the_files_bytes(tmp_path, tiny_world):
    from conftest import make_pairs_rows

    path = _write_rows(tmp_path, [(64, 48)])
    (example,) = load_examples(str(path), None)
    row = {**make_pairs_rows(tiny_world, 1)[0], "example": {**example, "id": "x-0", "family": "f"}}
    to_preference_dataset([row]).save_to_disk(str(tmp_path / "pairs"))
    (tmp_path / "img0.png").unlink()  # the pairs folder must not point at the original file
    (image,) = load_from_disk(str(tmp_path / "pairs"))[0]["images"]
    assert image.size == (64, 48) and image.mode == "RGB"
