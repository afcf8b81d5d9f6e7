"""Serves a Lambda handler over HTTP on 127.0.0.1, as its Function URL would: each request becomes a
payload format 2.0 event, and the handler's answer becomes the HTTP response.

Source: AWS Lambda Developer Guide, "Invoking Lambda function URLs" (request and response payloads).
Not emulated: AWS_IAM auth (the server listens on the loopback interface only), cookies, the
6 MB payload limit. No maintained package does this without Docker (``sam local start-api`` needs it;
``lambda-gateway`` sends no ``requestContext.stage``, which Powertools reads)."""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("certpush_cli")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded")


@dataclass
class LocalLambdaContext:
    function_name: str
    timeout_seconds: int
    aws_request_id: str = ""
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_url_event(method: str, target: str, headers: dict[str, str], body: bytes, port: int) -> dict[str, Any]:
    url = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        # repeated parameters arrive comma-separated in a Function URL event
        query[name] = f"{query[name]},{value}" if name in query else value
    lowered = {name.lower(): value for name, value in headers.items()}
    text = lowered.get("content-type", "").startswith(_TEXT_TYPES) or not body
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": lowered,
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": f"127.0.0.1:{port}",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body.decode() if text else base64.b64encode(body).decode(),
        "isBase64Encoded": not text,
    }


class FunctionUrlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: Handler, port: int = 0, function_name: str = "records-api") -> None:
        self.handler = handler
        self.function_name = function_name
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FunctionUrlServer:
        self._thread = threading.Thread(target=self.serve_forever, name="function-url", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _RequestHandler(BaseHTTPRequestHandler):
    server: FunctionUrlServer

    def _invoke(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        event = function_url_event(self.command, self.path, dict(self.headers), body, self.server.server_address[1])
        context = LocalLambdaContext(self.server.function_name, 30)
        try:
            answer = self.server.handler(event, context)
        except Exception:  # a function error is a 502 at a Function URL
            log.exception("%s %s: the handler raised", self.command, self.path)
            answer = {"statusCode": 502, "body": '{"message":"Internal Server Error"}'}
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode()
        self.send_response(int(answer.get("statusCode", 200)))
        for name, value in (answer.get("headers") or {}).items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, str(value))
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        """``do_GET``, ``do_QUERY``...: the handler decides which methods it answers, as behind a URL."""
        if name.startswith("do_"):
            return self._invoke
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the handler logs its own requests
        return
