"""Drop preference pairs longer than `max_length` before the cold start trains on them.

TRL 1.16's DataCollatorForVisionPreference cuts every sequence to
`max_length` by keeping its start (`input_ids[:, :max_length]`), and the
DPOTrainer has no length pre-filter for vision data. A long pair would lose
its end, the `</think>` / `<answer>` part where chosen and rejected differ.
So each pair is measured with that same collator (no truncation: image
tokens, chat template and all) and dropped when either side is too long;
every method (dpo-sft, dpo, sft) then trains on the same pairs.
"""

from __future__ import annotations

from typing import Any

from specs_vl.util.progress import bar


def pair_lengths(pairs: Any, processor: Any) -> list[int]:
    """Tokens of the longer side (prompt with its image tokens + response) of every pair."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

    collate = DataCollatorForVisionPreference(processor=processor, max_length=None)
    lengths = []
    with bar("coldstart: pair lengths", len(pairs)) as b:
        for row in pairs:
            batch = collate([{k: row[k] for k in ("prompt", "chosen", "rejected", "images")}])
            lengths.append(int(batch["attention_mask"].sum(dim=1).max()))  # rows: chosen, rejected
            b.advance(1)
    return lengths


def drop_long_pairs(pairs: Any, processor: Any, max_length: int | None) -> tuple[Any, int]:
    """(the pairs that fit in `max_length`, how many were dropped); all of them when it is None."""
    if max_length is None:
        return pairs, 0
    keep = [i for i, n in enumerate(pair_lengths(pairs, processor)) if n <= max_length]
    return (pairs if len(keep) == len(pairs) else pairs.select(keep)), len(pairs) - len(keep)
