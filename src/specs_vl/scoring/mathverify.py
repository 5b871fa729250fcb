"""math-verify (sympy) made safe: cheap guards against exponential inputs, and one sub-second deadline.

math-verify's own timeout is a whole-second `signal.alarm` per step, so we run
parse and verify together under our own interval timer (main thread only).
Off the main thread no signal can interrupt sympy: there the guards are the
only protection.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

MAX_CHARS = 300  # longest prediction given to math-verify (the gold may be 4x longer)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
MV_SECONDS = 0.5  # CPU-time deadline for one math-verify comparison (main thread)
MV_MAX_EXPONENT = 100  # product of all numeric exponents: x^{99} passes, (b^{99})^{3} does not
MV_MAX_MONOMIALS = 150  # sympy spends ~2 ms per monomial expanding (x+y+z+1)^9 and the like
_MV_BANNED = re.compile(
    r"!|\*\*|\\(?:binom|dbinom|tbinom|choose|prod|sum|int|iint|oint|lim|Gamma|zeta)"
    r"|factorial|binomial|gamma|zeta|Sum|Product|Integral|Limit",
    re.IGNORECASE,
)
_MV_FUNCTION = re.compile(r"\\(?:arc)?(?:sin|cos|tan|cot|sec|csc)h?\b|\\(?:exp|log|ln)\b")
_EXPONENT = re.compile(r"\^\s*(?:\{([^{}]{0,12})\}|(\\circ|\\prime|[A-Za-z0-9]))")
_SHORT_EXPONENT = re.compile(r"[-+]?(?:[A-Za-z]|\d{1,2})(?:[-+*/](?:[A-Za-z]|\d{1,2}))?|\\circ|\\prime")
_CHAINED_POWER = re.compile(r"\^\s*(?:\{[^{}]*\}|\\[A-Za-z]+|\w)\s*\^")


def _exponent_at(text: str, i: int) -> int:
    """The small integer exponent written at text[i:] ("^2", "^{12}"), else 1."""
    m = re.match(r"\s*\^\s*(?:\{\s*[-+]?(\d{1,2})\s*\}|(\d))", text[i : i + 16])
    return int(m.group(1) or m.group(2)) if m else 1


def _monomial_bound(expr: str) -> int:
    """Upper bound on the monomials sympy could build expanding the sums in `expr`.

    A bracketed sum over V letters raised to e has at most min(terms^e,
    C(V+e, e)) monomials; products multiply. Numbers and radicals stay cheap,
    so only letters count.
    """
    text = _LATEX_COMMAND.sub(" ", expr)
    stack: list[int] = []
    bound, degree, letters = 1, 0, set()
    for i, c in enumerate(text):
        if c in "([{":
            stack.append(i)
        elif c in ")]}" and stack:
            inner = text[stack.pop() + 1 : i]
            group = {ch for ch in inner if ch.isascii() and ch.isalpha()}
            terms = inner.count("+") + inner.count("-") + 1
            if group and terms > 1:
                e = _exponent_at(text, i + 1)
                bound *= min(terms**e, math.comb(len(group) + e, e))
                letters |= group
                degree += e
    return min(bound, math.comb(len(letters) + degree, degree)) if letters else 1


def _mv_safe(pred: str) -> bool:
    """Cheap guards that keep exponential work (towers, factorials, expansions, deep nesting) from sympy."""
    if len(pred) > MAX_CHARS or _MV_BANNED.search(pred) or _CHAINED_POWER.search(pred):
        return False
    depth = 0
    for c in pred:
        if c in "{([":
            depth += 1
            if depth > 8:
                return False
        elif c in "})]":
            depth -= 1
    exponents = ["".join(e).replace(" ", "") for e in _EXPONENT.findall(pred)]
    if pred.count("^") > 2 or len(exponents) != pred.count("^"):
        return False
    if not all(_SHORT_EXPONENT.fullmatch(e) for e in exponents):
        return False
    # powers of powers multiply, even through brackets: (b^{99})^{3} is b^297
    if math.prod(max(int(d), 1) for e in exponents for d in re.findall(r"\d+", e)) > MV_MAX_EXPONENT:
        return False
    # trigsimp of sin(poly) factors and expands: keep function arguments to small sums
    limit = 4 if _MV_FUNCTION.search(pred) else MV_MAX_MONOMIALS
    return _monomial_bound(pred) <= limit


class _Deadline(BaseException):
    """Raised by the timer; a BaseException so math-verify's `except Exception` cannot swallow it."""


_SIGNAL = getattr(signal, "SIGUSR2", None)  # ours alone: a profiler's SIGPROF/ITIMER_PROF is left as it is


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of this thread's CPU time (main thread only; elsewhere a no-op).

    CPU time, not wall time: a busy machine slows sympy's wall clock but not the work it does. This thread's,
    not the process's: ITIMER_PROF counts every thread, so in a training rank whose other threads keep the
    CPUs busy it fired early and scored a right answer wrong. A watchdog thread reads the main thread's own
    clock (`pthread_getcpuclockid`) and signals it (`pthread_kill`) once the budget is spent.
    """
    usable = (
        _SIGNAL is not None
        and hasattr(time, "pthread_getcpuclockid")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(_SIGNAL) is not None  # None: a handler set from C, not restorable
    )
    if not usable:
        yield
        return
    target = threading.get_ident()
    clock = time.pthread_getcpuclockid(target)
    limit = time.clock_gettime(clock) + seconds
    done = threading.Event()

    def _raise(signum: int, frame: Any) -> None:
        if not done.is_set():
            raise _Deadline

    def _watch() -> None:
        while not done.wait(min(0.01, seconds / 10)):
            if time.clock_gettime(clock) >= limit:
                signal.pthread_kill(target, _SIGNAL)
                return

    previous = signal.signal(_SIGNAL, _raise)
    watchdog = threading.Thread(target=_watch, name="math-verify-deadline", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()
        signal.signal(_SIGNAL, previous)


@lru_cache(maxsize=1)
def _math_verify_api() -> tuple[Any, Any]:
    """Import (and warm) math-verify once, outside any deadline: an import cut short would break it."""
    # deferred: heavy import, kept off the start-up path of the CLI and of config validation
    from math_verify import parse, verify

    mv_log = logging.getLogger("math_verify")
    level = mv_log.level
    mv_log.setLevel(logging.ERROR)  # hide its one-time "timeout disabled" warning: we time it ourselves
    try:
        verify(parse("$1$", parsing_timeout=None), parse("$1$", parsing_timeout=None), timeout_seconds=None)
    finally:
        mv_log.setLevel(level)
    return parse, verify


def math_verify_equal(pred: str, gold: str) -> bool:
    """Symbolic equality by math-verify, under the guards and the deadline; False when either refuses."""
    if not _mv_safe(pred) or len(gold) > 4 * MAX_CHARS:
        return False
    parse, verify = _math_verify_api()

    def wrap(s: str) -> str:
        return s if s.startswith("$") else f"${s}$"

    try:
        with _deadline(MV_SECONDS):
            # timeouts None: math-verify's own whole-second alarm would fight our timer
            g = parse(wrap(gold), parsing_timeout=None)
            p = parse(wrap(pred), parsing_timeout=None)
            return bool(g and p and verify(g, p, timeout_seconds=None))
    except _Deadline:
        return False
