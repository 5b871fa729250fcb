"""A small OpenAI-compatible judge server on 127.0.0.1, in a thread of the test process.

It answers only the routes vLLM's OpenAI server answers for a judge
(`GET /v1/models`, `POST /v1/chat/completions`); any other path gets 404 with
the body vLLM gives for an unknown route (FastAPI's `{"detail": "Not Found"}`;
vLLM's own `{"error": {...}}` handler is registered for fastapi's
HTTPException, which a routing miss does not raise). Errors on the chat route
use vLLM's `{"error": {"message", "type", "param", "code"}}` shape.

Its "model" answers CONSISTENT when the <answer> text occurs inside <think>.
Faults are scripted per request: the first `victims` distinct prompts to
arrive get `faults[i]` on their i-th try, then a good answer; `die_after=N`
answers N chat requests and then drops every connection and stops listening.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("500", "429", "hang", "truncated", "null", "null-reasoning", "null-thinking")
HANG_GUARD_S = 120  # a hung request waits on `release`; this only bounds a test that forgot to stop


def verdict(prompt: str) -> str:
    response = prompt.split("\nResponse: ", 1)[-1]  # the question's instruction may name the tags too
    think = re.search(r"<think>(.*?)</think>", response, re.S)
    answer = re.search(r"<answer>(.*?)</answer>", response, re.S)
    ok = bool(think and answer and answer.group(1).strip().lower() in think.group(1).lower())
    return "CONSISTENT. The reasoning ends at the answer." if ok else "INCONSISTENT. The reasoning disagrees."


class JudgeServer:
    """`with JudgeServer(...) as s:` serves at `s.url` (`http://127.0.0.1:PORT/v1`) until the block ends."""

    def __init__(self, faults: list[str] = (), victims: int = 1, die_after: int | None = None):
        assert all(f in FAULTS for f in faults), faults
        self.faults, self.victims, self.die_after = list(faults), victims, die_after
        self.lock, self.release, self.dead = threading.Lock(), threading.Event(), threading.Event()
        self.answered = Counter()  # prompt -> good answers sent
        self.tries = Counter()  # prompt -> chat requests seen
        self.chosen: list[str] = []  # the victim prompts, in arrival order
        self.posts, self.auth, self.paths = 0, [], []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JudgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Release hung requests, stop serving, close the port; safe to call twice."""
        self.release.set()
        self.dead.set()
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def _action(self, prompt: str) -> str:
        with self.lock:
            self.posts += 1
            if self.die_after is not None and self.posts > self.die_after:
                self.dead.set()
            if self.dead.is_set():
                return "die"
            n = self.tries[prompt]
            self.tries[prompt] += 1
            if prompt not in self.chosen and len(self.chosen) < self.victims and self.faults:
                self.chosen.append(prompt)
            if prompt in self.chosen and n < len(self.faults):
                return self.faults[n]
            self.answered[prompt] += 1
            return "ok"


def _handler(server: JudgeServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code: int, body: bytes, headers: dict | None = None) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (a timed-out request)
                pass

        def _error(self, code: int, kind: str, message: str, headers: dict | None = None) -> None:
            err = {"error": {"message": message, "type": kind, "param": None, "code": code}}
            self._send(code, json.dumps(err).encode(), headers)

        def do_GET(self):
            server.paths.append(f"GET {self.path}")
            if self.path == "/v1/models":
                body = {"object": "list", "data": [{"id": "judge", "object": "model", "owned_by": "vllm"}]}
                self._send(200, json.dumps(body).encode())
            else:
                self._send(404, b'{"detail":"Not Found"}')

        def do_POST(self):
            server.paths.append(f"POST {self.path}")
            data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path != "/v1/chat/completions":
                self._send(404, b'{"detail":"Not Found"}')
                return
            prompt = data["messages"][-1]["content"]
            with server.lock:
                server.auth.append(self.headers.get("Authorization"))
            action = server._action(prompt)
            if action == "die":  # no reply; the listener goes too
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                threading.Thread(target=server.stop, daemon=True).start()
                return
            if action == "500":
                return self._error(500, "InternalServerError", "the engine is warming up")
            if action == "429":
                return self._error(429, "RateLimitError", "too many requests", {"Retry-After": "0"})
            if action == "hang":
                server.release.wait(HANG_GUARD_S)
                return self._error(503, "ServiceUnavailableError", "released")
            message, finish = {"role": "assistant", "content": verdict(prompt)}, "stop"
            if action.startswith("null"):
                thought = verdict(prompt) if action == "null-reasoning" else "Okay, let me look at the reasoning"
                message = {"role": "assistant", "content": None, "reasoning_content": thought}
                finish = "length"
            body = json.dumps(
                {
                    "id": "chatcmpl-x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": data.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                }
            ).encode()
            self._send(200, body[: len(body) // 2] if action == "truncated" else body)

    return Handler
