"""The clinic's clinical activity, fetched for the whole clinic (never one request per patient)
and cached for triage and offline review: upcoming appointments, and recent treatment notes.

Each is one paged listing filtered on a date: ``/individual_appointments`` on ``starts_at``
(the window ahead), ``/treatment_notes`` on ``created_at`` (the days that count as "recent"
the first time, then the days since the last look). Cancelled, deleted and archived rows are
left out (and dropped from the cache when an update says so; a note deleted later stays until
it is too old to count). No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from desktop.session import Session
from desktop.store.appointments import (
    add_recent_notes,
    replace_recent_notes,
    replace_upcoming,
    update_upcoming,
)
from desktop.store.sync_state import set_state
from desktop.store.transaction import transaction
from desktop.timestamps import canonical_stamp, utc_stamp

APPOINTMENTS_AT = "watch.appointments_fetched_at"  # the last whole window (UTC text)
APPOINTMENTS_CHECKED = "watch.appointments_checked_at"  # the last fetch of either kind
NOTES_AT = "watch.notes_fetched_at"  # the last fetch of the recent treatment notes
_GONE = ("cancelled_at", "deleted_at", "archived_at")
PER_PAGE = 100


def _id(item: dict[str, Any]) -> str | None:
    """An appointment's or note's id; None for one without (it cannot be kept up to date)."""
    value = item.get("id")
    return str(value) if isinstance(value, str | int) and str(value) else None


def link_id(link: Any) -> str | None:
    """The id at the end of a Cliniko link object (``{"links": {"self": ".../123"}}``)."""
    if isinstance(link, dict):
        target = (link.get("links") or {}).get("self")
        if target:
            return str(target).rstrip("/").rsplit("/", 1)[-1]
    return None


def _listing(session: Session, url: str, key: str, counter: list[int]) -> Iterator[dict[str, Any]]:
    """Every item of a paged listing, page by page (a page's items are dropped once read:
    holding a hundred thousand of them would keep the garbage collector busy, and the
    interpreter lock with it). ``counter[0]`` counts the requests.

    Raises:
        PagingStopped, ForeignLink: the listing would go round in circles, never end, or
            leave Cliniko (see :class:`~desktop.cliniko.pages.PageGuard`).
    """
    guard = session.client.page_guard(url)
    next_url: str | None = url
    while next_url:
        page = session.client.fetch_page(next_url, key=key)
        counter[0] += 1
        next_url = guard.next_link(page)
        yield from page.items


def fetch_upcoming_appointments(
    session: Session, start: datetime, end: datetime, *, changed_since: datetime | None = None
) -> int:
    """Cache the whole clinic's appointments starting in [start, end). With
    ``changed_since``, only those booked or changed since then, merged into the cached window.
    Returns the requests made."""
    url = (
        f"/individual_appointments?q[]=starts_at:>={utc_stamp(start)}"
        f"&q[]=starts_at:<{utc_stamp(end)}&sort=starts_at&per_page={PER_PAGE}"
    )
    if changed_since is not None:
        url += f"&q[]=updated_at:>={utc_stamp(changed_since)}"
    requests = [0]
    rows: list[tuple[str, str, str, str | None, str | None]] = []
    gone: list[str] = []
    for item in _listing(session, url, "individual_appointments", requests):
        patient, item_id = link_id(item.get("patient")), _id(item)
        if item_id is None:
            continue
        if any(item.get(k) for k in _GONE):
            gone.append(item_id)
        elif patient and (starts := canonical_stamp(item.get("starts_at"))):
            rows.append(
                (item_id, patient, starts, canonical_stamp(item.get("ends_at")),
                 link_id(item.get("practitioner")))
            )  # fmt: skip
    with transaction(session.cache) as db:
        if changed_since is None:
            replace_upcoming(db, rows)
            set_state(db, APPOINTMENTS_AT, utc_stamp(start))
        else:
            update_upcoming(db, rows, gone)
        set_state(db, APPOINTMENTS_CHECKED, utc_stamp(start))
        session.audit.write_pending()
    return requests[0]


def fetch_recent_notes(
    session: Session, since: datetime, now: datetime, *, written_since: datetime | None = None
) -> int:
    """Cache the whole clinic's treatment notes written since ``since`` (each note's patient
    and date, never its content). With ``written_since`` (the last look), only the notes
    written since then are fetched and added, and those older than ``since`` dropped: a day's
    notes are a page or two. Returns the requests made."""
    start = since if written_since is None else max(since, written_since)
    url = (
        f"/treatment_notes?q[]=created_at:>={utc_stamp(start)}&sort=created_at&per_page={PER_PAGE}"
    )
    requests = [0]
    rows = [
        (item_id, patient, written)
        for item in _listing(session, url, "treatment_notes", requests)
        if (item_id := _id(item))
        and (patient := link_id(item.get("patient")))
        and (written := canonical_stamp(item.get("created_at")))
        and not any(item.get(k) for k in _GONE)
    ]
    with transaction(session.cache) as db:
        if written_since is None:
            replace_recent_notes(db, rows)
        else:
            add_recent_notes(db, rows, older_than=utc_stamp(since))
        set_state(db, NOTES_AT, utc_stamp(now))
        session.audit.write_pending()
    return requests[0]


__all__ = ["fetch_recent_notes", "fetch_upcoming_appointments", "link_id"]
