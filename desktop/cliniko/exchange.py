"""One HTTP exchange, timed for the audit trail; optionally abandoned when cancelled.

The network part may run on a worker thread (so that a cancel takes effect at once), but
the audit record is always built and reported on the caller's thread: audit stores are
often thread-bound (SQLite connections are).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from desktop.cliniko.errors import Cancelled
from desktop.cliniko.records import RequestRecord, sha256_hex, utc_now_iso

CANCEL_POLL = 0.05  # seconds between looks at the cancel event while a request is in flight
# A page of 100 patients is a few hundred kB and comes in a second or two: an answer past
# either bound is a server that would otherwise fill the memory or never finish.
MAX_BODY_BYTES = 64 * 2**20
MAX_ANSWER_SECONDS = 300.0


class EndlessAnswer(httpx.TransportError):
    """The body went on past :data:`MAX_BODY_BYTES` or :data:`MAX_ANSWER_SECONDS`; reading
    stopped there."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """What came back from one send: a response or a transport error, and the timing."""

    response: httpx.Response | None
    failure: httpx.TransportError | None
    timestamp: str
    duration_ms: float

    @property
    def status(self) -> int:
        """The HTTP status, or 0 when no response arrived."""
        return self.response.status_code if self.response is not None else 0

    @property
    def error(self) -> str | None:
        """The transport error's class name, if any."""
        return type(self.failure).__name__ if self.failure is not None else None

    def record(self, method: str, path: str, body: bytes | None, attempt: int) -> RequestRecord:
        """The audit record of this exchange."""
        content = self.response.content if self.response is not None else b""
        return RequestRecord(
            method=method,
            path=path,
            status=self.status,
            payload_sha256=sha256_hex(body),
            response_sha256=sha256_hex(content),
            duration_ms=self.duration_ms,
            timestamp=self.timestamp,
            attempt=attempt,
            error=self.error,
        )


def timed_send(http: httpx.Client, request: httpx.Request) -> Exchange:
    """Send ``request`` once; transport errors are returned, not raised."""
    started, stamp = time.perf_counter(), utc_now_iso()
    response: httpx.Response | None = None
    failure: httpx.TransportError | None = None
    try:
        response = _bounded(http.send(request, stream=True), started)
    except httpx.TransportError as exc:
        failure = exc
    duration = round((time.perf_counter() - started) * 1000, 3)
    return Exchange(response, failure, stamp, duration)


def _bounded(streamed: httpx.Response, started: float) -> httpx.Response:
    """The answer read whole, if it ends within the bounds (else :class:`EndlessAnswer`)."""
    body = bytearray()
    try:
        # Counted as unpacked: a 2 MB gzip answer can unpack to gigabytes.
        for chunk in streamed.iter_bytes():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise EndlessAnswer(f"over {MAX_BODY_BYTES >> 20} MB", request=streamed.request)
            if time.perf_counter() - started > MAX_ANSWER_SECONDS:
                raise EndlessAnswer(f"over {MAX_ANSWER_SECONDS:.0f} s", request=streamed.request)
    finally:
        streamed.close()
    # The same answer, readable as usual (already unpacked, so without its packing headers).
    headers = streamed.headers.copy()
    for packing in ("content-encoding", "content-length"):
        headers.pop(packing, None)
    return httpx.Response(
        streamed.status_code,
        headers=headers,
        content=bytes(body),
        request=streamed.request,
    )


def cancellable_send(
    pool: ThreadPoolExecutor, http: httpx.Client, request: httpx.Request, cancel: threading.Event
) -> Exchange:
    """Like :func:`timed_send`, but raise Cancelled as soon as ``cancel`` is set.

    An abandoned request still runs to its end (bounded by the timeout) on the pool; its
    outcome is unknown to the caller, who should record it as such.
    """
    future: Future[Exchange] = pool.submit(timed_send, http, request)
    while True:
        try:
            return future.result(timeout=CANCEL_POLL)
        except TimeoutError:
            if cancel.is_set():
                raise Cancelled("cancelled while a request was in flight") from None


def cancelled_record(method: str, path: str, body: bytes | None, attempt: int) -> RequestRecord:
    """The audit record of a request abandoned in flight: no status, outcome unknown."""
    return RequestRecord(
        method=method,
        path=path,
        status=0,
        payload_sha256=sha256_hex(body),
        response_sha256=sha256_hex(b""),
        duration_ms=0.0,
        timestamp=utc_now_iso(),
        attempt=attempt,
        error="Cancelled",
    )
