"""Run inside lmms-eval's virtualenv (tests/evaluation/test_lmms_eval_env.py): its own CLI, recording what it
generates from.

argv: a file to write the record to (torch.save), then the arguments of `python -m lmms_eval`.
`python -m lmms_eval ARGS` dispatches to `lmms_eval.__main__.cli_evaluate`, which this calls with
the same ARGS; the only addition is a wrapper around `Qwen2_5_VLForConditionalGeneration.generate`
that keeps, per call, the tensors lmms-eval built (prompt token ids, pixel values, image grid), the
other keyword arguments (the decoding settings), the checkpoint's generation config that
`generate` takes every other field from, and the dtype the model runs in.
"""

import sys

import torch
from lmms_eval.__main__ import cli_evaluate
from transformers import Qwen2_5_VLForConditionalGeneration

record_path, sys.argv = sys.argv[1], ["lmms_eval", *sys.argv[2:]]
calls = []
_generate = Qwen2_5_VLForConditionalGeneration.generate


def generate(self, *args, **kwargs):
    tensors = {k: v.detach().cpu() for k, v in kwargs.items() if torch.is_tensor(v)}
    settings = {k: v for k, v in kwargs.items() if not torch.is_tensor(v)}
    gen_cfg = self.generation_config.to_dict()  # what generate fills the unset fields from
    calls.append(
        {"dtype": str(self.dtype), "class": type(self).__name__, "settings": settings, "gen_cfg": gen_cfg, **tensors}
    )
    return _generate(self, *args, **kwargs)


Qwen2_5_VLForConditionalGeneration.generate = generate
cli_evaluate()
torch.save(calls, record_path)
