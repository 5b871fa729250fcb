#!/usr/bin/env bash
# Bring your own data: the whole SPECS recipe on a 20-row JSONL + PNG dataset, then an evaluation.
# Extra arguments are config overrides for every stage, e.g.:  bash run.sh zero.steps=5 rl.steps=5
# tests/test_user_data.py runs these very lines (with a tiny model and fewer steps).
set -euo pipefail
cd "$(dirname "$0")"
python make_data.py mydata
specs config show -c mine.yaml "$@"
specs zero -c mine.yaml "$@"
specs distill -c mine.yaml "$@"
specs coldstart -c mine.yaml --method dpo-sft "$@"
specs rl -c mine.yaml --from dpo-sft "$@"
specs eval runs/mine/rl-dpo-sft/model --suite data --data mydata/heldout_id.jsonl --samples 4 --k 1,4
