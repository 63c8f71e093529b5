"""The HTTP client for the Cliniko API: auth, pacing, retries, typed errors, an audit hook.

Typical use::

    with ClinikoClient(api_key, on_request=audit.record) as client:
        user = client.get_user()
        for page in client.iter_pages("/patients", [("q[]", "archived_at:*")], "patients"):
            store.save(page.items)

Every HTTP exchange (each retry too) is reported to ``on_request`` as a
:class:`~desktop.cliniko.records.RequestRecord`; an exception raised by that callback
propagates, so a call that can't be audited does not silently carry on.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx

from desktop import APP_NAME, CONTACT_EMAIL, __version__
from desktop.cliniko import errors
from desktop.cliniko.exchange import (
    EndlessAnswer,
    cancellable_send,
    cancelled_record,
    timed_send,
)
from desktop.cliniko.pacing import Pacer
from desktop.cliniko.pages import (
    MAX_PER_PAGE,
    Page,
    PageGuard,
    check_same_origin,
    key_for_path,
    parse_page,
    requested_per_page,
)
from desktop.cliniko.params import Params, param_list, path_id
from desktop.cliniko.records import RequestRecord, redact_url, sha256_hex
from desktop.cliniko.responses import decode_json, error_for, json_object
from desktop.cliniko.retry import IDEMPOTENT_METHODS, backoff_delay, rate_limit_delay
from desktop.cliniko.shards import base_url_for, check_base_url, parse_shard

log = logging.getLogger(__name__)

LONG_PAUSE = 10.0  # seconds: a 429 pause this long is logged as a warning (seen at the CLI)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# before_write(method, path, payload_sha256, field_names) -> finish(status, error_name) | None
WriteFinished = Callable[[int, str | None], None]
BeforeWrite = Callable[[str, str, str, str], WriteFinished | None]

USER_AGENT = f"{APP_NAME}/{__version__} ({CONTACT_EMAIL})"
# Transport errors raised before the request reached the server: safe to repeat any method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# What counts towards a patient's clinical history: count name -> (list endpoint, the filters
# that include archived, and for appointments cancelled, rows left out by default).
HISTORY_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "appointments": ("individual_appointments", ("archived_at:*", "cancelled_at:*")),
    "treatment_notes": ("treatment_notes", ("archived_at:*",)),
    "invoices": ("invoices", ("archived_at:*",)),
    "attachments": ("patient_attachments", ("archived_at:*",)),
}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: making one reads the whole certificate bundle while
    holding the interpreter lock (about 0.1 s in which the window cannot repaint)."""
    return httpx.create_ssl_context()


class ClinikoClient:
    """A paced, retrying client for one Cliniko API key.

    Args:
        api_key: the key; its ``-<shard>`` suffix picks the host.
        base_url: override the host: HTTPS to ``api.<shard>.cliniko.com``, or loopback
            (the simulator, plain HTTP allowed). Defaults to the key's shard host.
        max_requests_per_minute: client-side pacing limit (Cliniko allows 200 per user).
        timeout: seconds for connect/read/write of one attempt.
        max_retries: retries after 5xx, timeouts and dropped connections.
        on_request: called with a :class:`RequestRecord` after every HTTP exchange.
        before_write: called before a POST/PATCH/PUT/DELETE is first sent, with the method,
            the redacted path, the body's SHA-256 and its top-level field names; it must make
            the intent durable (or raise, and nothing is sent). It returns a function that is
            called with the final status (0 when no answer came) and error name, or None.
        sleep: how to wait between attempts. With the default and a ``cancel`` event, waits
            use ``cancel.wait`` so they end the moment the event is set.
        cancel: when set, the current call raises :class:`~errors.Cancelled` at once: before
            an attempt, during a wait, or while a request is in flight (that request is
            abandoned and audited with status 0 and error ``"Cancelled"``).
        burst: requests that may go out back to back before pacing spaces them.
        backoff_base: first retry delay in seconds (doubles per failure, with jitter).
        backoff_max: the longest single retry delay.
        max_rate_limit_wait: the longest wait after one 429.
        max_rate_limit_retries: how many 429s in a row one call tolerates.
        max_rate_limit_total: the longest one call waits on 429s in all (a server asking
            for two minutes each time would otherwise hold one call for sixteen).
        pacer: share one :class:`Pacer` between clients of the same user.

    Raises:
        BadKeyFormat: the key is malformed (nothing is sent).
        InsecureURL: ``base_url`` is neither HTTPS to Cliniko nor loopback.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        max_requests_per_minute: int = 190,
        timeout: float = 30.0,
        max_retries: int = 6,
        on_request: Callable[[RequestRecord], None] | None = None,
        before_write: BeforeWrite | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
        burst: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_rate_limit_wait: float = 120.0,
        max_rate_limit_retries: int = 8,
        max_rate_limit_total: float = 300.0,
        pacer: Pacer | None = None,
    ) -> None:
        key = api_key.strip() if isinstance(api_key, str) else api_key
        self.shard = parse_shard(key)
        self.base_url = check_base_url(base_url or base_url_for(key))
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_rate_limit_wait = max_rate_limit_wait
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_rate_limit_total = max_rate_limit_total
        self.pacer = pacer or Pacer(max_requests_per_minute, burst=burst)
        self._on_request = on_request
        self._before_write = before_write
        self._sleep = sleep
        self._cancel = cancel
        self._pool: ThreadPoolExecutor | None = None  # runs requests when cancellable
        self._pool_lock = threading.Lock()
        self._http = httpx.Client(
            verify=tls_context(),
            auth=httpx.BasicAuth(key, ""),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ClinikoClient(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (an abandoned in-flight request is cut off)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    # ----------------------------------------------------------------- plain verbs

    def get(self, path: str, params: Params = None) -> dict[str, Any]:
        """GET a path (or a same-origin absolute URL) and return the JSON object."""
        return json_object(self.request("GET", path, params=params))

    def patch(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH a JSON body (retried on failure: the same PATCH twice is harmless)."""
        return json_object(self.request("PATCH", path, json=json))

    def post(
        self, path: str, json: Mapping[str, Any] | None = None, *, idempotent: bool = False
    ) -> dict[str, Any] | None:
        """POST and return the JSON object, or ``None`` for an empty answer (204).

        A POST is retried only when it surely never reached Cliniko (connection refused),
        unless ``idempotent=True`` says repeating it is harmless (archive, unarchive).
        """
        response = self.request("POST", path, json=json, idempotent=idempotent)
        if response.status_code == 204 or not response.content.strip():
            return None
        return json_object(response)

    # ----------------------------------------------------------------- lists

    def fetch_page(
        self, path_or_url: str, params: Params = None, *, key: str | None = None
    ) -> Page:
        """Fetch one page of a list endpoint.

        Its ``next_url`` is not checked here: a loop over pages checks each with a
        :class:`~desktop.cliniko.pages.PageGuard` before following it (and a request to
        another host is refused anyway).

        Args:
            path_or_url: ``/patients`` or an absolute ``links.next`` URL on the same host.
            params: query parameters (a list of tuples keeps repeated ``q[]``).
            key: the envelope's array name; defaults to the path's last segment.
        """
        response = self.request("GET", path_or_url, params=params)
        body = decode_json(response, list_page=True)
        try:
            page = parse_page(body, key=key or key_for_path(path_or_url), url=str(response.url))
        except errors.UnexpectedResponse as exc:
            raise errors.UnexpectedResponse(
                exc.detail,
                status=response.status_code,
                method="GET",
                path=redact_url(str(response.url)),
            ) from None
        return replace(page, server_time=server_time(response.headers))

    def page_guard(self, first_url: str) -> PageGuard:
        """A fresh guard for one listing that starts at ``first_url`` (see :class:`PageGuard`)."""
        return PageGuard(self.base_url, requested_per_page(first_url))

    def iter_pages(
        self, path: str, params: Params = None, key: str | None = None
    ) -> Iterator[Page]:
        """Yield every page, following ``links.next``; asks for 100 per page unless told."""
        first = param_list(params)
        if not any(name == "per_page" for name, _ in first):
            first.append(("per_page", MAX_PER_PAGE))
        key = key or key_for_path(path)
        page = self.fetch_page(path, first, key=key)
        guard = self.page_guard(page.url)
        while True:
            link = guard.next_link(page)
            yield page
            if link is None:
                return
            page = self.fetch_page(link, key=key)

    def iter_items(
        self, path: str, params: Params = None, key: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every record of a list endpoint, page after page."""
        for page in self.iter_pages(path, params, key):
            yield from page.items

    # ----------------------------------------------------------------- conveniences

    def get_user(self) -> dict[str, Any]:
        """The Cliniko user who owns the key (``GET /user``): the canonical key check."""
        return self.get("/user")

    def get_public_settings(self) -> dict[str, Any]:
        """``GET /settings/public``: the account (clinic) name, country, terminology."""
        return self.get("/settings/public")

    def get_patient(self, patient_id: str, include_archived: bool = True) -> dict[str, Any]:
        """One patient by id; archived (and merged) patients too unless told otherwise."""
        params = [("q[]", "archived_at:*")] if include_archived else None
        return self.get(f"/patients/{path_id(patient_id)}", params)

    def update_patient(self, patient_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH only ``fields`` of a patient; returns the patient as Cliniko now has it."""
        return self.patch(f"/patients/{path_id(patient_id)}", dict(fields))

    def history_counts(self, patient_id: str) -> dict[str, int]:
        """How many appointments, treatment notes, invoices and attachments a patient has.

        Archived (and cancelled) rows are counted too. Keys: ``appointments``,
        ``treatment_notes``, ``invoices``, ``attachments`` (see :data:`HISTORY_RESOURCES`).
        One request per resource, each asking for a single row.
        """
        pid = path_id(patient_id)
        counts: dict[str, int] = {}
        for name, (resource, extra) in HISTORY_RESOURCES.items():
            params = [("q[]", f"patient_id:={pid}"), *(("q[]", f) for f in extra), ("per_page", 1)]
            counts[name] = self.fetch_page(f"/{resource}", params, key=resource).total_entries
        return counts

    # ----------------------------------------------------------------- machinery

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params = None,
        json: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request with pacing and retries; return the 2xx response.

        A write (POST, PATCH, PUT, DELETE) is first announced to ``before_write``; the
        function it returns is told the final status (0 when no answer came) afterwards.

        Raises:
            ClinikoError: a subclass naming what went wrong (see ``errors``).
        """
        method = method.upper()
        url = self._absolute(path_or_url)
        body = None
        headers: dict[str, str] = {}
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        finish = None
        if self._before_write is not None and method in WRITE_METHODS:
            fields = ",".join(str(name) for name in json) if json else ""
            finish = self._before_write(method, redact_url(url), sha256_hex(body), fields)
        try:
            response = self._send(method, url, params, body, headers, idempotent)
        except BaseException as exc:
            if finish is not None:
                finish(int(getattr(exc, "status", None) or 0), type(exc).__name__)
            raise
        if finish is not None:
            finish(response.status_code, None)
        return response

    def _send(
        self,
        method: str,
        url: str,
        params: Params,
        body: bytes | None,
        headers: dict[str, str],
        idempotent: bool | None,
    ) -> httpx.Response:
        """The pacing and retry loop of :meth:`request`."""
        retry_unknown = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        query = param_list(params) if params is not None else None
        failures = limited = attempt = 0
        limited_for = 0.0  # seconds this call has waited on 429s
        while True:
            self._wait(self.pacer.reserve())
            attempt += 1
            path, response, exc = self._send_once(method, url, query, body, headers, attempt)
            if exc is not None:
                self._check_cancel()
                if isinstance(exc, EndlessAnswer):  # asking again would only start it again
                    log.warning("Cliniko %s: the answer went on too long (%s)", method, exc)
                    raise errors.EndlessResponse(str(exc), method=method, path=path) from exc
                failures += 1
                never_sent = isinstance(exc, _NEVER_SENT)
                if failures > self.max_retries or not (retry_unknown or never_sent):
                    log.warning("Cliniko %s failed: %s (gave up)", method, type(exc).__name__)
                    failure = _failure_kind(exc)
                    raise failure(type(exc).__name__, method=method, path=path) from exc
                self._backoff(failures, method, type(exc).__name__, path)
                continue
            assert response is not None
            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 429:
                # Cliniko did not process the request, so any method may be repeated.
                limited += 1
                delay = rate_limit_delay(
                    response.headers, now=time.time(), cap=self.max_rate_limit_wait
                )
                self.pacer.hold_for(delay)  # every caller sharing the pacer waits
                limited_for += delay
                if limited > self.max_rate_limit_retries or limited_for > self.max_rate_limit_total:
                    log.warning("Cliniko kept answering 429 to %s; giving up", method)
                    raise errors.RateLimited(status=status, method=method, path=path)
                # A long pause is said where a person at the command line sees it.
                level = logging.WARNING if delay >= LONG_PAUSE else logging.INFO
                log.log(level, "Cliniko asked MergeDesk to slow down: pausing %.0f s", delay)
                continue
            if status >= 500:
                failures += 1
                if failures > self.max_retries or not retry_unknown:
                    log.warning("Cliniko %s answered %d (gave up)", method, status)
                    raise errors.ClinikoUnavailable(status=status, method=method, path=path)
                self._backoff(failures, method, f"HTTP {status}", path)
                continue
            raise error_for(response, method, path)

    def _send_once(
        self,
        method: str,
        url: str,
        query: list[tuple[str, Any]] | None,
        body: bytes | None,
        headers: dict[str, str],
        attempt: int,
    ) -> tuple[str, httpx.Response | None, httpx.TransportError | None]:
        """One HTTP exchange, reported to ``on_request``: (redacted path, response, error)."""
        request = self._http.build_request(method, url, params=query, content=body, headers=headers)
        path = redact_url(str(request.url))
        if self._cancel is None:
            exchange = timed_send(self._http, request)
        else:
            try:
                exchange = cancellable_send(self._worker_pool(), self._http, request, self._cancel)
            except errors.Cancelled as exc:
                if self._on_request is not None:
                    self._on_request(cancelled_record(method, path, body, attempt))
                raise errors.Cancelled(exc.detail, method=method, path=path) from None
        log.debug(
            "%s %s -> %s (%.0f ms)",
            method,
            path.partition("?")[0],
            exchange.status or exchange.error,
            exchange.duration_ms,
        )
        if self._on_request is not None:
            self._on_request(exchange.record(method, path, body, attempt))
        return path, exchange.response, exchange.failure

    def _worker_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cliniko")
            return self._pool

    def _absolute(self, path_or_url: str) -> str:
        if "://" in path_or_url:
            return check_same_origin(path_or_url, self.base_url)
        if path_or_url.startswith("//") or "/../" in f"/{path_or_url}/":
            raise errors.InsecureURL("refused a path that leaves the API")
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def _backoff(self, failures: int, method: str, reason: str, path: str) -> None:
        delay = backoff_delay(failures, base=self.backoff_base, cap=self.backoff_max)
        log.info("Cliniko %s failed (%s); retry %d in %.2f s", method, reason, failures, delay)
        log.debug("retrying %s %s", method, path.partition("?")[0])
        self._wait(delay)

    def _wait(self, seconds: float) -> None:
        """Wait, waking up early (with Cancelled) if the cancel event is set."""
        self._check_cancel()
        if seconds <= 0:
            return
        if self._cancel is not None and self._sleep is time.sleep:
            if self._cancel.wait(seconds):
                raise errors.Cancelled("cancelled while waiting")
            return
        self._sleep(seconds)
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise errors.Cancelled("cancel event set")


def server_time(headers: Mapping[str, str]) -> datetime | None:
    """The server's clock from an HTTP ``Date`` header (UTC), or None if absent or unreadable."""
    value = headers.get("date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _failure_kind(error: BaseException) -> type[errors.Offline]:
    """What a network failure says: an answer cut off part-way, none in time from a server
    that was reached, or no connection at all."""
    if _cut_off(error):
        return errors.TruncatedResponse
    if isinstance(error, httpx.ReadTimeout):
        return errors.NoAnswer
    return errors.Offline


def _cut_off(error: BaseException) -> bool:
    """True when the server answered but its body stopped short of what it announced."""
    return isinstance(error, httpx.RemoteProtocolError) and "message body" in str(error)
