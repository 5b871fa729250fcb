"""DPO with the reference log-probs computed once, before training, for image-text pairs.

TRL 1.x refuses `precompute_ref_log_probs=True` for vision datasets (it
processes images on the fly). The reference is fixed in SPECS (the base
model), so one pass over the pairs is enough: its log-probs become two
dataset columns, the collator carries them into each batch, TRL's loss reads
them from there (its precomputed path), and the reference model is dropped,
which frees its memory for the rest of the run. The pass uses TRL's own
`compute_ref_log_probs` on TRL's own collated batches, so the numbers are the
ones the live reference would give.
"""

from __future__ import annotations

from typing import Any

import torch
from trl import DPOTrainer

from specs_vl.util.progress import bar


class _WithRefLogps:
    """Wraps a collator: the batch also carries the rows' precomputed reference log-probs."""

    def __init__(self, inner: Any):
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.inner(examples)
        out["ref_chosen_logps"] = torch.tensor([e["ref_chosen_logps"] for e in examples])
        out["ref_rejected_logps"] = torch.tensor([e["ref_rejected_logps"] for e in examples])
        return out


class PrecomputedRefDPOTrainer(DPOTrainer):
    """TRL's DPOTrainer; with `args.precompute_ref_log_probs`, the reference pass runs once up front."""

    def __init__(self, *args: Any, **kwargs: Any):
        targs = kwargs["args"]
        precompute = targs.precompute_ref_log_probs
        targs.precompute_ref_log_probs = False  # TRL's own check would refuse a vision dataset
        super().__init__(*args, **kwargs)
        targs.precompute_ref_log_probs = precompute
        if precompute:
            self.train_dataset = self._attach_ref_logps(self.train_dataset, targs.per_device_train_batch_size)
            self.data_collator = _WithRefLogps(self.data_collator)
            self.precompute_ref_logps = True  # TRL's loss now reads the columns
            self.ref_model = None

    @torch.no_grad()
    def _attach_ref_logps(self, dataset: Any, batch_size: int) -> Any:
        # deferred: heavy import, kept off the start-up path of the CLI and of config validation
        from torch.utils.data import DataLoader

        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=self.data_collator)
        ref = self.ref_model if self.ref_model is not None else self.model  # peft: adapters off inside
        chosen, rejected = [], []
        with bar("coldstart: reference log-probs", len(dataset)) as b:
            for batch in loader:
                c, r = self.compute_ref_log_probs(ref, self._prepare_inputs(batch))
                chosen += c.float().cpu().tolist()
                rejected += r.float().cpu().tolist()
                b.advance(len(c))
        return dataset.add_column("ref_chosen_logps", chosen).add_column("ref_rejected_logps", rejected)
