"""Serves a Lambda handler over HTTP on 127.0.0.1, as its Function URL would: each request becomes a
payload format 2.0 event, and the handler's answer becomes the HTTP response.

Source: AWS Lambda Developer Guide, "Invoking Lambda function URLs" (request and response payloads).
Not emulated: AWS_IAM auth, cookies, the 6 MB payload limit. No maintained package does this without
Docker (``sam local start-api`` needs it; ``lambda-gateway`` sends no ``requestContext.stage``, which
Powertools reads).

In place of AWS_IAM, the server is not a confused deputy for other web pages (it answers with the
operator's credentials): it listens on 127.0.0.1 only, answers only a ``Host`` that names it (a
DNS-rebinding page names its own host), refuses a request whose ``Origin`` or ``Sec-Fetch-Site`` says
another site sent it, and changes state (any method but GET and HEAD) only for a JSON request that
carries the token of this run in ``X-Certpush-Token``: a form or a ``text/plain`` fetch from another
page can neither set that header nor that type without a CORS preflight, which it never passes. The
token is in the URL the command prints (``#token=...``, a fragment: never sent, never in a Referer);
the page keeps it in the tab's session storage. Malformed requests (a bad, negative or huge
``Content-Length``, a body that is not UTF-8, a client that stops sending) get a 4xx, never a
traceback or a thread left waiting. Every answer says ``nosniff``, ``no-referrer``, ``no-store`` and
that no page may frame it."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
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

TOKEN_HEADER = "X-Certpush-Token"  # noqa: S105 - a header's name; the token is made per run
MAX_BODY_BYTES = 64 * 1024  # the records API takes no body larger than a replay's parameters
READ_TIMEOUT_SECONDS = 10  # a client that stops sending is dropped, its thread freed
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# Fetch Metadata (https://www.w3.org/TR/fetch-metadata/): what a browser says about who sent a request
_OWN_SITES = frozenset({"same-origin", "none"})
# sent with every answer; a page of HTML brings its own Content-Security-Policy (the records API's page)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class RequestRefused(Exception):
    """The request is refused before the handler sees it: (HTTP status, one-line reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


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
        "body": body.decode("utf-8") if text else base64.b64encode(body).decode(),
        "isBase64Encoded": not text,
    }


class FunctionUrlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, handler: Handler, port: int = 0, function_name: str = "records-api", token: str | None = None
    ) -> None:
        self.handler = handler
        self.function_name = function_name
        self.token = token or secrets.token_urlsafe(32)  # per run: a page of an earlier run holds no valid one
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def page_url(self) -> str:
        """The page with this run's token, in the fragment (never sent to a server)."""
        return f"{self.url}/#token={self.token}"

    @property
    def hosts(self) -> frozenset[str]:
        """``Host`` values that name this server (a browser sends the port when it is not 80)."""
        port = self.server_address[1]
        return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})

    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed (reset, timed out) is logged in one line, never with a traceback."""
        log.debug("connection from %s failed", client_address[0] if client_address else "?", exc_info=False)

    def start(self) -> FunctionUrlServer:
        self._thread = threading.Thread(target=self.serve_forever, name="function-url", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


class _RequestHandler(BaseHTTPRequestHandler):
    server: FunctionUrlServer
    timeout = READ_TIMEOUT_SECONDS  # StreamRequestHandler: the socket's timeout while reading
    default_request_version = "HTTP/1.0"  # an unreadable request line still gets a status line back

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, headers too long...), in the API's JSON shape."""
        reason = message or self.responses.get(code, ("error",))[0]
        self.close_connection = True
        self._answer({"statusCode": code, "body": json.dumps({"statusCode": code, "message": reason})})

    def _check_sender(self) -> None:
        """Refuses what another site, or a page that names another host, sent."""
        if self.headers.get("Host", "").lower() not in self.server.hosts:
            raise RequestRefused(421, "this server answers only for 127.0.0.1, localhost or [::1] with its port")
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() not in self.server.origins():
            raise RequestRefused(403, f"requests from another origin are refused ({origin[:100]})")
        site = self.headers.get("Sec-Fetch-Site")
        navigation = self.command in _SAFE_METHODS and self.headers.get("Sec-Fetch-Mode") == "navigate"
        if site is not None and site.lower() not in _OWN_SITES and not navigation:
            raise RequestRefused(403, f"requests from another site are refused (Sec-Fetch-Site: {site[:40]})")
        if self.command in _SAFE_METHODS:
            return
        if _media_type(self.headers.get("Content-Type")) != "application/json":
            raise RequestRefused(415, f"{self.command} takes Content-Type: application/json")
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            raise RequestRefused(403, f"{self.command} needs this run's token in {TOKEN_HEADER} (the page sends it)")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise RequestRefused(411, "send the body with a Content-Length, not a transfer encoding")
        raw = self.headers.get_all("Content-Length") or []
        if len(raw) > 1:
            raise RequestRefused(400, "more than one Content-Length")
        text = raw[0].strip() if raw else "0"
        if not text.isascii() or not text.isdigit():
            raise RequestRefused(400, f"Content-Length must be a number of bytes ({text[:20]!r})")
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise RequestRefused(413, f"the body may hold at most {MAX_BODY_BYTES} bytes")
        try:
            body = self.rfile.read(length) if length else b""
        except TimeoutError as exc:
            raise RequestRefused(408, "the body did not arrive in time") from exc
        if len(body) < length:
            raise RequestRefused(400, "the body is shorter than its Content-Length")
        return body

    def _invoke(self) -> None:
        try:
            self._check_sender()
            body = self._read_body()
            event = function_url_event(self.command, self.path, dict(self.headers), body, self.server.server_address[1])
        except RequestRefused as exc:
            refusal = {"statusCode": exc.status, "message": exc.reason}
            self._answer({"statusCode": exc.status, "body": json.dumps(refusal)})
            return
        except UnicodeDecodeError:
            self._answer({"statusCode": 400, "body": '{"statusCode":400,"message":"the body is not UTF-8"}'})
            return
        context = LocalLambdaContext(self.server.function_name, 30)
        try:
            answer = self.server.handler(event, context)
        except Exception:  # a function error is a 502 at a Function URL
            log.exception("%s %s: the handler raised", self.command, self.path)
            answer = {"statusCode": 502, "body": '{"message":"Internal Server Error"}'}
        self._answer(answer)

    def _answer(self, answer: dict[str, Any]) -> None:
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode()
        headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        status = int(answer.get("statusCode", 200))
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, str(value))
        given = {name.lower() for name in headers}
        for name, value in SECURITY_HEADERS.items():
            if name.lower() not in given:
                self.send_header(name, value)
        if "content-security-policy" not in given:
            self.send_header("Content-Security-Policy", DEFAULT_CSP)
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            self.send_header("Connection", "close")  # what follows a refused body is not read
            self.close_connection = True
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
