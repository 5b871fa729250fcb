"""Export RL prompts as parquet in verl's data schema, so GRPO can run on verl at cluster scale.

One row per prompt, as verl's `examples/data_preprocess/geo3k.py` writes them:
`data_source`, `prompt` (chat messages whose string content holds one
`<image>` per image; verl's RLHFDataset splits on it), `images` (encoded
image bytes), `ability`, `reward_model` ({"style": "rule", "ground_truth"}),
`extra_info` (index, id, question, answer_type, choices, ...; verl passes it
to the reward, and `specs_vl.scoring.rewards.compute_score` reads answer_type and
choices from it).

Sources: examples in our schema (a `datasets.save_to_disk` directory, or the
embedded world's train split) or the preference pairs `specs distill` writes
(prompt, images and gold answer, one row per unique id). Every row is checked
before anything is written; the parquet appears in one rename or not at all.
With the run's `images.max_pixels`/`min_pixels` set, images outside the bound are resized to
the size our processors pick (`bounded`), so verl sees the image tokens TRL sees.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from specs_vl.data.pairs import load_pairs
from specs_vl.data.schema import fill_defaults, prompt_text
from specs_vl.models.loading import DEFAULT_LOADING, Loading, fitted_size, resized
from specs_vl.util.atomic import atomic_path
from specs_vl.util.errors import ConfigError, DataError
from specs_vl.util.outputs import check_output
from specs_vl.world import SPLITS, WorldConfig, build_split

IMAGE_TOKEN = "<image>"
DATA_SOURCE = "specs_vl"
ABILITY = "visual_reasoning"


def verl_features() -> Any:
    """The parquet schema (explicit, so empty `choices` lists keep a string type)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Features, Image, List, Value

    return Features(
        {
            "data_source": Value("string"),
            "prompt": List({"role": Value("string"), "content": Value("string")}),
            "images": List(Image()),
            "ability": Value("string"),
            "reward_model": {"style": Value("string"), "ground_truth": Value("string")},
            "extra_info": {
                "split": Value("string"),
                "index": Value("int64"),
                "id": Value("string"),
                "question": Value("string"),
                "answer": Value("string"),
                "answer_type": Value("string"),
                "choices": List(Value("string")),
                "family": Value("string"),
                "instruction_style": Value("string"),
            },
        }
    )


def verl_row(
    index: int, messages: list[dict[str, str]], images: list[Any], ex: dict[str, Any], data_source: str = DATA_SOURCE
) -> dict[str, Any]:
    """One verl row; `ex` carries id, question, answer and the optional example fields."""
    answer = str(ex["answer"])
    return {
        "data_source": data_source,
        "prompt": messages,
        "images": images,
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": answer},
        "extra_info": {
            "split": str(ex.get("split") or "train"),
            "index": index,
            "id": str(ex.get("id") or index),
            "question": str(ex.get("question") or ""),
            "answer": answer,
            "answer_type": str(ex.get("answer_type") or "auto"),
            "choices": [str(c) for c in (ex.get("choices") or [])],
            "family": str(ex.get("family") or ""),
            "instruction_style": str(ex.get("instruction_style") or ""),
        },
    }


# --- examples in our schema ---


def _image_value(img: Any, source: str, row: int) -> Any:
    """A PIL image as is, or raw {bytes, path} storage checked to decode (bytes are kept, not re-encoded)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from PIL import Image

    if isinstance(img, Image.Image):
        return img
    if isinstance(img, dict):
        data = img.get("bytes")
        if data is None and img.get("path") and Path(img["path"]).is_file():
            data = Path(img["path"]).read_bytes()
        if data:
            try:
                with Image.open(io.BytesIO(data)) as im:
                    im.verify()
            except Exception as e:  # noqa: BLE001 - PIL raises many kinds
                raise DataError(source, row, "image", f"image does not decode ({type(e).__name__}: {e})") from None
            return {"bytes": data, "path": None}
    raise DataError(source, row, "image", f"expected an image, got {type(img).__name__}")


def rows_from_examples(
    examples: Iterable[dict[str, Any]],
    source: str,
    data_source: str = DATA_SOURCE,
    n: int | None = None,
    split: str = "train",
) -> list[dict[str, Any]]:
    """verl rows from examples in our schema (the prompt is `prompt_text`, the image goes first)."""

    rows = []
    for i, raw in enumerate(examples):
        if n is not None and len(rows) >= n:
            break
        for f in ("image", "question", "answer"):
            v = raw.get(f)
            if v is None or (isinstance(v, str) and not v.strip()):
                raise DataError(source, i, f, "missing required field" if v is None else "empty required field")
        if not isinstance(raw["question"], str):
            raise DataError(source, i, "question", f"expected a string, got {type(raw['question']).__name__}")
        ex = fill_defaults(raw, i, split)
        text = prompt_text(ex)
        if IMAGE_TOKEN in text:
            raise DataError(source, i, "question", f"contains {IMAGE_TOKEN!r}, which verl reads as an image slot")
        image = _image_value(raw["image"], source, i)
        rows.append(verl_row(len(rows), [{"role": "user", "content": IMAGE_TOKEN + text}], [image], ex, data_source))
    return rows


def _load_dir(path: Path, split: str = "train") -> Any:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import DatasetDict, load_from_disk

    if not path.is_dir():
        raise DataError(str(path), None, None, "no such dataset directory")
    try:
        ds = load_from_disk(str(path))
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds
        raise DataError(str(path), None, None, f"not a datasets.save_to_disk directory ({e})") from None
    if isinstance(ds, DatasetDict):
        if split not in ds and (split != "train" or len(ds) != 1):
            raise DataError(str(path), None, None, f"a DatasetDict with splits {list(ds)} and no {split!r}")
        ds = ds[split] if split in ds else next(iter(ds.values()))
    if len(ds) == 0:
        raise DataError(str(path), None, None, "dataset is empty")
    return ds


def _raw_rows(ds: Any, batch_size: int = 256) -> Iterator[dict[str, Any]]:
    """Rows with images as their stored {bytes, path}: no decode/re-encode round trip."""
    for batch in ds.with_format("arrow").iter(batch_size=batch_size):
        yield from batch.to_pylist()


# --- preference pairs ---


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return ""
    return IMAGE_TOKEN if part.get("type") == "image" else str(part.get("text") or "")


def _messages_text(prompt: Any, source: str, row: int) -> list[dict[str, str]]:
    """Conversational messages with image parts -> verl messages with `<image>` in string content."""
    if not isinstance(prompt, list) or not prompt:
        raise DataError(source, row, "prompt", "expected a non-empty list of messages")
    out = []
    for m in prompt:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            text = "".join(_part_text(p) for p in content)
        elif isinstance(content, str):
            text = content
        else:
            raise DataError(source, row, "prompt", "a message without content")
        out.append({"role": str(m.get("role") or "user"), "content": text})
    return out


def rows_from_pairs(path: Path, data_source: str = DATA_SOURCE, n: int | None = None) -> list[dict[str, Any]]:
    """verl rows from preference pairs: the prompt, its images and gold answer, once per unique id."""

    source = str(path)
    ds = load_pairs(path)  # checks every row and decodes every image; DataError names row and field
    if "answer" not in ds.column_names:
        raise DataError(source, None, "answer", "no 'answer' column; RL rows need the gold answer")
    rows, seen = [], set()
    for i, r in enumerate(_raw_rows(ds)):
        if n is not None and len(rows) >= n:
            break
        answer = r.get("answer")
        if answer is None or not str(answer).strip():
            raise DataError(source, i, "answer", "missing or empty gold answer")
        messages = _messages_text(r["prompt"], source, i)
        images = [_image_value(img, source, i) for img in r.get("images") or []]
        if sum(m["content"].count(IMAGE_TOKEN) for m in messages) != len(images):
            raise DataError(source, i, "prompt", f"{IMAGE_TOKEN} slots do not match the {len(images)} image(s)")
        key = r.get("id") or hashlib.sha1(repr(messages).encode() + b"".join(im["bytes"] for im in images)).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        question = next((m["content"] for m in messages if m["role"] == "user"), "").replace(IMAGE_TOKEN, "")
        ex = {k: r.get(k) for k in ("id", "answer", "answer_type", "choices", "family", "instruction_style", "split")}
        ex.update(id=str(r.get("id") or key), question=question)
        rows.append(verl_row(len(rows), messages, images, ex, data_source))
    return rows


# --- writing ---


def image_bound(loading: Loading, patch: int = 14) -> tuple[int, int, int] | None:
    """(factor, min_pixels, max_pixels) of the run's image bound for a model with vision patch `patch`; None when
    the run sets none. verl's process_image passes a decoded image on with convert("RGB") alone
    (verl/utils/dataset/vision_utils.py), so without this the checkpoint's processor bound decides verl's
    image tokens (12,845,056 pixels for Qwen2.5-VL-7B), not `images.max_pixels` as on the TRL path."""
    if loading.min_pixels is None and loading.max_pixels is None:
        return None
    factor = 2 * patch  # Qwen-VL merges 2 x 2 patches into one token
    return factor, loading.min_pixels or 56 * 56, loading.max_pixels or 16384 * factor * factor


def bounded(img: Any, bound: tuple[int, int, int] | None) -> Any:
    """`img` (PIL or {bytes, path}) at the size the bounded processor picks (smart_resize, as our processors and
    qwen_vl_utils.fetch_image do); an image already at that size is kept as it is, its bytes not re-encoded."""
    if bound is None:
        return img
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from PIL import Image

    if isinstance(img, Image.Image):
        return resized(img, fitted_size(img.size, *bound))
    with Image.open(io.BytesIO(img["bytes"])) as im:
        size = fitted_size(im.size, *bound)
        if size == im.size:
            return img
        buf = io.BytesIO()
        resized(im, size).save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": None}


def write_parquet(rows: list[dict[str, Any]], out: Path, bound: tuple[int, int, int] | None = None) -> Path:
    """Encode with the verl schema (images at `bound`) and write `out` atomically (a temp file, then one rename)."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from datasets import Dataset

    if not rows:
        raise DataError(str(out), None, None, "nothing to export")
    rows = [{**r, "images": [bounded(im, bound) for im in r["images"]]} for r in rows]
    ds = Dataset.from_list(rows, features=verl_features())
    with atomic_path(Path(out)) as tmp:
        ds.to_parquet(str(tmp))
    return Path(out)


def export_verl(
    out: Path,
    rl_data: Path | None = None,
    pairs: Path | None = None,
    n: int | None = None,
    world: Any = None,
    data_source: str = DATA_SOURCE,
    overwrite: bool = False,
    split: str = "train",
    loading: Loading = DEFAULT_LOADING,
    patch: int = 14,
) -> dict[str, Any]:
    """Write `out` (.parquet) from pairs, a dataset directory, or a world split; returns a summary.

    `split` picks the world's split (or a DatasetDict's), so a validation file
    for verl's `data.val_files` comes from held-out prompts. `loading`'s image
    bound (the run's `images` section) resizes images over it (`bounded`), for a
    model with vision patch `patch`.
    """
    out = Path(out)
    if rl_data is not None and pairs is not None:
        raise ConfigError("give --pairs or --rl-data, not both")
    if pairs is not None and split != "train":
        raise ConfigError(f"--split {split}: pairs are training prompts; a val split comes from the world or --rl-data")
    if rl_data is None and pairs is None and split not in SPLITS:
        raise ConfigError(f"--split {split!r}: the world's splits are {', '.join(SPLITS)}")
    if out.suffix != ".parquet":
        raise ConfigError(f"{out}: the output must be a .parquet file (verl's data.train_files)")
    check_output(out, "file", "")  # a directory, a parent that is a file, read-only: before any work
    if out.exists() and not overwrite:
        raise ConfigError(f"{out}: exists; pass --force to replace it")
    if n is not None and n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    if pairs is not None:
        source, rows = str(pairs), rows_from_pairs(Path(pairs), data_source, n)
    elif rl_data is not None:
        source = f"{rl_data} ({split})"
        rows = rows_from_examples(_raw_rows(_load_dir(Path(rl_data), split)), source, data_source, n, split)
    else:
        world = world or WorldConfig()
        source = f"world:{split}"
        rows = rows_from_examples(build_split(world, split, n), source, data_source, split=split)
    write_parquet(rows, out, image_bound(loading, patch))
    return {"path": str(out), "rows": len(rows), "source": source}
