"""Sync against a hostile server: every trick ends with a clear message or a quarantined
record, what was read is kept, and the next sync succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hostile_server import NESTED_100K, HostileServer, appointment, patient, treatment_note

from desktop.activity import fetch_recent_notes, fetch_upcoming_appointments
from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.errors import (
    ClinikoError,
    EndlessResponse,
    ForeignLink,
    MalformedResponse,
    Offline,
    PagingStopped,
    TruncatedResponse,
)
from desktop.secrets import get_or_create_cache_key
from desktop.session import Session
from desktop.simulator import demo_api_key
from desktop.store.cache import Cache
from desktop.store.patients import count_patients, get_patient, patient_ids
from desktop.store.quarantine import quarantined_raw, quarantined_records
from desktop.store.sync_state import get_state, set_state
from desktop.store.transaction import transaction
from desktop.sync import WATERMARK, run_sync, sync_notes
from desktop.timestamps import parse_timestamp

GOOD_IDS = {str(i) for i in range(1, 11)}


@pytest.fixture
def connected(tmp_path: Path) -> Iterator[tuple[HostileServer, Cache, Session]]:
    with (
        HostileServer() as server,
        Cache.open(tmp_path / "cache.db", get_or_create_cache_key(tmp_path)) as cache,
        Session(cache, demo_api_key(), base_url=server.base_url) as session,
    ):
        yield server, cache, session


TRICKS = [
    ("back_to_first", PagingStopped, "one already read"),
    ("to_itself", PagingStopped, "one already read"),
    ("growing", PagingStopped, "kept growing"),
    ("empty_pages", PagingStopped, "nothing new"),
    ("foreign", ForeignLink, "another server"),
    ("overrun", PagingStopped, "more pages than its"),
    ("deep", MalformedResponse, "nested far too deeply"),
]


@pytest.mark.parametrize("mode", ["full", "incremental"])
@pytest.mark.parametrize(("trick", "error", "words"), TRICKS)
def test_a_listing_that_would_never_end_stops_with_a_clear_message_and_the_next_sync_succeeds(
    connected: tuple[HostileServer, Cache, Session],
    mode: str,
    trick: str,
    error: type[ClinikoError],
    words: str,
) -> None:
    server, cache, session = connected
    if mode == "incremental":
        assert run_sync(session).mode == "full"
    server.trick = trick
    before = server.requests

    with pytest.raises(error) as info:
        run_sync(session)

    assert words in info.value.user_message
    assert "HTTPS" not in info.value.user_message
    assert server.requests - before < 15, "the sync stopped promptly"
    assert len(patient_ids(cache.db) & GOOD_IDS) >= 4, "the pages read before are kept"
    server.trick = None
    again = run_sync(session)
    assert not again.cancelled
    assert patient_ids(cache.db) >= GOOD_IDS
    assert run_sync(session).mode == "incremental"


WATCHED = {
    "individual_appointments": ("upcoming_appointments", fetch_upcoming_appointments),
    "treatment_notes": ("recent_treatment_notes", fetch_recent_notes),
}


@pytest.mark.parametrize("listing", list(WATCHED))
@pytest.mark.parametrize(("trick", "error", "words"), TRICKS)
def test_the_watchs_listings_that_would_never_end_stop_as_the_patients_do(
    connected: tuple[HostileServer, Cache, Session],
    listing: str,
    trick: str,
    error: type[ClinikoError],
    words: str,
) -> None:
    """The watch reads the clinic's appointments and treatment notes page by page as well;
    they followed every next link (a loop went on until the server gave up)."""
    server, cache, session = connected
    table, fetch = WATCHED[listing]
    start, end = datetime(2029, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)
    server.tricked, server.trick = listing, trick
    before = server.requests

    with pytest.raises(error) as info:
        fetch(session, start, end)

    assert words in info.value.user_message
    assert server.requests - before < 15, "the listing stopped promptly"
    server.trick = None
    assert fetch(session, start, end) == 3  # ten records, four to a page
    assert cache.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 10


def test_malformed_records_are_quarantined_by_id_and_the_rest_of_the_page_is_stored(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    server, cache, session = connected
    no_id = patient(0)
    del no_id["id"]
    server.records[2:2] = [
        no_id,
        patient(901, merged_with_patient={"links": "x"}),
        patient(902, patient_phone_numbers=5),
        patient(903, first_name="\ud800"),
        patient(904, updated_at="99"),
    ]

    result = run_sync(session)

    assert patient_ids(cache.db) == GOOD_IDS
    assert result.patients_written == count_patients(cache.db) == 10
    assert result.quarantined == [
        "record page 1 #3",
        "patient 901",
        "patient 902",
        "patient 903",
        "patient 904",
    ]
    kept = quarantined_records(cache.db)
    assert [r.patient_id for r in kept] == [None, "901", "902", "903", "904"]
    assert quarantined_raw(cache.db, "903")["first_name"] == "\ud800"  # kept as received
    assert quarantined_raw(cache.db, "902")["patient_phone_numbers"] == 5
    watermark = get_state(cache.db, WATERMARK)
    assert watermark is not None and watermark != "99"
    assert datetime.fromisoformat(watermark.replace("Z", "+00:00")) < datetime.now(UTC)

    # Cliniko fixes one record: the next sync stores it and takes it out of quarantine.
    fixed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    server.records[4] = patient(902, updated_at=fixed)
    again = run_sync(session)
    assert again.mode == "incremental"
    assert "902" in patient_ids(cache.db)
    assert "902" not in {r.patient_id for r in quarantined_records(cache.db)}
    assert run_sync(session).mode == "incremental"

    # The record without an id is gone from Cliniko: the next full sync forgets it.
    server.records = [r for r in server.records if "id" in r]
    with transaction(cache):  # as if kept aside by a sync an hour ago
        cache.db.execute("UPDATE quarantine SET last_seen_at = '2000-01-01T00:00:00Z'")
    run_sync(session, full=True)
    assert None not in {r.patient_id for r in quarantined_records(cache.db)}


def test_an_element_that_is_no_record_or_an_id_that_is_no_number_is_kept_aside_by_place(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    """A null or an array in the page stopped every sync for good ("a response MergeDesk
    didn't understand"); an id of free text was printed and logged as it came, a forged log
    line included."""
    server, cache, session = connected
    forged = "Jane Q Citizen DOB 1980-02-03\n2026-12-06 05:00:00,000 ERROR forged line"
    server.records[2:2] = [None, ["a", "list"], patient(0, id=forged), patient(0, id="../x")]

    result = run_sync(session)

    assert patient_ids(cache.db) == GOOD_IDS
    assert len(result.quarantined) == 4
    assert all(label.startswith("record page ") for label in result.quarantined)
    assert [r.patient_id for r in quarantined_records(cache.db)] == [None] * 4
    assert "Jane" not in " ".join(sync_notes(result))
    assert run_sync(session).mode == "incremental"


def test_a_record_holding_a_value_nested_too_deeply_is_quarantined_and_its_page_stored(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    server, cache, session = connected
    server.records.insert(1, patient(905, occupation=NESTED_100K))  # on page 1 of 3

    result = run_sync(session)

    assert patient_ids(cache.db) == GOOD_IDS, "the rest of the page and the pages after it"
    assert result.quarantined == ["patient 905"]
    [kept] = quarantined_records(cache.db)
    assert kept.reason == "it holds a value nested too deeply to read"
    assert quarantined_raw(cache.db, "905")["first_name"] == "Given905"  # kept, minus the value
    assert run_sync(session).mode == "incremental"


def test_a_future_updated_at_is_reported_and_later_edits_are_still_fetched(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    server, cache, session = connected
    server.records.append(patient(50, updated_at="2099-01-01T00:00:00Z"))
    server.records.insert(0, patient(60, updated_at="2098-01-01T00:00:00Z"))  # not the newest

    first = run_sync(session)

    assert sorted(first.future_ids) == ["50", "60"]
    watermark = datetime.fromisoformat(get_state(cache.db, WATERMARK).replace("Z", "+00:00"))
    assert watermark <= datetime.now(UTC) - timedelta(seconds=59)
    edited_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    server.records[1] = patient(1, updated_at=edited_at, last_name="Edited")

    second = run_sync(session)

    assert second.mode == "incremental"
    assert get_patient(cache.db, "1")["last_name"] == "Edited"
    assert sorted(second.future_ids) == ["50", "60"]


def test_a_full_sync_whose_list_ends_before_its_count_says_so(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    """Page 2 had no next link though total_entries counted 10: "Full sync done" with 8, and
    no word of the rest."""
    server, cache, session = connected
    server.trick = "ends_early"
    result = run_sync(session)
    assert result.mode == "full" and count_patients(cache.db) == 8
    assert result.listed_short == (8, 10)
    assert any(
        "Cliniko said it holds 10 patients, but its list ended after 8: 2 may be missing" in n
        for n in sync_notes(result)
    )


def test_a_server_clock_in_the_future_does_not_hide_later_edits(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    """A server saying it is 2999 (its Date header), with a record stamped then, set the
    watermark in 2998: the next syncs skipped an edit made a moment later."""
    server, cache, session = connected
    server.date = "Tue, 31 Dec 2999 23:59:00 GMT"
    server.records.append(patient(50, updated_at="2999-12-31T23:58:00Z"))
    run_sync(session)
    watermark = datetime.fromisoformat(get_state(cache.db, WATERMARK).replace("Z", "+00:00"))
    assert watermark <= datetime.now(UTC)
    server.date = None
    edited_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    server.records[1] = patient(1, updated_at=edited_at, last_name="Edited")
    run_sync(session)
    assert get_patient(cache.db, "1")["last_name"] == "Edited"


def test_a_server_clock_in_the_past_puts_no_patient_in_the_future(
    connected: tuple[HostileServer, Cache, Session], caplog: pytest.LogCaptureFixture
) -> None:
    """A Date header of 1970 listed every patient as changed "in the future", and held the
    watermark in 1969: every later sync read the whole clinic again."""
    server, cache, session = connected
    server.date = "Thu, 01 Jan 1970 00:00:00 GMT"
    result = run_sync(session)
    assert result.future_ids == []
    assert not any("in the future" in note for note in sync_notes(result))
    assert count_patients(cache.db) == 10
    watermark = get_state(cache.db, WATERMARK)
    assert watermark == "2024-03-01T10:00:00Z"  # the records' own newest time
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("Cliniko's clock (its Date header) says 1970-01-01T00:00:00Z" in w for w in warned)


def test_an_answer_cut_off_part_way_is_not_blamed_on_the_internet_connection() -> None:
    with HostileServer() as server:
        server.trick = "truncated"
        client = ClinikoClient(
            demo_api_key(), base_url=server.base_url, max_retries=2, backoff_base=0.01
        )
        with client, pytest.raises(TruncatedResponse) as info:
            client.get_user()
        assert server.requests == 3  # tried, and retried as a dropped answer is
    assert "cut off part-way" in info.value.user_message
    assert "internet connection" not in info.value.user_message


@pytest.mark.parametrize("left_by_an_older_version", ["99", "2099-01-01T00:00:00Z"])
def test_a_watermark_an_older_version_left_unreadable_or_in_the_future_is_repaired(
    connected: tuple[HostileServer, Cache, Session], left_by_an_older_version: str
) -> None:
    server, cache, session = connected
    run_sync(session)
    with transaction(cache):
        set_state(cache.db, WATERMARK, left_by_an_older_version)
    edited_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    server.records[4] = patient(5, updated_at=edited_at, last_name="Edited")

    result = run_sync(session)

    assert result.mode == "incremental"
    assert get_patient(cache.db, "5")["last_name"] == "Edited"
    assert parse_timestamp(get_state(cache.db, WATERMARK)) < datetime.now(UTC)


def test_odd_appointments_and_notes_are_left_out_and_the_rest_kept(
    connected: tuple[HostileServer, Cache, Session],
) -> None:
    """An appointment or note with no id, a time that is no time, or a start written with an
    offset: the odd ones are left out, the offset one is kept in UTC, the rest as usual (one
    without an id stopped the watch's look with a KeyError)."""
    server, cache, session = connected
    someone = server.records[0]
    server.appointments[0] = {**appointment(0, someone), "id": None}
    server.appointments[1] = appointment(1, someone, starts_at="2030-01-07T09:00:99Z")
    server.appointments[2] = appointment(2, someone, starts_at="2030-01-07T20:00:00+11:00")
    server.appointments[3] = {**appointment(3, someone), "starts_at": 20300107}
    server.notes[0] = {**treatment_note(0, someone), "id": ""}
    server.notes[1] = treatment_note(1, someone, created_at="yesterday")
    start, end = datetime(2029, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)

    fetch_upcoming_appointments(session, start, end)
    fetch_recent_notes(session, start, end)

    starts = dict(cache.db.execute("SELECT id, starts_at FROM upcoming_appointments").fetchall())
    assert len(starts) == 7 and starts["5002"] == "2030-01-07T09:00:00Z"
    notes = cache.db.execute("SELECT count(*) FROM recent_treatment_notes").fetchone()[0]
    assert notes == 8


@pytest.mark.parametrize(
    ("trick", "bound"), [("endless", "MAX_BODY_BYTES"), ("drip", "MAX_ANSWER_SECONDS")]
)
def test_an_answer_that_never_ends_is_cut_off_at_once_and_the_next_sync_succeeds(
    connected: tuple[HostileServer, Cache, Session],
    monkeypatch: pytest.MonkeyPatch,
    trick: str,
    bound: str,
) -> None:
    """A body with no end (a flood, or a byte at a time) used to be read for as long as the
    server sent it, into memory. It is read up to a bound (64 MB, 5 minutes; smaller here),
    not asked for again, and the sync says so in plain words."""
    from desktop.cliniko import exchange

    monkeypatch.setattr(
        exchange, bound, {"MAX_BODY_BYTES": 2**20, "MAX_ANSWER_SECONDS": 1.0}[bound]
    )
    server, cache, session = connected
    server.trick = trick
    before = server.requests

    with pytest.raises(EndlessResponse) as info:
        run_sync(session)

    assert "went on far longer than any answer should" in info.value.user_message
    assert not isinstance(info.value, Offline), "Cliniko answered: the window says Problem"
    assert server.requests - before <= 3, "the endless answer was not asked for again"
    server.trick = None
    assert not run_sync(session).cancelled
    assert len(patient_ids(cache.db) & GOOD_IDS) == 10
