"""One HTTP exchange is read whole only within its bounds, and reads as it did before."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from desktop.cliniko.exchange import EndlessAnswer, timed_send

PAGE = {"patients": [{"id": "1", "first_name": "Ada"}], "total_entries": 1}


def _serve_gzipped(raw: bytes) -> Iterator[str]:
    """Answer every GET with ``raw`` gzipped, as Cliniko does; yield the page's address."""
    body = gzip.compress(raw)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/patients"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gzip_server() -> Iterator[str]:
    """One page, gzipped."""
    yield from _serve_gzipped(json.dumps(PAGE).encode())


@pytest.fixture
def gzip_bomb_server() -> Iterator[str]:
    """5 MB of JSON that packs to a few kilobytes."""
    yield from _serve_gzipped(b'{"patients": [], "pad": "' + b"0" * (5 << 20) + b'"}')


def test_a_gzipped_page_reads_as_json_with_its_headers(gzip_server: str) -> None:
    with httpx.Client() as http:
        exchange = timed_send(http, http.build_request("GET", gzip_server))
    assert exchange.failure is None and exchange.status == 200
    assert exchange.response is not None
    assert exchange.response.json() == PAGE
    assert exchange.response.headers["content-type"] == "application/json"
    assert str(exchange.response.url) == gzip_server


def test_the_size_bound_counts_the_answer_unpacked(
    gzip_bomb_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile server's 2 MB gzip answer unpacked to 2 GB and took 6.3 GB of memory: the
    bound counted the packed bytes."""
    from desktop.cliniko import exchange as module

    monkeypatch.setattr(module, "MAX_BODY_BYTES", 1 << 20)
    with httpx.Client() as http:
        exchange = timed_send(http, http.build_request("GET", gzip_bomb_server))
    assert exchange.response is None and isinstance(exchange.failure, EndlessAnswer)


def test_an_answer_over_the_size_bound_is_a_failure_not_a_response(
    gzip_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.cliniko import exchange as module

    monkeypatch.setattr(module, "MAX_BODY_BYTES", 10)
    with httpx.Client() as http:
        exchange = timed_send(http, http.build_request("GET", gzip_server))
    assert exchange.response is None and isinstance(exchange.failure, EndlessAnswer)
    assert exchange.error == "EndlessAnswer"
