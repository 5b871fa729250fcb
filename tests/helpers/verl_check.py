"""Run inside verl's own virtualenv (tests/export/test_verl_env.py): compose our command with verl's Hydra config.

argv: the command file (`specs export verl --print-command` output) and an
exported parquet. Prints JSON: the composed value of every key we set, the
reward paths, and what verl's own custom-reward loader returns for a right
and a wrong answer to the parquet's first row.
"""

import json
import shlex
import sys
from pathlib import Path

import pyarrow.parquet as pq
import verl
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from verl.trainer.ppo.reward import get_custom_reward_fn

args = shlex.split(Path(sys.argv[1]).read_text().replace("\\\n", " "))
assert args[:3] == ["python3", "-m", "verl.trainer.main_ppo"], args[:3]
overrides = args[3:]
config_dir = Path(verl.__file__).parent / "trainer" / "config"
# verl.trainer.main_ppo: @hydra.main(config_path="config", config_name="ppo_trainer")
with initialize_config_dir(config_dir=str(config_dir), version_base=None):
    cfg = compose(config_name="ppo_trainer", overrides=overrides)  # an unknown key raises here
OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
values = {}
for o in overrides:
    key = o.split("=", 1)[0]
    v = OmegaConf.select(cfg, key, throw_on_missing=True)
    values[key] = OmegaConf.to_container(v) if OmegaConf.is_config(v) else v

fn = get_custom_reward_fn(cfg)  # verl's loader: reward.custom_reward_function.{path,name}
row = pq.read_table(sys.argv[2]).slice(0, 1).to_pylist()[0]
gold = row["reward_model"]["ground_truth"]
kw = dict(data_source=row["data_source"], ground_truth=gold, extra_info=row["extra_info"])
right = fn(solution_str=f"<think>I count them.</think> <answer>{gold}</answer>", **kw)
wrong = fn(solution_str="<think>I count them.</think> <answer>zzz-not-an-answer</answer>", **kw)
print(
    json.dumps(
        {
            "verl": verl.__version__,
            "values": values,
            "right": right,
            "wrong": wrong,
            "legacy_reward_path": OmegaConf.select(cfg, "custom_reward_function.path"),
            "reward_path": cfg.reward.custom_reward_function.path,
        }
    )
)
