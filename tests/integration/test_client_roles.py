"""403 (a security role that may not do this): the simulator has no role switch, so a tiny
loopback HTTP server that answers 403 like Cliniko stands in for it. Real sockets, real client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from desktop.cliniko import ClinikoClient, RequestRecord, RoleNotAllowed


class Forbidden(BaseHTTPRequestHandler):
    """Answers every request with Cliniko-style 403 JSON."""

    protocol_version = "HTTP/1.1"
    seen_headers: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Forbidden.seen_headers.append(dict(self.headers.items()))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"message":"You do not have permission to view settings"}'
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def forbidden_url() -> Iterator[str]:
    Forbidden.seen_headers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Forbidden)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_role_not_allowed(forbidden_url: str) -> None:
    records: list[RequestRecord] = []
    with (
        ClinikoClient("abc123-au1", base_url=forbidden_url, on_request=records.append) as client,
        pytest.raises(RoleNotAllowed) as info,
    ):
        client.get("/settings")
    assert info.value.status == 403
    message = info.value.user_message
    assert "Your Cliniko user is not allowed to do this" in message
    assert "Ask a Cliniko administrator" in message
    assert [r.status for r in records] == [403]  # a 403 is final: no retries


def test_headers_sent(forbidden_url: str) -> None:
    with (
        ClinikoClient("abc123-au1", base_url=forbidden_url) as client,
        pytest.raises(RoleNotAllowed),
    ):
        client.get_user()
    headers = {k.lower(): v for k, v in Forbidden.seen_headers[-1].items()}
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == "MergeDesk/0.1.0 (support@mergedesk.app)"
    assert headers["authorization"] == "Basic YWJjMTIzLWF1MTo="  # "abc123-au1:"
    assert "content-type" not in headers  # no body, no content type


def test_bodies_are_json(forbidden_url: str) -> None:
    with (
        ClinikoClient("abc123-au1", base_url=forbidden_url) as client,
        pytest.raises(RoleNotAllowed),
    ):
        client.update_patient("1001", {"first_name": "Zoë"})
    headers = {k.lower(): v for k, v in Forbidden.seen_headers[-1].items()}
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
