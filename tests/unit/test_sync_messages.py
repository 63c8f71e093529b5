"""The messages of item 9: each says what happened and what to do, and nothing misleading."""

from __future__ import annotations

import keyring
import pytest

from desktop import secrets
from desktop.cliniko import errors
from desktop.cliniko.pages import Page, PageGuard


def test_no_keychain_never_tells_the_user_to_set_cliniko_api_key(monkeypatch) -> None:
    monkeypatch.setenv("CLINIKO_API_KEY", "MS0xMjM0NTY3ODkwLWFiY2RlZmdoaWprbG1ub3Bx-au1")
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        message = secrets.keyring_status().message
    finally:
        keyring.set_keyring(previous)
    assert "set the CLINIKO_API_KEY" not in message
    assert "cannot work without one, even with the Cliniko API key in CLINIKO_API_KEY" in message


def test_a_cut_off_answer_is_not_blamed_on_the_internet_connection() -> None:
    message = errors.TruncatedResponse().user_message
    assert "internet connection" not in message
    assert "cut off" in message
    assert isinstance(errors.TruncatedResponse(), errors.Offline)  # still retried like one


def test_a_link_to_another_host_is_not_called_an_https_problem() -> None:
    guard = PageGuard("https://api.au1.cliniko.com/v1")
    page = Page([{"id": "1"}], 5, "https://evil.example/v1/patients?page=2", "https://x/v1/p")
    with pytest.raises(errors.ForeignLink) as info:
        guard.next_link(page)
    assert "another server" in info.value.user_message
    assert "HTTPS" not in info.value.user_message


def test_a_guard_allows_an_honest_listing_whose_server_caps_per_page() -> None:
    base = "https://api.au1.cliniko.com/v1"
    guard = PageGuard(base, per_page=100)
    for number in range(1, 11):  # 10 pages of 10 (the server gave 10, not 100)
        link = f"{base}/patients?page={number + 1}" if number < 10 else None
        items = [{"id": str(number * 100 + i)} for i in range(10)]
        page = Page(items, 100, link, f"{base}/patients?page={number}")
        assert guard.next_link(page) == link


def test_a_failed_request_is_said_as_trouble_and_an_answer_or_a_cancel_is_not() -> None:
    from desktop.cliniko.records import RequestRecord
    from desktop.sync import connection_trouble

    def record(status: int, error: str | None) -> RequestRecord:
        return RequestRecord("GET", "/patients", status, "", "", 1.0, "", 1, error)

    dropped = connection_trouble(record(0, "RemoteProtocolError"))
    assert dropped is not None and dropped.words() == "Cliniko stopped answering: trying again…"
    busy = connection_trouble(record(503, None))
    assert busy is not None and "(HTTP 503)" in busy.words()
    asked = connection_trouble(record(429, None))
    assert asked is not None and asked.slowed_down and "slow down" in asked.words()
    assert not busy.slowed_down
    assert connection_trouble(record(200, None)) is None
    assert connection_trouble(record(404, None)) is None  # an answer: no retry
    assert connection_trouble(record(0, "Cancelled")) is None  # the person stopped it


@pytest.mark.parametrize(
    ("count", "future", "missing", "gone"),
    [
        (
            1,
            "1 patient has a last-changed time in the future",
            "1 had drifted and 1 was missing; all repaired. ",
            "1 cached patient is no longer listed by Cliniko.",
        ),
        (
            2,
            "2 patients have a last-changed time in the future",
            "2 had drifted and 2 were missing; all repaired. ",
            "2 cached patients are no longer listed by Cliniko.",
        ),
    ],
)
def test_what_a_sync_found_is_counted_in_words(
    count: int, future: str, missing: str, gone: str
) -> None:
    """It read "1 were missing", "1 cached patients are" and "1 patient(s) have"."""
    from desktop.reconcile import ReconcileResult
    from desktop.sync import SyncResult, sync_notes

    ids = [str(100 + i) for i in range(count)]
    done = ReconcileResult(checked=9, drifted=ids, added=ids, not_on_cliniko=ids)
    notes = sync_notes(SyncResult("incremental", future_ids=ids, reconciliation=done))
    assert notes[0].startswith(future)
    assert notes[1] == f"Compared 9 patients with Cliniko: {missing}{gone}"
