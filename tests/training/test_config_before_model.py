"""Every training stage builds its TRL config before it loads the model (issue 28, item 8).

Under accelerate with DeepSpeed, TrainingArguments.__post_init__ registers the HfDeepSpeedConfig
(transformers 5 training_args.py: DeepSpeedPlugin().set_deepspeed_weakref()); only then does
`from_pretrained` build ZeRO-3 partitions instead of a full CPU copy of the weights on every rank.
"""

from __future__ import annotations

import pytest

from specs_vl.recipe import coldstart, rl, zero
from specs_vl.recipe.coldstart_config import ColdstartConfig
from specs_vl.recipe.rl_config import RLConfig
from specs_vl.recipe.zero_config import ZeroConfig


class ModelLoaded(Exception):
    """Raised where the model would load, with what had been built by then."""


@pytest.mark.parametrize("stage", ["zero", "rl", "coldstart"])
def test_the_trl_config_is_built_before_the_model(
    stage, monkeypatch, tiny_base_dir, tiny_world, tiny_pairs_dir, tmp_path
):
    module = {"zero": zero, "rl": rl, "coldstart": coldstart}[stage]
    name = "trainer_args" if stage == "coldstart" else "grpo_args"
    built: list[str] = []
    real = getattr(module, name)

    def spy(*a, **k):
        args = real(*a, **k)
        built.append(type(args).__name__)
        return args

    monkeypatch.setattr(module, name, spy)

    def load_vlm(*a, **k):
        raise ModelLoaded(list(built))

    monkeypatch.setattr(module, "load_vlm", load_vlm)
    small = {"steps": 1, "prompts_per_step": 2, "num_generations": 2, "train_size": 4}
    with pytest.raises(ModelLoaded) as e:
        if stage == "zero":
            zero.run_zero(ZeroConfig(**small), tiny_base_dir, tmp_path / "zero", tiny_world)
        elif stage == "rl":
            rl.run_rl(RLConfig(**small), tiny_base_dir, tmp_path / "rl", tiny_world)
        else:
            cfg = ColdstartConfig(method="dpo-sft", batch_size=1, max_steps=1, curve_every=0)
            coldstart.run_coldstart(cfg, tiny_base_dir, tiny_pairs_dir, tmp_path / "coldstart", tiny_world)
    assert e.value.args[0] == (["DPOConfig"] if stage == "coldstart" else ["GRPOConfig"])
    assert not (tmp_path / stage).exists()  # nothing written before the model loads
