"""An LLM judge behind any OpenAI-compatible chat-completions endpoint.

vLLM, `transformers serve` or a hosted API. Timeouts, retries with
exponential backoff, bounded concurrency, and an on-disk cache keyed by
(model, prompt) so a rerun does not ask again. The API key is read from an
environment variable at call time and never stored, logged or cached.

The prompt (JUDGE_PROMPT) asks for one word, CONSISTENT or INCONSISTENT,
then a reason; anything else counts as not ok.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from specs_vl.judge.base import Verdict
from specs_vl.util.errors import SpecsError

JUDGE_PROMPT = (
    "You check a model's answer to a visual question.\n"
    "Question: {question}\n"
    "Response: {response}\n"
    "Does the reasoning inside <think> reach the same conclusion as the final answer inside <answer>? "
    "Reply with one word, CONSISTENT or INCONSISTENT, then one short sentence saying why."
)


class JudgeError(SpecsError):
    """The judge endpoint could not be reached or answered nonsense."""


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
        self.url = url.rstrip("/") + ("" if url.rstrip("/").endswith("/chat/completions") else "/v1/chat/completions")
        self.model, self.api_key_env, self.timeout = model, api_key_env, timeout
        self.retries, self.concurrency, self.backoff = retries, concurrency, backoff
        self.cache_path = Path(cache) if cache else None
        self._cache: dict[str, dict] = {}
        self._lock = threading.Lock()
        if self.cache_path and self.cache_path.exists():
            for line in self.cache_path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self._cache[row["key"]] = row["verdict"]

    def _key(self, prompt: str) -> str:
        return hashlib.sha256(f"{self.model}\0{prompt}".encode()).hexdigest()

    def _post(self, prompt: str) -> str:
        body = json.dumps(
            {"model": self.model, "temperature": 0, "max_tokens": 64, "messages": [{"role": "user", "content": prompt}]}
        ).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    data = json.loads(resp.read())
                return data["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as e:
                last = e
                if e.code < 500 and e.code != 429:
                    break  # a client error will not fix itself
            except (urllib.error.URLError, TimeoutError, ConnectionError, KeyError, ValueError) as e:
                last = e
            time.sleep(self.backoff * 2**attempt)
        raise JudgeError(f"judge at {self.url} failed after {self.retries + 1} tries: {last}")

    def check(self) -> None:
        """Fail fast (before any sampling) when the endpoint is unreachable: GET /v1/models."""
        models_url = self.url.rsplit("/chat/completions", 1)[0] + "/models"
        try:
            with urllib.request.urlopen(models_url, timeout=min(self.timeout, 10)) as resp:
                resp.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            raise JudgeError(f"judge at {models_url} is unreachable: {e}") from None

    def __call__(self, question: str, response: str) -> Verdict:
        return self.judge_many([(question, response)])[0]

    def judge_many(self, items: Sequence[tuple[str, str]]) -> list[Verdict]:
        prompts = [JUDGE_PROMPT.format(question=q, response=r) for q, r in items]
        todo = sorted({p for p in prompts if self._key(p) not in self._cache})
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for p, reply in zip(todo, pool.map(self._post, todo)):
                self._remember(p, parse_reply(reply))
        return [Verdict(**self._cache[self._key(p)]) for p in prompts]

    def _remember(self, prompt: str, verdict: Verdict) -> None:
        key = self._key(prompt)
        with self._lock:
            self._cache[key] = {"ok": verdict.ok, "reason": verdict.reason}
            if self.cache_path:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a") as f:
                    f.write(json.dumps({"key": key, "verdict": self._cache[key]}) + "\n")


def parse_reply(reply: str) -> Verdict:
    words = reply.strip().split(None, 1)
    head = words[0].strip(".:,*").upper() if words else ""
    reason = reply.strip()[:200] or "empty reply"
    if head == "CONSISTENT":
        return Verdict(True, reason)
    return Verdict(False, reason if head == "INCONSISTENT" else f"unparseable judge reply: {reason}")
