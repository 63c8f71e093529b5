"""Cliniko's list envelope: ``{"<key>": [...], "total_entries": n, "links": {"next": ...}}``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from desktop.cliniko.deep_json import NOT_AN_OBJECT
from desktop.cliniko.errors import ForeignLink, PagingStopped, UnexpectedResponse

MAX_PER_PAGE = 100
# A links.next longer than this is not one Cliniko would send (theirs are ~200 characters).
MAX_LINK_CHARS = 2000
# Pages a listing may run beyond what its total_entries needs (records added while paging).
SPARE_PAGES = 2


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint.

    Attributes:
        items: the records on this page (IDs stay strings).
        total_entries: how many records the whole listing has.
        next_url: the absolute URL of the next page, or ``None`` on the last page.
        url: the absolute URL this page was fetched from.
        server_time: the server's clock when it answered (the HTTP ``Date`` header), if sent.
    """

    items: list[dict[str, Any]] = field(repr=False)
    total_entries: int
    next_url: str | None = field(repr=False)
    url: str = field(repr=False)
    server_time: datetime | None = None

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
    if not isinstance(items, list):
        raise UnexpectedResponse(f"list response has no {key!r} array")
    # One element that is no object (null, an array) is one bad record, kept aside by the
    # sync, not a page nobody can read (that stopped every sync for good).
    items = [i if isinstance(i, dict) else {NOT_AN_OBJECT: i} for i in items]
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
        ForeignLink: the URL points anywhere else (a next link must never leave Cliniko's
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
        raise ForeignLink("refused a link that leaves the Cliniko host")
    return url


def _port(scheme: str, port: int | None) -> int | None:
    if port is not None:
        return port
    return {"https": 443, "http": 80}.get(scheme.lower())


class PageGuard:
    """Makes sure a paging loop ends: every loop over ``links.next`` asks it before following.

    A listing is stopped (:class:`PagingStopped`, or :class:`ForeignLink` for another host)
    when its next link points to a page already read, leaves the API base, keeps growing past
    :data:`MAX_LINK_CHARS`, follows a page that brought nothing new (no records, or only
    records already seen in this listing), or runs past the pages ``total_entries`` allows.

    Args:
        base_url: the API base every link must stay under.
        per_page: records asked for per page (to turn ``total_entries`` into a page count).
    """

    def __init__(self, base_url: str, per_page: int = MAX_PER_PAGE) -> None:
        self.base_url = base_url
        self.per_page = max(1, per_page)
        self.pages = 0
        self.most_entries = 0
        self._urls: set[str] = set()
        self._ids: set[str] = set()

    def next_link(self, page: Page) -> str | None:
        """Check ``page`` and return the link to follow, or None after the last page.

        Raises:
            PagingStopped: following the link would go round in circles or never end.
            ForeignLink: the link leaves the Cliniko host or the API.
        """
        self.pages += 1
        if self.pages == 1 and page.items and page.next_url:
            self.per_page = min(self.per_page, len(page.items))  # a server may cap per_page
        self._urls.add(_normal(page.url))
        self.most_entries = max(self.most_entries, page.total_entries)
        new = False
        for position, item in enumerate(page.items):
            key = item.get("id")
            key = f"{page.url}#{position}" if key in (None, "") else str(key)
            new = new or key not in self._ids
            self._ids.add(key)
        link = page.next_url
        if link is None:
            return None
        check_same_origin(link, self.base_url)
        if len(link) > MAX_LINK_CHARS:
            raise PagingStopped("the link to the next page kept growing")
        if _normal(link) in self._urls:
            raise PagingStopped("the next page was one already read")
        if not new:
            raise PagingStopped("a page with nothing new still pointed to another page")
        allowed = math.ceil(self.most_entries / self.per_page) + SPARE_PAGES
        if self.pages >= allowed:
            raise PagingStopped(f"more pages than its {self.most_entries:,} records need")
        return link


def requested_per_page(url: str, default: int = MAX_PER_PAGE) -> int:
    """The ``per_page`` a list URL asks for (``default`` when it does not say)."""
    for name, value in parse_qsl(urlsplit(url).query):
        if name == "per_page" and value.isdigit():
            return int(value)
    return default


def _normal(url: str) -> str:
    """A URL with its query parameters in order, so ``?a=1&b=2`` equals ``?b=2&a=1``."""
    parts = urlsplit(url)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}?{query}"
