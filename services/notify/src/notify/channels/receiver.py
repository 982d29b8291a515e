"""A loopback webhook receiver for operators trying notify: `python -m notify.channels.receiver --port 8199 --secret S`.

Prints every webhook it gets, whether its signature verifies, and drops repeats of an Idempotency-Key the way
a real receiver should. Development only: it binds to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from notify.channels.webhooks import dingtalk_sign, verify_lianxin_signature


def serve(port: int, secret: str) -> None:
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key", "")
            timestamp = self.headers.get("X-Lianxin-Timestamp", "")
            valid = verify_lianxin_signature(
                secret, timestamp, body, self.headers.get("X-Lianxin-Signature", "")
            )
            query = parse_qs(urlparse(self.path).query)
            if "sign" in query:  # the DingTalk preset also signs in its own way
                valid = valid and query["sign"][0] == dingtalk_sign(secret, query["timestamp"][0])
            repeat = key in seen
            seen.add(key)
            document: Any = json.loads(body)
            text = (
                document.get("markdown", {}).get("content")
                or document.get("markdown", {}).get("text")
                or f"### {document.get('title')}\n\n{document.get('body')}"
            )
            print(
                f"--- {'REPEAT (dropped)' if repeat else 'new'} delivery {key} "
                f"signature {'valid' if valid else 'INVALID'}\n{text}\n",
                flush=True,
            )
            self.send_response(200 if valid else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

        def log_message(self, *args: Any) -> None:
            pass

    print(f"listening on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--secret", required=True, help="the secret you gave the channel")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.port, args.secret)


if __name__ == "__main__":
    main()
