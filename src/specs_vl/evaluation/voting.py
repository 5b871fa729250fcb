"""maj@k and best@k of one prompt's samples, beside pass@k (metrics.pass_at_k).

maj@k: the share of prompts whose majority answer over k samples is correct
(verl/EasyR1 report maj@N over all N samples). A sample votes for its
extracted answer in the form `scoring.answers.answer_key` gives it (after the
project's normalisation, so "3" and "3.0" are one answer); a sample with no
answer votes for "no answer", which is wrong. A vote is for (answer, verdict):
the rare string scored both ways (a style-dependent reading) counts as two.

Ties: the majority is every answer with the most votes, and the prompt counts
as correct only if *all* the tied answers are correct (a tie between a right
and a wrong answer is wrong; a tie between two right forms, "B" and the
option's text, is right). No order or seed enters.

With n > k samples the estimate is the mean of the majority vote over *all*
C(n, k) k-subsets of the n samples, computed exactly (a count with polynomial
products over answers, no enumeration). The samples are i.i.d. draws, so each
k-subset is a draw of k samples and the mean is an unbiased estimator of maj@k
(the same U-statistic argument as for the unbiased pass@k); with n = k it is the
plain majority vote over the k samples, and maj@1 = pass@1.

best@k: the best of k samples under a selector. We record no scalar score per
sample that does not already use the gold answer (no reward model, no verifier
score; the RBF measures branching, not quality), so the selector is the gold
verifier itself and best@k = pass@k, written under its own name so that tables
line up with papers that report best-of-N.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from math import comb

from specs_vl.evaluation.metrics import pass_at_k
from specs_vl.scoring.answers import answer_key

AT_K = re.compile(r"(pass|maj|best)@([1-9][0-9]*)")


def _poly_mul(a: list[int], b: list[int], cap: int) -> list[int]:
    out = [0] * min(len(a) + len(b) - 1, cap + 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b[: cap + 1 - i]):
                out[i + j] += x * y
    return out


def _subsets(counts: Sequence[tuple[int, int]], k: int) -> int:
    """The number of k-subsets taking at most `bound` samples of each answer, for (count, bound) pairs."""
    poly = [1]
    for c, bound in counts:
        poly = _poly_mul(poly, [comb(c, j) for j in range(min(c, bound) + 1)], k)
    return poly[k] if len(poly) > k else 0


def maj_at_k(votes: Sequence[tuple[Hashable, bool]], k: int) -> float:
    """maj@k of one prompt from its samples' (answer key, correct) votes, as the module docstring defines it.

    Counts, for each winning vote count t, the k-subsets where every wrong answer has fewer than t votes and
    every right answer at most t, less those where every answer has fewer than t (no right answer reaches t).
    """
    n = len(votes)
    if not 1 <= k <= n:
        raise ValueError(f"maj_at_k needs 1 <= k <= n, got n={n}, k={k}")
    groups = Counter((key, bool(ok)) for key, ok in votes)
    right = [c for (_, ok), c in groups.items() if ok]
    wrong = [c for (_, ok), c in groups.items() if not ok]
    if not right:
        return 0.0
    won = 0
    for t in range(1, k + 1):
        below = [(c, t - 1) for c in wrong]
        won += _subsets(below + [(c, t) for c in right], k) - _subsets(below + [(c, t - 1) for c in right], k)
    return won / comb(n, k)


def best_at_k(n: int, c: int, k: int) -> float:
    """best@k with the gold verifier as the selector: pass@k (see the module docstring)."""
    return pass_at_k(n, c, k)


def at_k(key: str) -> tuple[str, int] | None:
    """("maj", 4) for "maj@4"; None for a key that is not pass@K, maj@K or best@K."""
    m = AT_K.fullmatch(key)
    return (m.group(1), int(m.group(2))) if m else None


def prompt_at_k(rows: Sequence[Mapping], key: str) -> float | None:
    """pass@K, maj@K or best@K of one prompt's generations.jsonl rows (fields correct, extracted); None when
    the prompt has fewer than K samples."""
    kind, k = at_k(key) or (None, 0)
    if kind is None:
        raise ValueError(f"{key!r}: not pass@K, maj@K or best@K")
    if len(rows) < k:
        return None
    if kind == "maj":
        return maj_at_k([(answer_key(r.get("extracted")), bool(r["correct"])) for r in rows], k)
    return (pass_at_k if kind == "pass" else best_at_k)(len(rows), sum(bool(r["correct"]) for r in rows), k)
