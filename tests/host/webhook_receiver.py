"""A webhook receiver for the host tests, as a process of its own:
``python -m tests.host.webhook_receiver SECRET OUT_FILE``. Prints ``listening URL``; appends one JSON
line per POST to OUT_FILE (delivery id, event id, detail-type, whether the signature holds) *before*
it answers 200, so a delivery the host never recorded as done still counts as received."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main(argv: list[str]) -> int:
    secret, out_file = argv[0].encode(), argv[1]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            stamp = self.headers.get("X-Certpush-Timestamp", "")
            expected = "sha256=" + hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            try:
                event = json.loads(body)
            except ValueError:  # a host killed in the middle of its request
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            line = {
                "delivery": self.headers.get("X-Certpush-Delivery"),
                "event_id": event["id"],
                "detail_type": self.headers.get("X-Certpush-Event"),
                "issuance_id": event["detail"].get("issuance_id"),
                "signature_ok": hmac.compare_digest(expected, self.headers.get("X-Certpush-Signature", "")),
            }
            with lock, open(out_file, "a") as out:
                out.write(json.dumps(line) + "\n")
                out.flush()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
