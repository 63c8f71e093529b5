"""HTTP plumbing: a keep-alive ThreadingHTTPServer that applies faults, auth and rate limits."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from desktop.simulator.api import Api, Request, Response, error, handle, html_response
from desktop.simulator.faults import Fault, FaultInjector
from desktop.simulator.ratelimit import RateLimiter, reset_headers

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
_MAX_BODY = 10 * 1024 * 1024
_GATEWAY_PAGE = "<html><body><h1>{code} {reason}</h1></body></html>"
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class Stats:
    """Request counters, safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._total = 0
            self._routes: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()
            self._dropped = 0
            self._no_user_agent = 0

    def request(self, route: str, has_user_agent: bool) -> None:
        """Count one incoming request."""
        with self._lock:
            self._total += 1
            self._routes[route] += 1
            if not has_user_agent:
                self._no_user_agent += 1

    def response(self, status: int | None) -> None:
        """Count one answer (None: the connection was dropped)."""
        with self._lock:
            if status is None:
                self._dropped += 1
            else:
                self._statuses[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict."""
        with self._lock:
            return {
                "requests_total": self._total,
                "requests_by_route": dict(self._routes),
                "responses_by_status": dict(self._statuses),
                "responses_429": self._statuses[429],
                "responses_5xx": sum(n for s, n in self._statuses.items() if s >= 500),
                "dropped": self._dropped,
                "requests_without_user_agent": self._no_user_agent,
            }


class Gate:
    """Everything between the socket and the routes: faults, auth, rate limit, stats."""

    def __init__(
        self,
        api: Api,
        api_key: Callable[[], str],
        limiter: RateLimiter,
        faults: FaultInjector,
    ) -> None:
        self.api = api
        self.api_key = api_key
        self.limiter = limiter
        self.faults = faults
        self.stats = Stats()
        # Called before each request is answered (live mode lets arrivals that are due in).
        self.before_request: Callable[[], None] = lambda: None

    def _authorised_key(self, header: str | None) -> str | None:
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username = decoded.partition(":")[0]
        key = self.api_key()
        if username == key or (key.count("-") == 1 and username == key.split("-")[0]):
            return key
        return None

    def process(self, method: str, target: str, headers: Any, body: bytes) -> Response | None:
        """Answer one request; None means: drop the connection without answering."""
        parts = urlsplit(target)
        path = parts.path or "/"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        sub = (path[len(API_PREFIX) :] or "/") if is_api else path
        routes = self.api.api_routes if is_api else self.api.web_routes
        label, handler, match = self.api.route(routes, method, sub)
        if not is_api:
            label += " (web)"
        self.stats.request(label, bool(headers.get("User-Agent")))
        request = Request(method, sub, pairs, body, match)
        try:
            self.before_request()
            if is_api:
                response = self._api(request, headers, handler)
            elif handler is None:
                response = html_response(404, "<html><body><h1>Not found</h1></body></html>")
            else:
                response = handle(handler, request)
        except Exception as exc:  # a simulator bug: answer 500 rather than hang the client
            log.error("simulator failed on %s: %s", label, type(exc).__name__)
            log.debug("simulator failure details", exc_info=True)
            response = error(500, "Internal Server Error")
        self.stats.response(None if response is None else response.status)
        return response

    def _api(self, request: Request, headers: Any, handler: Any) -> Response | None:
        self.faults.delay()
        fault, status = self.faults.decide()
        if fault is Fault.DROP:
            return None
        if fault is Fault.STORM:
            now = self.limiter.clock()
            return _too_many(self.faults.storm_until() or now + 1, now)
        if fault is Fault.ERROR:
            if status == 500:
                return error(500, "Internal Server Error")
            page = _GATEWAY_PAGE.format(code=status, reason=_REASONS[status])
            return Response(status, page.encode(), {"Content-Type": "text/html"})
        key = self._authorised_key(headers.get("Authorization"))
        if key is None:
            response = error(401, "Unauthorized: invalid or missing API key")
            response.headers["WWW-Authenticate"] = 'Basic realm="Cliniko API"'
            return response
        reset_at = self.limiter.check(key)
        if reset_at is not None:
            return _too_many(reset_at, self.limiter.clock())
        if handler is None:
            return error(404, "Not found")
        return handle(handler, request)


def _too_many(reset_at: float, now: float) -> Response:
    response = error(429, "Too Many Requests")
    response.headers.update(reset_headers(reset_at, now))
    return response


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, every answer has a Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "ClinikoSimulator/1.0"
    timeout = 120
    server: SimulatorHTTPServer

    def setup(self) -> None:
        """Register the connection so stop() can close idle keep-alive sockets."""
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive answer.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        """Unregister the connection."""
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines go to DEBUG only: URLs can carry patient names in filters."""
        log.debug("%s - %s", self.address_string(), format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length > 0 else b""
        response = self.server.gate.process(self.command, self.path, self.headers, body)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gate: Gate) -> None:
        self.gate = gate
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Remember or forget an open connection."""
        with self._conn_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up first (timeouts, cancels); log anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        log.warning("Simulator connection error: %s", type(error).__name__)

    def close_connections(self) -> None:
        """Shut every open connection (used on stop)."""
        with self._conn_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
