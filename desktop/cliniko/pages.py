"""Cliniko's list envelope: ``{"<key>": [...], "total_entries": n, "links": {"next": ...}}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from desktop.cliniko.errors import InsecureURL, UnexpectedResponse

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint.

    Attributes:
        items: the records on this page (IDs stay strings).
        total_entries: how many records the whole listing has.
        next_url: the absolute URL of the next page, or ``None`` on the last page.
        url: the absolute URL this page was fetched from.
    """

    items: list[dict[str, Any]] = field(repr=False)
    total_entries: int
    next_url: str | None = field(repr=False)
    url: str = field(repr=False)

    @property
    def is_last(self) -> bool:
        """True when there is no next page."""
        return self.next_url is None


def key_for_path(path: str) -> str:
    """The envelope key Cliniko uses for a list path: ``/v1/patients?x`` -> ``patients``."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        raise ValueError("a list path needs at least one segment")
    return segments[-1]


def parse_page(body: Any, *, key: str, url: str) -> Page:
    """Validate a list envelope and turn it into a :class:`Page`.

    Raises:
        UnexpectedResponse: the body is not an object, lacks ``key`` as a list of objects,
            or lacks an integer ``total_entries``.
    """
    if not isinstance(body, dict):
        raise UnexpectedResponse("list response is not a JSON object")
    items = body.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UnexpectedResponse(f"list response has no {key!r} array of objects")
    total = body.get("total_entries")
    if isinstance(total, bool) or not isinstance(total, int):
        raise UnexpectedResponse("list response has no integer total_entries")
    links = body.get("links")
    next_url = links.get("next") if isinstance(links, dict) else None
    if next_url is not None and not isinstance(next_url, str):
        raise UnexpectedResponse("links.next is not a string")
    return Page(items=items, total_entries=total, next_url=next_url or None, url=url)


def check_same_origin(url: str, base_url: str) -> str:
    """Return ``url`` if it has the scheme, host and port of ``base_url`` and lies under its path.

    Raises:
        InsecureURL: the URL points anywhere else (a next link must never leave Cliniko's
            host: the client would send the API key there).
    """
    target, base = urlsplit(url), urlsplit(base_url)
    try:
        same = (
            target.scheme.lower() == base.scheme.lower()
            and (target.hostname or "").lower() == (base.hostname or "").lower()
            and _port(target.scheme, target.port) == _port(base.scheme, base.port)
            and not target.username
            and not target.password
        )
    except ValueError:
        same = False
    prefix = base.path.rstrip("/") + "/"
    if not same or not (target.path + "/").startswith(prefix) or "/../" in target.path + "/":
        raise InsecureURL("refused a link that leaves the Cliniko host")
    return url


def _port(scheme: str, port: int | None) -> int | None:
    if port is not None:
        return port
    return {"https": 443, "http": 80}.get(scheme.lower())
