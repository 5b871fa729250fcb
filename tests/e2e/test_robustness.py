"""Parsing, answer checking and rewards never raise and stay fast on adversarial model output.

Speed is checked without wall-clock limits that load could break: expensive LaTeX must be refused by the
guards before math-verify is called at all, and the deadline must be seen firing. The one time bound left
(`HANG_GUARD`) is a hang guard: the real cost is milliseconds, the failure it catches (catastrophic regex
backtracking on 1 MB) takes hours.
"""

import os
import signal
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs_vl.scoring.answers import extract_answer, is_correct
from specs_vl.scoring.format import KINDS, corrupt, parse
from specs_vl.scoring.rewards import accuracy_reward, format_reward

MB = 1_000_000
HANG_GUARD = 60.0  # seconds; ~1000x the real cost of any check below, so load cannot reach it
ADVERSARIAL = {
    "1MB-plain": "x" * MB,
    "1MB-digits-and-spaces": "1 " * (MB // 2),
    "1MB-braces": "{" * MB,
    "1MB-close-braces": "}" * MB,
    "nested-think-answer": "<think>" * 5000 + "<answer>" * 5000 + "</answer>" * 3000 + "</think>" * 4000,
    "interleaved-tags": "<think><answer>" * 30_000 + "</think>" * 20_000,
    "many-valid-pairs": "<think>a</think> <answer>5</answer>" * 20_000,
    "huge-answer-content": "<think>a</think> <answer>" + "{" * MB + "</answer>",
    "9x100000": "9" * 100_000,
    "9x100000-in-answer": "<think>a</think> <answer>" + "9" * 100_000 + "</answer>",
    "unclosed-boxed-x20000": "\\boxed{" * 20_000,
    "unclosed-boxed": "\\boxed{",
    "boxed-1MB-content": "\\boxed{" + "1+" * (MB // 2) + "1}",
    "nested-frac": "\\boxed{" + "\\frac{1}{" * 2000 + "2" + "}" * 2000 + "}",
    "power-tower": "\\boxed{x^{x^{x^{x^{x^{x^{x^{x^{x^{x}}}}}}}}}}",
    "number-tower": "the answer is 99^{99^{99}}",
    "ten-tower": "\\boxed{10^{10^{10^{10^{10}}}}}",
    "factorial": "\\boxed{(10^{100})!}",
    "double-factorial": "the answer is 9!!",
    "binomial": "\\boxed{\\binom{10^{9}}{10^{5}}}",
    "product": "\\boxed{\\prod_{i=1}^{1000000} i}",
    "open-parens": "(" * 5000,
    "open-parens-answer": "<think>a</think> <answer>" + "(" * 5000 + "</answer>",
    "sqrt-chain": "The answer is " + "\\sqrt{" * 500,
    "nul-bytes": "\x00" * 1000 + "5",
    "lone-surrogates": "\ud800\udfff\ud800 the answer is 5",
    "surrogate-in-answer": "<think>\ud800</think> <answer>\udfff5</answer>",
    "answer-is-x10000": "the answer is " * 10_000,
    "answer-colon-1MB": "Answer:" + " " * MB + "5",
    "spaces-1MB": " " * MB,
    "newlines-1MB": "\n" * MB,
}
GOLDS = [("5", "auto", None), ("B", "mc", ["a", "b", "c"]), ("0.5", "number", None), ("x+1", "expression", None)]


@pytest.fixture(scope="module", autouse=True)
def warm_math_verify():
    """The first math-verify call pays for importing sympy; that is not the input's fault."""
    assert is_correct("\\frac{1}{2}", "0.5")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_inputs_finish(text):
    checks = [("parse", lambda: parse(text)), ("extract", lambda: extract_answer(text))]
    for g in GOLDS:
        checks.append((f"is_correct raw {g[0]}", lambda g=g: is_correct(text, *g)))
        checks.append((f"is_correct extracted {g[0]}", lambda g=g: is_correct(extract_answer(text), *g)))
    checks.append(("format_reward", lambda: format_reward([text])))
    checks.append(
        ("accuracy_reward", lambda: accuracy_reward([[{"role": "assistant", "content": text}]], answer=["5"]))
    )
    for name, fn in checks:
        result, seconds = _timed(fn)
        assert seconds < HANG_GUARD, f"{name} took {seconds:.2f}s"
        if name.startswith("is_correct"):
            assert isinstance(result, bool)


EXPENSIVE = [
    "99^{99^{99}}",
    "9!!",
    "(10^{100})!",
    "\\binom{10^{9}}{10^{5}}",
    "10^{10^{10}}",
    "(x+y+z+1)^{50}",
    "(a+b)(c+d)(e+f)(g+h)(i+j)(k+l)(m+n)(o+p)(q+r)(s+t)",
    "\\sin((2+n)^{5})",
    "\\cos((z+0.5)^{9}^{2})",
    "\\frac{(\\sin(y))(b^{99})^{3}}{2}",
    "|\\sqrt{(3+7)^{99}}^{99}|",
    "\\frac{" * 40 + "1" + "}{2}" * 40,
    "x" * 5000,
]


@pytest.mark.parametrize("pred", EXPENSIVE, ids=range(len(EXPENSIVE)))
def test_expensive_latex_is_refused_quickly_not_evaluated(pred, monkeypatch):
    import specs_vl.scoring.mathverify as mv

    assert mv._mv_safe(pred) is False
    monkeypatch.setattr(mv, "_math_verify_api", lambda: pytest.fail("math-verify was called"))
    assert is_correct(pred, "\\frac{\\pi}{2}", "expression") is False


def test_guards_hold_off_the_main_thread_where_no_signal_can_help():
    done = []
    worker = threading.Thread(
        target=lambda: done.extend(is_correct(p, "x^2+1", "expression") for p in EXPENSIVE), daemon=True
    )
    worker.start()
    worker.join(timeout=HANG_GUARD)  # the guards refuse without computing; the bound is a hang guard
    assert done == [False] * len(EXPENSIVE)


def test_deadline_cuts_slow_sympy_and_restores_an_outer_timer(monkeypatch):
    from contextlib import contextmanager

    import specs_vl.scoring.mathverify as mv

    slow = "(3+\\tan(\\sqrt[9]{2}+\\sqrt[99]{2}))^{n}"  # passes the guards, sympy takes over a second on it
    assert mv._mv_safe(slow)
    cut, real_deadline = [], mv._deadline

    @contextmanager
    def watched(seconds):
        with real_deadline(seconds):
            try:
                yield
            except mv._Deadline:
                cut.append(seconds)
                raise

    monkeypatch.setattr(mv, "_deadline", watched)
    fired = []
    previous = signal.signal(signal.SIGPROF, lambda *_: fired.append(True))
    signal.setitimer(signal.ITIMER_PROF, 3600.0)  # an outer CPU-time timer, as a profiler would set
    try:
        assert is_correct(slow, "\\sqrt{2}", "expression") is False
        assert cut == [mv.MV_SECONDS]  # it was the deadline that stopped sympy
        assert is_correct("2x+1", "1+2x")  # math-verify still works after an interrupted call
        assert 3000.0 < signal.getitimer(signal.ITIMER_PROF)[0] <= 3600.0  # the outer timer is still running
        assert signal.getsignal(signal.SIGPROF) is not previous and not fired
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def test_the_deadline_counts_this_threads_cpu_not_the_process(monkeypatch):
    """A training rank's other threads keep the CPUs busy; the deadline must not fire on their time. Here a
    thread burns CPU without the GIL (hashlib releases it on large buffers) while the main thread waits inside
    a deadline, using none: a process CPU-time timer (the old ITIMER_PROF) fired there; this one does not.
    Then the main thread's own work is cut."""
    import hashlib
    import threading
    import time

    import specs_vl.scoring.mathverify as mv

    burned, blob = threading.Event(), b"x" * (1 << 24)

    def burn():
        while time.thread_time() < 1.0:  # one CPU-second of its own, however long the machine takes
            hashlib.sha256(blob).digest()
        burned.set()

    with mv._deadline(0.3):
        threading.Thread(target=burn, daemon=True).start()
        burned.wait()  # blocks without CPU until the other thread has used 1.0 s
    with pytest.raises(mv._Deadline), mv._deadline(0.3):
        while True:  # this thread's CPU: cut once it has used 0.3 s
            sum(range(1000))


def test_huge_but_equal_numbers_still_match():
    big = "9" * 100_000
    assert is_correct(big, big)
    assert not is_correct(big, big[:-1] + "8")


TAGS = [
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "\\boxed{",
    "}",
    "{",
    "the answer is ",
    "Answer:",
    "(B)",
    "\\frac{1}{2}",
    "^{",
    "!",
    "$",
    "\x00",
    "\ud800",
    "\udfff",
    "İ",
    "5",
    "-3.5",
    "\n",
    " ",
]
_surrogates = st.text(st.characters(categories=["Cs"]), max_size=3)
ADVERSARIAL_TEXT = st.lists(st.sampled_from(TAGS) | st.text(max_size=8) | _surrogates, max_size=40).map("".join)


@settings(max_examples=200, deadline=None)
@given(
    ADVERSARIAL_TEXT,
    st.sampled_from(["5", "B", "0.5", "yes", "red", "x+1", "\ud800"]),
    st.sampled_from(["auto", "integer", "number", "mc", "word", "yesno", "expression", "bogus"]),
)
def test_never_raises(text, gold, kind):
    p = parse(text)
    assert isinstance(p.valid, bool)
    found = extract_answer(text)
    assert found is None or isinstance(found, str)
    assert isinstance(is_correct(text, gold, kind, ["a", "b"]), bool)
    assert isinstance(is_correct(found, gold, kind), bool)
    assert format_reward([text]) in ([0.0], [0.5])
    assert accuracy_reward([[{"role": "assistant", "content": text}]], answer=[gold]) in ([0.0], [1.0])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=20))
def test_never_raises_on_arbitrary_text(text, gold):
    assert isinstance(parse(text).valid, bool)
    assert isinstance(is_correct(extract_answer(text), gold), bool)
    assert isinstance(is_correct(text, gold), bool)


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=80).filter(lambda t: "<" not in t or not any(tag in t for tag in TAGS[:4])),
    st.text(alphabet="0123456789abcABC.", min_size=1, max_size=8).filter(str.strip),
    st.sampled_from(KINDS),
    st.sampled_from(["", " ", "\n", "  \n"]),
)
def test_corruption_of_valid_text_is_invalid(think, answer, kind, sep):
    valid = f"<think>{think}</think>{sep}<answer>{answer}</answer>"
    assert parse(valid).valid
    assert not parse(corrupt(valid, kind)).valid
