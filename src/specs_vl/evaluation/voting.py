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
from functools import lru_cache
from math import comb

from specs_vl.evaluation.metrics import pass_at_k
from specs_vl.scoring.answers import answer_key

AT_K = re.compile(r"(pass|maj|best)@([1-9][0-9]*)")


def _mul(a: list[int], b: list[int], cap: int) -> list[int]:
    """The product of two polynomials (coefficient lists), cut after degree `cap`."""
    out = [0] * min(len(a) + len(b) - 1, cap + 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b[: cap + 1 - i]):
                out[i + j] += x * y
    return out


def _product(groups: Sequence[tuple[int, int]], bound: int, cap: int) -> list[int]:
    """prod over (count c, how many groups m) of (sum_{j <= min(c, bound)} C(c, j) x^j)^m, cut after `cap`:
    its coefficient of x^k counts the k-subsets that take at most `bound` samples of each answer."""
    out = [1]
    for c, m in groups:
        base = [comb(c, j) for j in range(min(c, bound) + 1)]
        while m:  # by squaring: the distinct counts are few, the groups of one count may be many
            if m & 1:
                out = _mul(out, base, cap)
            m >>= 1
            if m:
                base = _mul(base, base, cap)
    return out


@lru_cache(maxsize=65_536)
def _maj(right: tuple[tuple[int, int], ...], wrong: tuple[tuple[int, int], ...], k: int) -> float:
    n = sum(c * m for c, m in right + wrong)
    won, below = 0, _product(right, 0, k)
    for t in range(1, min(k, max(c for c, _ in right)) + 1):  # no right answer reaches more votes than it has
        w, upto = _product(wrong, t - 1, k), _product(right, t, k)
        won += sum(
            w[j] * (upto[k - j] - (below[k - j] if k - j < len(below) else 0))
            for j in range(len(w))
            if k - j < len(upto)
        )
        below = upto
    return won / comb(n, k)


def maj_at_k(votes: Sequence[tuple[Hashable, bool]], k: int) -> float:
    """maj@k of one prompt from its samples' (answer key, correct) votes, as the module docstring defines it.

    For each winning vote count t it counts the k-subsets where every wrong answer has fewer than t votes and
    every right answer at most t, less those where every right answer has fewer than t (so some right answer
    has exactly t and leads, and every answer tied with it is right).
    """
    n = len(votes)
    if not 1 <= k <= n:
        raise ValueError(f"maj_at_k needs 1 <= k <= n, got n={n}, k={k}")
    groups = Counter((key, bool(ok)) for key, ok in votes)
    right = tuple(sorted(Counter(c for (_, ok), c in groups.items() if ok).items()))
    wrong = tuple(sorted(Counter(c for (_, ok), c in groups.items() if not ok).items()))
    return _maj(right, wrong, k) if right else 0.0


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
