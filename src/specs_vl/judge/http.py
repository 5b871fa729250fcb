"""An LLM judge behind any OpenAI-compatible chat-completions endpoint, on the `openai` client.

vLLM, `transformers serve` or a hosted API. Timeouts, bounded retries with
backoff, bounded concurrency, and an on-disk cache keyed by (model, prompt) so
a rerun asks only what was not answered. The API key is read from an
environment variable at call time, handed to a client that lives for one
batch, and never stored, logged or cached.

The prompt (JUDGE_PROMPT) asks for one word, CONSISTENT or INCONSISTENT,
then a reason; a reply that says neither counts as not ok.

What the `openai` client does for us (read in openai/_base_client.py,
`SyncAPIClient.request`, `_should_retry`, `_calculate_retry_timeout`): it
retries, up to `max_retries` times, on a timeout, a connection error, and on
HTTP 408, 409, 429 and >= 500 (unless the server sends `x-should-retry:
false`); it waits what `Retry-After` / `retry-after-ms` says when that is in
(0, 120] s, and otherwise backs off exponentially from 0.5 s (capped at 8 s,
with jitter); a `Retry-After` over 120 s is not retried. It does not retry a
200 whose body is not JSON or holds no reply; our own bounded loop retries
those (`retries` times, `backoff` * 2**attempt apart).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlsplit

import openai

from specs_vl.judge.base import Verdict
from specs_vl.util.errors import SpecsError

JUDGE_PROMPT = (
    "You check a model's answer to a visual question.\n"
    "Question: {question}\n"
    "Response: {response}\n"
    "Does the reasoning inside <think> reach the same conclusion as the final answer inside <answer>? "
    "Reply with one word, CONSISTENT or INCONSISTENT, then one short sentence saying why."
)
NO_KEY = "EMPTY"  # what vLLM's docs pass when the server has no --api-key; the client refuses an empty key
COUNT_KEYS = ("asked", "cached", "retries", "failures", "not_asked", "reasoning_replies")


class JudgeError(SpecsError):
    """The judge endpoint could not be reached or answered nonsense."""


class _BadReply(Exception):
    """A 200 the client accepted but that holds no verdict (not JSON, no choices, no text)."""


def base_url(url: str) -> str:
    """The OpenAI-style base URL: `http://host:port/v1` as users write it (the 7B config's form).

    Also accepted: `http://host:port` (no path: `/v1` is added, as vLLM and
    `transformers serve` mount it there) and any form ending in
    `/chat/completions` (that suffix is dropped). Any other path (a hosted
    API's `/v1beta/openai`) is kept as given.
    """
    u = url.strip().rstrip("/")
    if u.endswith("/chat/completions"):
        u = u[: -len("/chat/completions")].rstrip("/")
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JudgeError(f"judge url {url!r} is not an http(s) URL such as http://127.0.0.1:8000/v1")
    return u if parts.path not in ("", "/") else u + "/v1"


def _why(e: BaseException) -> str:
    """One line for an error: the status and the server's message, or the transport's complaint."""
    if isinstance(e, openai.APIStatusError):
        message = e.message.removeprefix(f"Error code: {e.status_code} - ")  # the client's own prefix
        return f"HTTP {e.status_code}: {message}".replace("\n", " ")[:200]
    if isinstance(e, openai.APITimeoutError):
        return "timed out"
    if isinstance(e, openai.APIConnectionError):
        return f"connection failed ({e.__cause__ or e})".replace("\n", " ")[:200]
    return str(e).replace("\n", " ")[:200]


def _client_retried(e: BaseException) -> bool:
    """Whether the client spent its retries on this error before raising it (see the module docstring)."""
    if isinstance(e, openai.APIConnectionError):  # timeouts included
        return True
    return isinstance(e, openai.APIStatusError) and (e.status_code in (408, 409, 429) or e.status_code >= 500)


class HttpJudge:
    def __init__(
        self,
        url: str,
        model: str = "judge",
        api_key_env: str = "SPECS_JUDGE_API_KEY",
        timeout: float = 30.0,
        retries: int = 3,
        concurrency: int = 8,
        cache: Path | None = None,
        backoff: float = 0.5,
    ):
        self.base_url = base_url(url)
        self.url = self.base_url + "/chat/completions"
        self.model, self.api_key_env, self.timeout = model, api_key_env, timeout
        self.retries, self.concurrency, self.backoff = retries, concurrency, backoff
        self.cache_path = Path(cache) if cache else None
        self.counts: Counter = Counter({k: 0 for k in COUNT_KEYS})  # this object's batches
        self.earlier: Counter = Counter()  # earlier runs on the same cache, summed, with "runs"
        self._cache: dict[str, dict] = {}
        self._lock = threading.Lock()
        if self.cache_path and self.cache_path.exists():
            for line in self.cache_path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line cut by a kill mid-write: that answer is asked again
                if "key" in row:
                    self._cache[row["key"]] = row["verdict"]
                elif "run" in row:
                    self.earlier.update(row["run"], runs=1)

    def _key(self, prompt: str) -> str:
        return hashlib.sha256(f"{self.model}\0{prompt}".encode()).hexdigest()

    def _client(self, timeout: float | None = None, max_retries: int | None = None) -> openai.OpenAI:
        """A client for one batch, with the key as the environment holds it now."""
        return openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(self.api_key_env) or NO_KEY,
            timeout=self.timeout if timeout is None else timeout,
            max_retries=self.retries if max_retries is None else max_retries,
        )

    def _ask(self, client: openai.OpenAI, prompt: str) -> str:
        """The reply text for one prompt, after the client's retries and ours; raises on failure.

        An empty reply (`message.content` null or blank, as a reasoning model
        gives when its text sits in `reasoning_content`) is read from
        `reasoning_content` (or vLLM's newer `reasoning`) when that starts with
        CONSISTENT or INCONSISTENT; otherwise it is a failed request: retried,
        then counted as a failure. It never counts as INCONSISTENT, so it
        never drops a good pair.
        """
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._count(retries=1)
                time.sleep(self.backoff * 2 ** (attempt - 1))
            raw = client.chat.completions.with_raw_response.create(
                model=self.model, temperature=0, max_tokens=64, messages=[{"role": "user", "content": prompt}]
            )
            self._count(retries=getattr(raw, "retries_taken", 0))
            try:
                return self._text(raw.parse())
            except _BadReply as e:
                last = e
            except (ValueError, AttributeError, IndexError, TypeError) as e:  # a truncated or odd body
                last = _BadReply(f"unreadable reply ({type(e).__name__}: {e})")
        raise last  # type: ignore[misc]

    def _text(self, completion) -> str:
        if not completion.choices:
            raise _BadReply("a reply with no choices")
        msg = completion.choices[0].message
        if (msg.content or "").strip():
            return msg.content
        for field in ("reasoning_content", "reasoning"):
            text = getattr(msg, field, None) or (msg.model_extra or {}).get(field)
            if isinstance(text, str) and _head(text) in ("CONSISTENT", "INCONSISTENT"):
                self._count(reasoning_replies=1)
                return text
        finish = completion.choices[0].finish_reason
        raise _BadReply(f"an empty reply (content null, finish_reason {finish}; a reasoning model out of tokens?)")

    def _count(self, **by: int) -> None:
        with self._lock:
            self.counts.update(by)

    def check(self) -> None:
        """Fail fast (before any sampling) on a wrong or unreachable endpoint: GET <base>/models."""
        where = self.base_url + "/models"
        try:
            with self._client(timeout=min(self.timeout, 10), max_retries=0) as client:
                client.models.list()
        except openai.APIStatusError as e:
            raise JudgeError(
                f"judge at {where} answered {_why(e)}; distill.judge_url should be the base URL, "
                "such as http://127.0.0.1:8000/v1"
            ) from None
        except openai.APIError as e:
            raise JudgeError(f"judge at {where} is unreachable: {_why(e)}") from None

    def __call__(self, question: str, response: str) -> Verdict:
        return self.judge_many([(question, response)])[0]

    def judge_many(self, items: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts in the order of `items`; asks only prompts not in the cache.

        Every answer is cached as it arrives. After the first request that
        fails for good no new request starts; the batch then raises one
        JudgeError, and a rerun asks only what was not answered.
        """
        prompts = [JUDGE_PROMPT.format(question=q, response=r) for q, r in items]
        todo = sorted({p for p in prompts if self._key(p) not in self._cache})
        before = Counter(self.counts)
        self._count(cached=len(set(prompts)) - len(todo))
        stop, failed = threading.Event(), []

        def one(prompt: str) -> None:
            if stop.is_set():
                self._count(not_asked=1)
                return
            self._count(asked=1)
            try:
                reply = self._ask(client, prompt)
            except (openai.APIError, _BadReply) as e:
                self._count(failures=1, retries=self.retries if _client_retried(e) else 0)
                failed.append(_why(e))
                stop.set()
                return
            self._remember(prompt, parse_reply(reply))

        try:
            if todo:
                with self._client() as client, ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    for f in as_completed([pool.submit(one, p) for p in todo]):
                        f.result()
        finally:
            self._record_run(self.counts - before)
        if failed:
            c = self.counts - before
            raise JudgeError(
                f"judge at {self.url}: {len(failed)} of {len(todo)} requests failed (first: {failed[0]}; "
                f"up to {self.retries + 1} tries each); {len(todo) - c['failures'] - c['not_asked']} answered "
                f"and cached, {c['not_asked']} not asked; rerun to ask only those"
            )
        return [Verdict(**self._cache[self._key(p)]) for p in prompts]

    def _remember(self, prompt: str, verdict: Verdict) -> None:
        key = self._key(prompt)
        with self._lock:
            self._cache[key] = {"ok": verdict.ok, "reason": verdict.reason}
            self._append({"key": key, "verdict": self._cache[key]})

    def _record_run(self, counts: Counter) -> None:
        """One line per batch in the cache file, so a later run's stats.json can say what earlier ones met."""
        if counts["asked"] or counts["not_asked"]:
            with self._lock:
                self._append({"run": {k: counts[k] for k in COUNT_KEYS}})

    def _append(self, row: dict) -> None:
        if self.cache_path:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            with self.cache_path.open("a") as f:
                f.write(json.dumps(row) + "\n")


def _head(reply: str) -> str:
    words = reply.strip().split(None, 1)
    return words[0].strip(".:,*").upper() if words else ""


def parse_reply(reply: str) -> Verdict:
    head, reason = _head(reply), reply.strip()[:200] or "empty reply"
    if head == "CONSISTENT":
        return Verdict(True, reason)
    return Verdict(False, reason if head == "INCONSISTENT" else f"unparseable judge reply: {reason}")
