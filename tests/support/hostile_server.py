"""A small, deliberately misbehaving Cliniko on loopback, for tests of what a sync survives.

It serves ``/v1/user``, ``/v1/settings/public`` and ``/v1/patients`` (honouring
``updated_at`` filters, ``sort=updated_at[:desc]``, ``page`` and ``per_page`` capped at
``page_size``), and misbehaves as told through :attr:`HostileServer.trick`:

* ``back_to_first``: page 2 links back to page 1.
* ``to_itself``: page 2 links to page 2.
* ``growing``: from page 2, every page brings new made-up records and a next link 300
  characters longer, with a total_entries of a million.
* ``empty_pages``: the last real page links on to empty pages that keep linking on.
* ``foreign``: page 2 links to another host.
* ``overrun``: after the real pages, pages of new made-up records keep coming, while
  total_entries still says 10.
* ``deep``: page 2 is JSON nested 100,000 deep.

A record's field set to :data:`NESTED_100K` is sent as a list nested 100,000 deep (one bad
record on an otherwise good page), whatever the trick.
* ``truncated``: every answer announces 500 bytes more than it sends, then hangs up.

Set ``trick = None`` and the server behaves. It is bounded: after ``max_requests`` requests it
answers 410 to everything, so a client that would loop forever fails quickly instead; and it
stops with its ``with`` block.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DEEP = 100_000
NESTED_100K = "stands for a list nested DEEP levels deep"


def patient(pid: int, updated_at: str = "2024-03-01T10:00:00Z", **fields: Any) -> dict[str, Any]:
    """A plain, valid patient record."""
    record: dict[str, Any] = {
        "id": str(pid),
        "first_name": f"Given{pid}",
        "last_name": f"Family{pid}",
        "date_of_birth": "1980-01-01",
        "patient_phone_numbers": [{"number": "0400 000 000", "phone_type": "Mobile"}],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": updated_at,
        "archived_at": None,
        "merged_at": None,
        "merged_with_patient": None,
    }
    record.update(fields)
    return record


class HostileServer:
    """The server and the records it serves (``records`` may be edited between syncs)."""

    def __init__(
        self,
        records: list[dict[str, Any]] | None = None,
        *,
        page_size: int = 4,
        max_requests: int = 200,
        account_id: str = "77",
    ) -> None:
        self.records = records if records is not None else [patient(i) for i in range(1, 11)]
        self.page_size = page_size
        self.max_requests = max_requests
        self.account_id = account_id
        self.trick: str | None = None
        self.requests = 0
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The API root, ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ----- answers -------------------------------------------------------------------------
    def answer(self, path: str, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        """The status and body for one GET."""
        with self.lock:
            self.requests += 1
            if self.requests > self.max_requests:
                return 410, b'{"message": "request budget of the hostile server spent"}'
        if path == "/v1/user":
            return 200, _json({"id": "5", "first_name": "Hostile", "last_name": "Admin"})
        if path == "/v1/settings/public":
            account = {"id": self.account_id, "name": "Hostile clinic", "subdomain": "hostile"}
            return 200, _json({"account": account, "terminology": {"patient": "patient"}})
        if path == "/v1/patients":
            return 200, self._patients(query)
        return 404, b'{"message": "not found"}'

    def _patients(self, query: list[tuple[str, str]]) -> bytes:
        args = dict(query)
        page = int(args.get("page", "1"))
        per = min(int(args.get("per_page", "50")), self.page_size)
        rows = list(self.records)
        for name, value in query:
            if name == "q[]" and value.startswith("updated_at:>="):
                since = value.removeprefix("updated_at:>=")
                rows = [r for r in rows if str(r.get("updated_at", "")) >= since]
        sort = args.get("sort", "")
        if sort.startswith("updated_at"):
            rows.sort(key=lambda r: str(r.get("updated_at", "")), reverse=sort.endswith("desc"))
        if self.trick == "growing" and page >= 2:
            items = [patient(100_000 + page * per + i) for i in range(per)]
            body = {"patients": items, "total_entries": 1_000_000}
            body["links"] = {"next": self._link(query, page + 1, pad="x" * 300 * page)}
            return _json(body)
        if self.trick == "overrun" and page * per > len(rows):
            items = [patient(200_000 + page * per + i) for i in range(per)]
            body = {"patients": items, "total_entries": len(rows)}
            body["links"] = {"next": self._link(query, page + 1)}
            return _json(body)
        if self.trick == "deep" and page == 2:
            return b'{"patients": [' + b"[" * DEEP + b"]" * DEEP + b'], "total_entries": 1}'
        items = rows[(page - 1) * per : page * per]
        last = page * per >= len(rows)
        links: dict[str, str] = {"self": self._link(query, page)}
        if not last:
            links["next"] = self._link(query, page + 1)
        if self.trick == "back_to_first" and page == 2:
            links["next"] = self._link(query, 1)
        elif self.trick == "to_itself" and page == 2:
            links["next"] = self._link(query, 2)
        elif self.trick == "foreign" and page == 2:
            links["next"] = "http://evil.example:8080/v1/patients?page=3"
        elif self.trick == "empty_pages" and (last or not items):
            links["next"] = self._link(query, page + 1)
        return _json({"patients": items, "total_entries": len(rows), "links": links})

    def _link(self, query: list[tuple[str, str]], page: int, pad: str = "") -> str:
        kept = [(k, v) for k, v in query if k not in ("page", "pad")] + [("page", str(page))]
        if pad:
            kept.append(("pad", pad))
        return f"{self.base_url}/patients?{urlencode(kept)}"


def _json(value: Any) -> bytes:
    # ensure_ascii keeps a lone surrogate as the escape \ud800, as a broken server would send.
    text = json.dumps(value, ensure_ascii=True)
    return text.replace(json.dumps(NESTED_100K), "[" * DEEP + "]" * DEEP).encode()


def _handler_for(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = server.answer(parts.path, parse_qsl(parts.query))
            self.send_response(status)  # adds the Date header
            self.send_header("Content-Type", "application/json")
            cut = 500 if server.trick == "truncated" else 0  # announce more than is sent
            self.send_header("Content-Length", str(len(body) + cut))
            self.close_connection = bool(cut)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
