"""What the client reports after every HTTP exchange, for the audit trail.

A :class:`RequestRecord` names the call without carrying patient data: the path keeps
parameter names, paging and sorting, and each ``q[]`` filter's field and operator, but a
filter's value (a name, a date of birth, an email) is replaced by ``…`` unless it is ``*``.
Bodies are represented only by their SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

REDACTED = "…"
# Parameters that never carry patient data and are kept verbatim.
SAFE_PARAMS = frozenset({"page", "per_page", "sort", "order"})
# Longest first, so "~~" wins over "~" and "!?" over "?".
FILTER_OPERATORS = ("~~", "!?", "!=", ">=", "<=", "=", ">", "<", "~", "?", "*")
# Operators that take no value: "field:?", "field:!?", "field:*".
VALUELESS_OPERATORS = frozenset({"?", "!?", "*"})


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP exchange with Cliniko (retried attempts each get their own record).

    Attributes:
        method: ``GET``, ``PATCH``, ``POST`` ...
        path: URL path without host, with filter values redacted (see :func:`redact_url`).
        status: the HTTP status, or 0 when no response arrived.
        payload_sha256: hex SHA-256 of the request body bytes (of ``b""`` when none).
        response_sha256: hex SHA-256 of the response body bytes (of ``b""`` when none).
        duration_ms: wall time of the exchange in milliseconds.
        timestamp: UTC ISO-8601 time the request started.
        attempt: 1 for the first try, 2 for the first retry, ...
        error: the exception class name when no response arrived, else ``None``.
    """

    method: str
    path: str
    status: int
    payload_sha256: str
    response_sha256: str
    duration_ms: float
    timestamp: str
    attempt: int = 1
    error: str | None = None


def sha256_hex(data: bytes | None) -> str:
    """Hex SHA-256 of ``data`` (of ``b""`` for ``None``)."""
    return hashlib.sha256(data or b"").hexdigest()


def utc_now_iso() -> str:
    """The current UTC time as ISO-8601 with a ``Z`` suffix and millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact_filter(value: str) -> str:
    """Redact one ``q[]`` value: ``last_name:~Smith`` -> ``last_name:~…``.

    Keeps the field and operator, drops the value unless it is the ``*`` wildcard. A value
    without a recognisable ``field:operator`` prefix is replaced entirely.
    """
    field, sep, rest = value.partition(":")
    if not sep or not field.replace("_", "").isalnum():
        return REDACTED
    for op in FILTER_OPERATORS:
        if rest.startswith(op):
            tail = rest[len(op) :]
            if op in VALUELESS_OPERATORS and not tail:
                return f"{field}:{op}"
            return f"{field}:{op}{REDACTED}"
    return f"{field}:{REDACTED}"


def redact_url(url: str) -> str:
    """Return the path and a redacted query of ``url`` (absolute or relative).

    ``https://api.au1.cliniko.com/v1/patients?q[]=last_name:~Sm&page=2`` becomes
    ``/v1/patients?q[]=last_name:~…&page=2``.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if not parts.query:
        return path
    kept: list[str] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in SAFE_PARAMS:
            kept.append(f"{name}={value}")
        elif name in ("q[]", "q"):
            kept.append(f"{name}={redact_filter(value)}")
        else:
            kept.append(f"{name}={REDACTED}")
    return f"{path}?{'&'.join(kept)}"
