"""Tiny, randomly initialised VLMs of several families, with locally built processors.

Each `FAMILIES[name](out_dir)` writes a model and its processor with
`save_pretrained` (no download: the tokenizer is trained here, as the base
model's is) and returns `out_dir`; `specs_vl.models.load.load_vlm` loads it back.
They exist so the stages can be exercised on every architecture we support:
Qwen2-VL, Qwen2.5-VL, Qwen3-VL and Idefics3 (the SmolVLM architecture, a
non-Qwen VLM with a SigLIP tower, a pixel-shuffle connector and a Llama).
The weights are random; only the code paths matter. The tokenizers keep the
default right padding, as hub checkpoints do (Qwen2.5-VL-7B-Instruct's does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base_model import CHAT_TEMPLATE, BaseModelConfig, make_config, make_processor, train_tokenizer

# A small text to train the byte-level BPE on: byte-level BPE encodes any text,
# merges only shorten it, so the corpus needs no more than the flavour of ours.
_CORPUS = [
    "How many red circles are in the picture? Think step by step, then answer.",
    "Which shape is left of the blue square? A. circle B. square C. triangle D. star",
    "<think>I look at the picture. The answer is 3.</think> <answer>3</answer>",
    "Is there a green triangle in the top row? Answer yes or no. <answer>yes</answer>",
    "What colour is the tallest bar? Put the reasoning in think tags and the answer in answer tags.",
]
VOCAB_SIZE = 320
IMAGE_SIDE = 112  # the world's images

# Idefics3 / SmolVLM: the image placeholder, its frame, and the end-of-turn token.
IDEFICS3_TOKENS = [
    "<fake_token_around_image>",
    "<image>",
    "<global-img>",
    "<end_of_utterance>",
    *[f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)],
]
# SmolVLM's turn layout (`<|im_start|>User:<image>...<end_of_utterance>\nAssistant:`), without a system prompt.
IDEFICS3_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] | capitalize + ':' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for c in message['content'] -%}"
    "{%- if c['type'] == 'image' or 'image' in c -%}{{- '<image>' -}}"
    "{%- elif c['type'] == 'text' -%}{{- c['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<end_of_utterance>\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>Assistant:' -}}{%- endif -%}"
)

# initializer_range 0.2, not 0.02: the random model's greedy output then depends on its input, so the
# tests' batched-equals-unbatched check compares different strings rather than one repeated token.
TEXT = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    initializer_range=0.2,
    num_key_value_heads=2,
    max_position_embeddings=1024,
)
VISION_HIDDEN = 32
VISION_HEADS = 2


def _tokenizer(extra_special: tuple[str, ...] | list[str] = (), eos: str | None = None):

    tok = train_tokenizer(_CORPUS, VOCAB_SIZE)
    if extra_special:
        tok.add_special_tokens({"additional_special_tokens": list(extra_special)})
    if eos:
        tok.eos_token = eos
    return tok


def _mrope(head_dim: int) -> list[int]:
    """M-RoPE's (t, h, w) split of head_dim/2 frequencies, as base_model.make_config."""
    half = head_dim // 2
    return [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]


def _save(out_dir: Path, model: Any, processor: Any, tok: Any) -> Path:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from transformers import GenerationConfig

    ids = tok.convert_tokens_to_ids
    model.generation_config = GenerationConfig(
        eos_token_id=ids(tok.eos_token), pad_token_id=tok.pad_token_id, bos_token_id=tok.pad_token_id
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


def _qwen_text(tok, head_dim: int, **extra) -> dict[str, Any]:
    ids = tok.convert_tokens_to_ids
    return dict(
        TEXT,
        vocab_size=len(tok),
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": _mrope(head_dim), **extra},
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|im_end|>"),
        pad_token_id=ids("<|endoftext|>"),
    )


def _qwen_ids(tok) -> dict[str, int]:
    ids = tok.convert_tokens_to_ids
    return dict(
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )


def build_qwen2_vl(out_dir: Path) -> Path:
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    torch.manual_seed(0)
    tok = _tokenizer()
    head_dim = TEXT["hidden_size"] // TEXT["num_attention_heads"]
    config = Qwen2VLConfig(
        text_config=_qwen_text(tok, head_dim),
        vision_config=dict(
            depth=1,
            embed_dim=VISION_HIDDEN,
            hidden_size=TEXT["hidden_size"],
            mlp_ratio=2,
            num_heads=VISION_HEADS,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
        ),
        **_qwen_ids(tok),
        tie_word_embeddings=True,
    )
    sizes = dict(min_pixels=IMAGE_SIDE**2, max_pixels=IMAGE_SIDE**2, patch_size=14, temporal_patch_size=2, merge_size=2)
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(**sizes),
        video_processor=Qwen2VLVideoProcessor(**sizes),
        tokenizer=tok,
        chat_template=CHAT_TEMPLATE,
    )
    return _save(out_dir, Qwen2VLForConditionalGeneration(config), processor, tok)


def build_qwen2_5_vl(out_dir: Path) -> Path:
    """The same builders as the demo's base model (world/base_model.py), at the smallest size."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    tok = _tokenizer()
    cfg = BaseModelConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=TEXT["hidden_size"],
        intermediate_size=TEXT["intermediate_size"],
        num_layers=TEXT["num_hidden_layers"],
        num_heads=TEXT["num_attention_heads"],
        num_kv_heads=TEXT["num_key_value_heads"],
        vision_depth=1,
        vision_hidden_size=VISION_HIDDEN,
        vision_heads=VISION_HEADS,
    )
    config = make_config(tok, cfg)
    config.text_config.initializer_range = TEXT["initializer_range"]
    model = Qwen2_5_VLForConditionalGeneration(config)
    return _save(out_dir, model, make_processor(tok), tok)


def build_qwen3_vl(out_dir: Path) -> Path:
    """Qwen3-VL: patch 16 (so 128x128 inputs, 4x4 merged tokens), interleaved M-RoPE, DeepStack features."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen3_vl import Qwen3VLVideoProcessor

    torch.manual_seed(0)
    tok = _tokenizer()
    head_dim = TEXT["hidden_size"] // TEXT["num_attention_heads"]
    config = Qwen3VLConfig(
        text_config=dict(_qwen_text(tok, head_dim, mrope_interleaved=True), head_dim=head_dim),
        vision_config=dict(
            depth=1,
            hidden_size=VISION_HIDDEN,
            intermediate_size=2 * VISION_HIDDEN,
            num_heads=VISION_HEADS,
            patch_size=16,
            spatial_merge_size=2,
            temporal_patch_size=2,
            out_hidden_size=TEXT["hidden_size"],
            num_position_embeddings=64,
            deepstack_visual_indexes=[0],
        ),
        **_qwen_ids(tok),
        tie_word_embeddings=True,
    )
    side = 128  # the nearest multiple of patch * merge = 32 to the world's 112
    sizes = dict(patch_size=16, temporal_patch_size=2, merge_size=2)
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(
            min_pixels=side**2, max_pixels=side**2, image_mean=[0.5] * 3, image_std=[0.5] * 3, **sizes
        ),
        video_processor=Qwen3VLVideoProcessor(size={"shortest_edge": side**2, "longest_edge": side**2}, **sizes),
        tokenizer=tok,
        chat_template=CHAT_TEMPLATE,
    )
    return _save(out_dir, Qwen3VLForConditionalGeneration(config), processor, tok)


def build_idefics3(out_dir: Path) -> Path:
    """Idefics3 (SmolVLM's architecture): one 112x112 image, no splitting, 16 image tokens after pixel shuffle."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3 import Idefics3ImageProcessor

    torch.manual_seed(0)
    tok = _tokenizer(IDEFICS3_TOKENS, eos="<end_of_utterance>")
    ids = tok.convert_tokens_to_ids
    patch, scale = 14, 2
    image_seq_len = (IMAGE_SIDE // patch) ** 2 // scale**2
    config = Idefics3Config(
        text_config=dict(
            TEXT,
            model_type="llama",
            vocab_size=len(tok),
            bos_token_id=ids("<|endoftext|>"),
            eos_token_id=ids("<end_of_utterance>"),
            pad_token_id=tok.pad_token_id,
            tie_word_embeddings=True,
        ),
        vision_config=dict(
            hidden_size=VISION_HIDDEN,
            intermediate_size=2 * VISION_HIDDEN,
            num_hidden_layers=1,
            num_attention_heads=VISION_HEADS,
            image_size=IMAGE_SIDE,
            patch_size=patch,
        ),
        image_token_id=ids("<image>"),
        scale_factor=scale,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": IMAGE_SIDE},
        max_image_size={"longest_edge": IMAGE_SIDE},
        image_mean=[0.5] * 3,
        image_std=[0.5] * 3,
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tok,
        image_seq_len=image_seq_len,
        chat_template=IDEFICS3_CHAT_TEMPLATE,
    )
    return _save(out_dir, Idefics3ForConditionalGeneration(config), processor, tok)


FAMILIES: dict[str, Callable[[Path], Path]] = {
    "qwen2-vl": build_qwen2_vl,
    "qwen2.5-vl": build_qwen2_5_vl,
    "qwen3-vl": build_qwen3_vl,
    "idefics3": build_idefics3,
}
