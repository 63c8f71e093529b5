"""Redaction of request paths for the audit trail, and record hashing."""

from __future__ import annotations

import hashlib
import re

import pytest

from desktop.cliniko.records import redact_filter, redact_url, sha256_hex, utc_now_iso


@pytest.mark.parametrize(
    ("raw", "redacted"),
    [
        ("last_name:~Smith", "last_name:~…"),
        ("last_name:~~ja%on%", "last_name:~~…"),
        ("email:=jo@example.com", "email:=…"),
        ("date_of_birth:=1980-05-01", "date_of_birth:=…"),
        ("updated_at:>=2026-01-01T00:00:00Z", "updated_at:>=…"),
        ("updated_at:>2026-01-01T00:00:00Z", "updated_at:>…"),
        ("first_name:!=Ann", "first_name:!=…"),
        ("patient_id:=1390726237298631770", "patient_id:=…"),
        ("archived_at:*", "archived_at:*"),
        ("archived_at:?", "archived_at:?"),
        ("archived_at:!?", "archived_at:!?"),
        ("date_of_birth:*1980", "date_of_birth:*…"),
        ("last_name:Smith", "last_name:…"),  # no operator: value still hidden
        ("Smith", "…"),  # no field at all
        ("Jo Smith:=x", "…"),  # not a field name
    ],
)
def test_redact_filter(raw: str, redacted: str) -> None:
    assert redact_filter(raw) == redacted


def test_redact_url_keeps_paging_and_drops_values() -> None:
    url = (
        "https://api.au1.cliniko.com/v1/patients?q%5B%5D=last_name%3A~Smith"
        "&q%5B%5D=archived_at%3A*&sort=updated_at:desc&page=3&per_page=100&x=secret"
    )
    assert redact_url(url) == (
        "/v1/patients?q[]=last_name:~…&q[]=archived_at:*&sort=updated_at:desc"
        "&page=3&per_page=100&x=…"
    )


def test_redact_url_without_query_is_the_path() -> None:
    assert redact_url("http://127.0.0.1:9/v1/patients/123") == "/v1/patients/123"
    assert redact_url("/v1/user") == "/v1/user"


def test_sha256_of_nothing_is_the_empty_digest() -> None:
    assert sha256_hex(None) == hashlib.sha256(b"").hexdigest()
    assert sha256_hex(b"{}") == hashlib.sha256(b"{}").hexdigest()


def test_timestamps_are_utc_iso() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", utc_now_iso())
