"""A small OpenAI-compatible judge server, run as its own process by tests/test_judge_http.py.

It speaks the chat-completions protocol over TCP on 127.0.0.1. Its "model"
answers CONSISTENT when the <answer> text occurs inside <think>. It counts
requests and records Authorization headers at GET /stats, and can fail the
first N requests with HTTP 500 (--fail-first) to exercise retries.
"""

import argparse
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"requests": 0, "auth": [], "fail_first": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "judge", "object": "model"}]})
        elif self.path == "/stats":
            self._send(200, STATE)
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        STATE["requests"] += 1
        STATE["auth"].append(self.headers.get("Authorization"))
        if STATE["requests"] <= STATE["fail_first"]:
            self._send(500, {"error": "warming up"})
            return
        prompt = data["messages"][-1]["content"]
        think = re.search(r"<think>(.*?)</think>", prompt, re.S)
        answer = re.search(r"<answer>(.*?)</answer>", prompt, re.S)
        ok = bool(think and answer and answer.group(1).strip().lower() in think.group(1).lower())
        reply = "CONSISTENT. The reasoning ends at the answer." if ok else "INCONSISTENT. The reasoning disagrees."
        self._send(
            200,
            {
                "id": "x",
                "object": "chat.completion",
                "model": data.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            },
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    args = ap.parse_args()
    STATE["fail_first"] = args.fail_first
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
