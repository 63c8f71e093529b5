"""A small, deliberately misbehaving Cliniko on loopback, for tests of what a sync survives.

It serves ``/v1/user``, ``/v1/settings/public``, ``/v1/patients`` (honouring ``updated_at``
filters, ``sort=updated_at[:desc]``, ``page`` and ``per_page`` capped at ``page_size``) and the
watch's two listings, ``/v1/individual_appointments`` and ``/v1/treatment_notes`` (their
records as they are, unfiltered). The listing named by :attr:`HostileServer.tricked`
(``patients`` unless told) misbehaves as told through :attr:`HostileServer.trick`:

* ``back_to_first``: page 2 links back to page 1.
* ``to_itself``: page 2 links to page 2.
* ``growing``: from page 2, every page brings new made-up records and a next link 300
  characters longer, with a total_entries of a million.
* ``empty_pages``: the last real page links on to empty pages that keep linking on.
* ``foreign``: page 2 links to another host.
* ``overrun``: after the real pages, pages of new made-up records keep coming, while
  total_entries still says 10.
* ``deep``: page 2 is JSON nested 100,000 deep.
* ``ends_early``: page 2 has no next link, while total_entries still counts every record.

A record's field set to :data:`NESTED_100K` is sent as a list nested 100,000 deep (one bad
record on an otherwise good page), whatever the trick.
* ``truncated``: every answer announces 500 bytes more than it sends, then hangs up.
* ``endless``: the listing's answer is a JSON body that never ends (chunk after chunk).
* ``drip``: the listing's answer never ends either, one byte every 20 ms.

Set ``trick = None`` and the server behaves. It is bounded: after ``max_requests`` requests it
answers 410 to everything, so a client that would loop forever fails quickly instead; and it
stops with its ``with`` block.
"""

from __future__ import annotations

import json
import threading
import time
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


def appointment(n: int, of: dict[str, Any], starts_at: str = "2030-01-07T09:00:00Z") -> dict:
    """An individual appointment of the patient ``of``, far ahead (every window holds it)."""
    return {
        "id": str(5_000 + n),
        "starts_at": starts_at,
        "ends_at": starts_at,
        "patient": {"links": {"self": f"https://api/v1/patients/{of['id']}"}},
        "cancelled_at": None,
        "deleted_at": None,
        "archived_at": None,
    }


def treatment_note(n: int, of: dict[str, Any], created_at: str = "2030-01-07T09:00:00Z") -> dict:
    """A treatment note of the patient ``of`` (its date and patient, as the watch reads it)."""
    return {
        "id": str(6_000 + n),
        "created_at": created_at,
        "patient": {"links": {"self": f"https://api/v1/patients/{of['id']}"}},
        "deleted_at": None,
        "archived_at": None,
    }


def made_up(name: str, n: int) -> dict[str, Any]:
    """A new record of the listing ``name`` (for the tricks that keep inventing them)."""
    if name == "patients":
        return patient(n)
    of = patient(n % 10 + 1)
    return appointment(n, of) if name == "individual_appointments" else treatment_note(n, of)


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
        self.appointments = [appointment(i, self.records[i % len(self.records)]) for i in range(10)]
        self.notes = [treatment_note(i, self.records[i % len(self.records)]) for i in range(10)]
        self.tricked = "patients"
        self.page_size = page_size
        self.max_requests = max_requests
        self.account_id = account_id
        self.trick: str | None = None
        self.date: str | None = None  # the Date header, when not this computer's clock
        self.requests = 0
        self.asked: list[str] = []  # the path of every GET, in order
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
        name = path.removeprefix("/v1/")
        if name == "patients":
            return 200, self._listing(name, self._patients(query), query)
        if name == "individual_appointments":
            return 200, self._listing(name, self.appointments, query)
        if name == "treatment_notes":
            return 200, self._listing(name, self.notes, query)
        return 404, b'{"message": "not found"}'

    def _patients(self, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        rows = list(self.records)

        def stamp(record: Any) -> str:  # an element that is no record (null) sorts first
            return str(record.get("updated_at", "")) if isinstance(record, dict) else ""

        for name, value in query:
            if name == "q[]" and value.startswith("updated_at:>="):
                since = value.removeprefix("updated_at:>=")
                rows = [r for r in rows if not isinstance(r, dict) or stamp(r) >= since]
        sort = dict(query).get("sort", "")
        if sort.startswith("updated_at"):
            rows.sort(key=stamp, reverse=sort.endswith("desc"))
        return rows

    def _listing(
        self, name: str, rows: list[dict[str, Any]], query: list[tuple[str, str]]
    ) -> bytes:
        args = dict(query)
        page = int(args.get("page", "1"))
        per = min(int(args.get("per_page", "50")), self.page_size)
        trick = self.trick if name == self.tricked else None
        if trick == "growing" and page >= 2:
            items = [made_up(name, 100_000 + page * per + i) for i in range(per)]
            body = {name: items, "total_entries": 1_000_000}
            body["links"] = {"next": self._link(name, query, page + 1, pad="x" * 300 * page)}
            return _json(body)
        if trick == "overrun" and page * per > len(rows):
            items = [made_up(name, 200_000 + page * per + i) for i in range(per)]
            body = {name: items, "total_entries": len(rows)}
            body["links"] = {"next": self._link(name, query, page + 1)}
            return _json(body)
        if trick == "deep" and page == 2:
            return f'{{"{name}": ['.encode() + b"[" * DEEP + b"]" * DEEP + b'], "total_entries": 1}'
        items = rows[(page - 1) * per : page * per]
        last = page * per >= len(rows)
        links: dict[str, str] = {"self": self._link(name, query, page)}
        if not last:
            links["next"] = self._link(name, query, page + 1)
        if trick == "back_to_first" and page == 2:
            links["next"] = self._link(name, query, 1)
        elif trick == "to_itself" and page == 2:
            links["next"] = self._link(name, query, 2)
        elif trick == "foreign" and page == 2:
            links["next"] = f"http://evil.example:8080/v1/{name}?page=3"
        elif trick == "empty_pages" and (last or not items):
            links["next"] = self._link(name, query, page + 1)
        elif trick == "ends_early" and page == 2:
            links.pop("next", None)
        return _json({name: items, "total_entries": len(rows), "links": links})

    def _link(self, name: str, query: list[tuple[str, str]], page: int, pad: str = "") -> str:
        kept = [(k, v) for k, v in query if k not in ("page", "pad")] + [("page", str(page))]
        if pad:
            kept.append(("pad", pad))
        return f"{self.base_url}/{name}?{urlencode(kept)}"


def _json(value: Any) -> bytes:
    # ensure_ascii keeps a lone surrogate as the escape \ud800, as a broken server would send.
    text = json.dumps(value, ensure_ascii=True)
    return text.replace(json.dumps(NESTED_100K), "[" * DEEP + "]" * DEEP).encode()


def _handler_for(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return server.date or super().date_time_string(timestamp)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with server.lock:
                server.asked.append(parts.path)
            if server.trick in ("endless", "drip") and parts.path == f"/v1/{server.tricked}":
                self._send_without_end(server.trick == "drip")
                return
            status, body = server.answer(parts.path, parse_qsl(parts.query))
            self.send_response(status)  # adds the Date header
            self.send_header("Content-Type", "application/json")
            cut = 500 if server.trick == "truncated" else 0  # announce more than is sent
            self.send_header("Content-Length", str(len(body) + cut))
            self.close_connection = bool(cut)
            self.end_headers()
            self.wfile.write(body)

        def _send_without_end(self, drip: bool) -> None:
            """A body with no length that goes on until the client hangs up (or a minute or
            256 MB have passed): an HTTP/1.0 answer ends only when its connection closes."""
            with server.lock:
                server.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.close_connection = True
            piece = b" " if drip else b"[" + b"0," * 32_767 + b"0],"
            deadline = time.monotonic() + 60
            try:
                self.wfile.write(b'{"%s": [' % server.tricked.encode())
                for _ in range((256 << 20) // len(piece)):
                    if time.monotonic() > deadline:
                        break
                    self.wfile.write(piece)
                    if drip:
                        time.sleep(0.02)
            except OSError:
                pass  # the client stopped reading

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
