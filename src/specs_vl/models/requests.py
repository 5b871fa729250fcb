"""What a sampling request may ask, checked when a config is read, before torch or a model loads."""

from __future__ import annotations


def greedy_n_problem(temperature: float, n: int, n_name: str = "samples") -> str | None:
    """Why (temperature, n) is not a valid request, or None: greedy decoding gives n copies of one answer.

    vLLM rejects it outright (SamplingParams: "n must be 1 when using greedy
    sampling"); HF would waste n-1 identical generations and make pass@k a lie.
    """
    if temperature == 0 and n > 1:
        return (
            f"temperature 0 (greedy) with {n_name}={n}: greedy decoding gives {n} copies of the same answer "
            f"(and vLLM refuses it); set {n_name}: 1, or a temperature > 0 to sample {n} different answers"
        )
    return None
