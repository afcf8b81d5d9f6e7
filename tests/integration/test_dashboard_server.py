"""`certpush dashboard`'s server is not a confused deputy (issue 18): it answers only requests that
name it in ``Host``, refuses another origin or site, changes state only for JSON with this run's
token, and answers malformed requests with a 4xx (never a traceback, a dropped connection or a
thread left waiting). The handler behind it here records what reached it."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from certpush_cli.function_url import MAX_BODY_BYTES, TOKEN_HEADER, FunctionUrlServer

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


_RECORDER = Recorder()


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionUrlServer]:
    started = FunctionUrlServer(_RECORDER, port=0).start()
    yield started
    started.stop()


@pytest.fixture
def recorder(server: FunctionUrlServer) -> Recorder:
    _RECORDER.events.clear()
    return _RECORDER


def request(
    server: FunctionUrlServer, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=15)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    sent = {"Host": f"127.0.0.1:{server.server_address[1]}", **(headers or {})}
    for name, value in sent.items():
        connection.putheader(name, value)
    if body and "Content-Length" not in sent:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body or None)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    answer = json.loads(data) if data and response.getheader("Content-Type", "").startswith("application/json") else {}
    return response.status, {k.lower(): v for k, v in response.getheaders()}, answer


def replay_headers(server: FunctionUrlServer, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", TOKEN_HEADER: server.token, **extra}


def raw(server: FunctionUrlServer, data: bytes) -> bytes:
    """Sends ``data`` as it is and reads the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=20) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- who may ask -----------------------------------------------------------------------------------
def test_a_request_from_the_page_itself_is_answered(server: FunctionUrlServer, recorder: Recorder) -> None:
    status, _, _ = request(server, "GET", "/summary", {"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
    assert status == 200 and len(recorder.events) == 1
    status, _, _ = request(server, "POST", "/certificates/x/replay", replay_headers(server, Origin=server.url))
    assert status == 200 and recorder.events[-1]["requestContext"]["http"]["method"] == "POST"


@pytest.mark.parametrize("host", ["localhost", "[::1]"])
def test_every_loopback_name_with_the_port_is_answered(server: FunctionUrlServer, host: str) -> None:
    status, _, _ = request(server, "GET", "/summary", {"Host": f"{host}:{server.server_address[1]}"})
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1", "127.0.0.1:1", ""])
def test_a_foreign_host_is_refused(server: FunctionUrlServer, recorder: Recorder, host: str) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header still says it."""
    status, _, answer = request(server, "GET", "/certificates", {"Host": host.format(port=server.server_address[1])})
    assert status == 421
    assert "127.0.0.1" in answer["message"]
    assert recorder.events == []


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1"])
def test_a_foreign_origin_is_refused_whatever_the_method(
    server: FunctionUrlServer, recorder: Recorder, origin: str
) -> None:
    status, _, answer = request(server, "GET", "/certificates", {"Origin": origin})
    assert status == 403 and "another origin" in answer["message"]
    status, _, _ = request(server, "POST", "/certificates/x/replay", replay_headers(server, Origin=origin))
    assert status == 403
    assert recorder.events == []


def test_a_request_another_site_sent_is_refused_but_a_link_to_the_page_opens(
    server: FunctionUrlServer, recorder: Recorder
) -> None:
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    status, _, _ = request(server, "GET", "/certificates", cross_site)
    assert status == 403 and recorder.events == []
    status, _, _ = request(server, "GET", "/", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},  # no token
        {"Content-Type": "application/json", TOKEN_HEADER: "guessed"},
        {"Content-Type": "text/plain", TOKEN_HEADER: "{token}"},  # what a no-preflight fetch can send
        {"Content-Type": "application/x-www-form-urlencoded", TOKEN_HEADER: "{token}"},  # an HTML form
        {TOKEN_HEADER: "{token}"},
    ],
    ids=["no-token", "wrong-token", "text-plain", "form", "no-type"],
)
def test_a_state_change_needs_json_and_the_token(
    server: FunctionUrlServer, recorder: Recorder, headers: dict[str, str]
) -> None:
    sent = {name: value.format(token=server.token) for name, value in headers.items()}
    status, _, answer = request(server, "POST", "/certificates/x/replay", sent, b"{}")
    assert status in (403, 415), answer
    assert recorder.events == []


def test_each_run_has_a_token_of_its_own(recorder: Recorder) -> None:
    first, second = FunctionUrlServer(recorder), FunctionUrlServer(recorder)
    try:
        assert first.token != second.token and len(first.token) >= 32
        assert first.page_url == f"{first.url}/#token={first.token}"
    finally:
        first.server_close()
        second.server_close()


# -- what every answer says ------------------------------------------------------------------------
def test_every_answer_carries_the_security_headers(server: FunctionUrlServer) -> None:
    for status_wanted, headers in [(200, {}), (421, {"Host": "evil.example"})]:
        status, answer_headers, _ = request(server, "GET", "/summary", headers)
        assert status == status_wanted
        assert answer_headers["x-content-type-options"] == "nosniff"
        assert answer_headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer_headers["content-security-policy"]
        assert answer_headers["x-frame-options"] == "DENY"


# -- malformed requests ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_length", "status"),
    [("-1", 400), ("abc", 400), ("1e3", 400), (str(MAX_BODY_BYTES + 1), 413), ("99999999999999999999", 413)],
)
def test_a_bad_content_length_is_a_4xx(
    server: FunctionUrlServer, recorder: Recorder, content_length: str, status: int
) -> None:
    got, _, answer = request(
        server, "POST", "/certificates/x/replay", replay_headers(server, **{"Content-Length": content_length}), b"{}"
    )
    assert got == status, answer
    assert recorder.events == []


def test_a_body_that_is_not_utf8_is_a_400(server: FunctionUrlServer, recorder: Recorder) -> None:
    status, _, answer = request(server, "POST", "/certificates/x/replay", replay_headers(server), b"\xff\xfe{}")
    assert status == 400 and "UTF-8" in answer["message"]
    assert recorder.events == []


def test_a_body_shorter_than_its_length_is_answered_not_waited_for(server: FunctionUrlServer) -> None:
    port = server.server_address[1]
    head = (
        f"POST /certificates/x/replay HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{TOKEN_HEADER}: {server.token}\r\nContent-Length: 100\r\n\r\n{{}}"
    )
    answer = raw(server, head.encode())  # the client closes its side after 2 of 100 bytes
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:80]


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\xff\xfe / HTTP/1.1\r\n\r\n"])
def test_a_bad_request_line_is_a_4xx(server: FunctionUrlServer, recorder: Recorder, line: bytes) -> None:
    answer = raw(server, line)
    assert answer.split(b" ", 2)[1][:1] == b"4" or answer.split(b" ", 2)[1] == b"505", answer[:80]
    assert recorder.events == []


def test_a_chunked_body_is_refused(server: FunctionUrlServer) -> None:
    chunked = replay_headers(server, **{"Transfer-Encoding": "chunked"})
    status, _, _ = request(server, "POST", "/certificates/x/replay", chunked, b"0\r\n\r\n")
    assert status == 411


def test_the_server_still_answers_after_malformed_requests(server: FunctionUrlServer) -> None:
    for data in (b"GARBAGE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"):
        raw(server, data)
    status, _, _ = request(server, "GET", "/summary")
    assert status == 200
