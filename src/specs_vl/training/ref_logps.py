"""DPO with the reference log-probs computed once, before training, for image-text pairs.

TRL 1.16's DPOTrainer refuses `precompute_ref_log_probs=True` for vision
datasets, and with it off, `ref_model=None` makes it load a full second copy
of the weights (`create_model_from_path`) and prepare it with the accelerator.
The reference is fixed in SPECS (the base model, which is the policy before
its first step), so here:

- TRL's init runs with precompute off and its reference loader stubbed out,
  so no copy is ever built;
- TRL's own `_precompute_ref_logps` then runs with the policy as the
  reference: a loader sharded by `accelerator.prepare`, results gathered with
  `gather_for_metrics`, a DeepSpeed inference engine under ZeRO-3, cached to
  a file keyed on the dataset and a hash of the weights;
- rows held in memory (every `load_pairs` result) are first saved once under
  the run's output dir, so that cache file has one path on every rank;
- the collator carries the two columns into each batch and TRL's loss reads
  them there (its `precompute_ref_logps` path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import torch
import trl.trainer.dpo_trainer as dpo_module
from datasets import load_from_disk
from trl import DPOTrainer
from trl.trainer.utils import hash_module


class _WithRefLogps:
    """Wraps a collator: the batch also carries the rows' precomputed reference log-probs."""

    def __init__(self, inner: Any):
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.inner(examples)
        out["ref_chosen_logps"] = torch.tensor([e["ref_chosen_logps"] for e in examples])
        out["ref_rejected_logps"] = torch.tensor([e["ref_rejected_logps"] for e in examples])
        return out


def _on_shared_disk(dataset: Any, where: Path, accelerator: Any) -> Any:
    """The rows saved once by rank 0 and reopened by every rank, so that they have cache files on disk.

    TRL 1.16 `_precompute_ref_logps` broadcasts rank 0's fingerprint, then names its cache file with
    `dataset._get_cache_file_path(fingerprint)`. For a dataset with no cache files (in memory) datasets
    ignores the fingerprint and returns `cache-<random>.arrow` in a per-process temporary directory, so
    the file rank 0 writes is not the one the other ranks then open. With cache files it is
    `<their directory>/cache-<fingerprint>.arrow`: one path for all ranks (a shared output dir, as TRL
    assumes for its checkpoints).
    """
    if dataset.cache_files or accelerator.num_processes == 1:  # one process: its own random path is fine
        return dataset
    if accelerator.is_main_process:
        dataset.save_to_disk(str(where))
    accelerator.wait_for_everyone()
    return load_from_disk(str(where))


def _no_reference(*args: Any, **kwargs: Any) -> None:
    return None


class PrecomputedRefDPOTrainer(DPOTrainer):
    """TRL's DPOTrainer; with `args.precompute_ref_log_probs`, the reference pass runs once up front."""

    def __init__(self, *args: Any, **kwargs: Any):
        targs = kwargs["args"]
        precompute = targs.precompute_ref_log_probs
        if not precompute or kwargs.get("ref_model") is not None:
            super().__init__(*args, **kwargs)
            return
        targs.precompute_ref_log_probs = False  # TRL's own check would refuse a vision dataset
        # The policy comes in as a model instance, so TRL calls create_model_from_path only for the reference.
        with mock.patch.object(dpo_module, "create_model_from_path", _no_reference):
            super().__init__(*args, **kwargs)
        targs.precompute_ref_log_probs = True
        self.ref_model = None
        self._precompute_model_hash = hash_module(self.model)  # TRL keys its cache file on it
        batch = targs.precompute_ref_batch_size or targs.per_device_train_batch_size
        rows = _on_shared_disk(self.train_dataset, Path(targs.output_dir) / "ref-logps-rows", self.accelerator)
        self.train_dataset = self._precompute_ref_logps(rows, "train", batch)
        self._precompute_engine = None  # the ZeRO inference engine is not needed again
        self.data_collator = _WithRefLogps(self.data_collator)
        self.precompute_ref_logps = True  # TRL's loss now reads the columns
