"""The hash-chained audit trail: append, verify, and every kind of tampering."""

from __future__ import annotations

import getpass
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from desktop import audit
from desktop.audit import AuditTrail, verify
from desktop.store import Cache, transaction

KEY = "7e" * 32
SHA = "ab" * 32


@pytest.fixture
def cache(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def _fill(cache: Cache, n: int = 5) -> AuditTrail:
    trail = AuditTrail(cache.db, cliniko_user="42 Ada Admin", os_user="ada")
    with transaction(cache):
        for i in range(n):
            trail.record("get", f"/v1/patients?page={i + 1}", 200, SHA, SHA)
    return trail


def _unguard(cache: Cache) -> None:
    """Drop the append-only triggers, as someone tampering with the file would."""
    cache.conn.execute("DROP TRIGGER audit_log_no_update")
    cache.conn.execute("DROP TRIGGER audit_log_no_delete")


def test_empty_trail_verifies(cache):
    assert verify(cache.db) == audit.AuditVerification(True, 0, None, "0 entries, chain intact")


def test_records_are_chained_and_verify(cache):
    _fill(cache)
    result = verify(cache.db)
    assert result.ok and result.entries == 5 and result.first_broken_seq is None
    rows = list(cache.db.query("SELECT * FROM audit_log ORDER BY seq"))
    assert rows[0]["prev_hash"] == audit.GENESIS_HASH
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(rows))
    assert rows[0]["method"] == "GET"
    assert rows[0]["cliniko_user"] == "42 Ada Admin"
    assert rows[0]["os_user"] == "ada"
    assert rows[0]["at"].endswith("Z")


def test_the_table_refuses_updates_and_deletes(cache):
    _fill(cache, 2)
    with pytest.raises(sqlcipher.IntegrityError):
        cache.conn.execute("UPDATE audit_log SET status = 500 WHERE seq = 1")
    with pytest.raises(sqlcipher.IntegrityError):
        cache.conn.execute("DELETE FROM audit_log WHERE seq = 2")
    assert verify(cache.db).ok


def test_a_rolled_back_transaction_leaves_no_entry(cache):
    trail = _fill(cache, 2)
    with pytest.raises(RuntimeError), transaction(cache):
        trail.record("PATCH", "/v1/patients/1", 200, SHA)
        raise RuntimeError("verify failed")
    result = verify(cache.db)
    assert result.ok and result.entries == 2


def test_record_request_takes_the_clients_record(cache):
    @dataclass
    class Record:
        method: str
        path: str
        status: int
        payload_sha256: str
        response_sha256: str
        timestamp: object

    trail = AuditTrail(cache.db)
    trail.record_request(Record("GET", "/v1/user", 200, SHA, SHA, "2024-01-01T00:00:00.000Z"))
    at = datetime(2024, 1, 2, tzinfo=UTC)
    trail.record_request(Record("GET", "/v1/patients", 0, SHA, "", at))
    trail.record_request(Record("GET", "/v1/patients", 503, SHA, SHA, 1_700_000_000.5))
    rows = list(cache.db.query("SELECT at, status, os_user FROM audit_log ORDER BY seq"))
    assert [r["at"] for r in rows] == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-02T00:00:00.000Z",
        "2023-11-14T22:13:20.500Z",
    ]
    assert rows[1]["status"] == 0
    assert rows[0]["os_user"]
    assert verify(cache.db).ok


def test_paths_keep_no_filter_values(cache):
    trail = AuditTrail(cache.db)
    trail.record("GET", "/v1/patients?q[]=last_name:=Przybylski&page=2", 200, SHA)
    (path,) = cache.db.execute("SELECT path FROM audit_log").fetchone()
    assert "Przybylski" not in path
    assert path.startswith("/v1/patients?") and "page=2" in path


def test_os_user_has_a_safe_fallback(monkeypatch):
    def broken() -> str:
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", broken)
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("USERNAME", raising=False)
    assert audit.current_os_user() == "unknown"


class _Seal:
    """Signs entries without a keychain (the trail only calls these two)."""

    def mac(self, hash_hex: str) -> str:
        return "mac:" + hash_hex

    def wrote(self, seq: int, hash_hex: str) -> None:
        return None


def test_an_entry_that_fails_to_write_undoes_only_itself(cache, monkeypatch):
    """The trail's savepoint: the entry's own writes go, the caller's transaction stays."""
    from desktop.store import audit_log
    from desktop.store.sync_state import get_state, set_state

    trail = AuditTrail(cache.db, cliniko_user="42 Ada Admin", os_user="ada", seal=_Seal())

    def disk_full(conn, entry):
        raise sqlcipher.OperationalError("database or disk is full")

    monkeypatch.setattr(audit_log, "insert_entry", disk_full)
    with transaction(cache) as db:
        set_state(db, "decided", "yes")
        with pytest.raises(sqlcipher.OperationalError):
            trail.record("PATCH", "/v1/patients/1", 200, SHA)
    assert get_state(cache.db, "decided") == "yes"
    assert audit_log.get_meta(cache.conn, audit_log.SEALED_FROM_META_KEY) is None
    assert verify(cache.db).entries == 0
