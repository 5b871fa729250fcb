"""M-RoPE positions: a Qwen2.5-VL forward must carry `mm_token_type_ids`, or it scores another distribution.

transformers 5.24 computes the 3-D image positions only when `mm_token_type_ids` is given
(Qwen2_5_VLModel.compute_3d_position_ids: `can_compute_mrope`); without it the image tokens get 1-D
positions. TRL 1.16's trainers pass it; our prompts (models/sampling.encode) must carry it, and the loss a
trainer computes on sampled tokens must be the distribution they were sampled from.
"""

from __future__ import annotations

import torch


def test_generate_and_a_forward_with_the_processors_inputs_score_the_same_tokens(tiny_base, tiny_world):
    from specs_vl.models.sampling import encode
    from specs_vl.world import build_split

    model, processor = tiny_base
    model.eval()
    inputs = encode(processor, build_split(tiny_world, "dev", 3))
    assert "mm_token_type_ids" in inputs
    torch.manual_seed(0)
    out = model.generate(
        **inputs,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        max_new_tokens=12,
        output_scores=True,
        return_dict_in_generate=True,
        pad_token_id=processor.tokenizer.pad_token_id,
    )
    n = inputs["input_ids"].shape[1]
    gen = out.sequences[:, n:]
    sampled = torch.log_softmax(torch.stack(out.scores, 1).float(), -1).gather(-1, gen[..., None])[..., 0]
    ids = torch.cat([inputs["input_ids"], gen], 1)
    mask = torch.cat([inputs["attention_mask"], torch.ones_like(gen)], 1)
    mm = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(gen)], 1)

    def forward(**extra):
        with torch.no_grad():
            logits = model(
                input_ids=ids,
                attention_mask=mask,
                pixel_values=inputs["pixel_values"],
                image_grid_thw=inputs["image_grid_thw"],
                **extra,
            ).logits
        return torch.log_softmax(logits[:, n - 1 : -1].float(), -1).gather(-1, gen[..., None])[..., 0]

    # the tokens after an EOS are padding the forward sees differently; compare up to the first EOS
    eos = processor.tokenizer.eos_token_id
    keep = (torch.cumsum((gen == eos).int(), 1) - (gen == eos).int()) == 0
    assert torch.allclose(forward(mm_token_type_ids=mm)[keep], sampled[keep], atol=1e-4)
    assert (forward() - sampled)[keep].abs().max() > 1e-3  # 1-D positions: another distribution
