"""The sealed audit trail against the twelve ways of rewriting it, and the legacy upgrade."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop import audit
from desktop.audit import AuditSeal, AuditTrail, verify
from desktop.store import Cache, transaction
from desktop.store.migrations import MIGRATIONS

KEY = "5c" * 32
SHA = "ab" * 32
N = 6


class Keychain:
    """The keychain half of a seal, in memory."""

    def __init__(self) -> None:
        self.head: str | None = None

    def seal(self) -> AuditSeal:
        def save(value: str) -> None:
            self.head = value

        return AuditSeal(bytes.fromhex("9e" * 32), lambda: self.head, save)


@pytest.fixture
def keychain() -> Keychain:
    return Keychain()


@pytest.fixture
def cache(tmp_path: Path, keychain: Keychain):
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        opened.audit_seal = keychain.seal()
        yield opened


def fill(cache: Cache, n: int = N, seal: AuditSeal | None = None) -> None:
    trail = AuditTrail(cache.db, cliniko_user="42 Ada", os_user="ada", seal=seal)
    with transaction(cache):
        for i in range(n):
            trail.record("GET", f"/v1/patients?page={i + 1}", 200, SHA, SHA)


def run(cache: Cache, sql: str, *args: object) -> None:
    cache.conn.execute(sql, list(args))


def row(cache: Cache, seq: int) -> dict:
    return dict(next(cache.db.query("SELECT * FROM audit_log WHERE seq = ?", [seq])))


def rehash(cache: Cache, seq: int, **changes: object) -> str:
    """Change an entry and recompute its hash with hashlib, as someone without the key can."""
    entry = {**row(cache, seq), **changes}
    new_hash = audit.entry_hash(entry)
    sets = ", ".join(f"{k} = ?" for k in [*changes, "entry_hash"])
    run(cache, f"UPDATE audit_log SET {sets} WHERE seq = ?", *changes.values(), new_hash, seq)
    return new_hash


def edit(cache: Cache) -> None:
    run(cache, "UPDATE audit_log SET status = 404 WHERE seq = 3")


def edit_and_rehash(cache: Cache) -> None:
    rehash(cache, 3, path="/v1/patients/1")


def delete(cache: Cache) -> None:
    run(cache, "DELETE FROM audit_log WHERE seq = 3")


def delete_and_renumber(cache: Cache) -> None:
    delete(cache)
    for seq in range(4, N + 1):
        run(cache, "UPDATE audit_log SET seq = ? WHERE seq = ?", seq - 1, seq)


def swap(cache: Cache) -> None:
    columns = [c for c in [*audit.FIELDS, "entry_hash", "mac"] if c != "seq"]
    two, three = row(cache, 2), row(cache, 3)
    sets = ", ".join(f"{c} = ?" for c in columns)
    run(cache, f"UPDATE audit_log SET {sets} WHERE seq = 2", *[three[c] for c in columns])
    run(cache, f"UPDATE audit_log SET {sets} WHERE seq = 3", *[two[c] for c in columns])


def delete_first(cache: Cache) -> None:
    run(cache, "DELETE FROM audit_log WHERE seq = 1")


def cut_tail(cache: Cache) -> None:
    run(cache, "DELETE FROM audit_log WHERE seq > 4")


def cut_tail_and_delete_head(cache: Cache) -> None:
    cut_tail(cache)
    run(cache, "DELETE FROM meta WHERE key = 'audit_head'")


def cut_tail_and_rewrite_head(cache: Cache) -> None:
    cut_tail(cache)
    run(
        cache,
        "UPDATE meta SET value = ? WHERE key = 'audit_head'",
        f"4:{row(cache, 4)['entry_hash']}",
    )


def delete_all(cache: Cache) -> None:
    run(cache, "DELETE FROM audit_log")
    run(cache, "DELETE FROM meta WHERE key = 'audit_head'")


def recompute_chain(cache: Cache) -> None:
    prev = rehash(cache, 3, path="/v1/patients/1")
    for seq in range(4, N + 1):
        prev = rehash(cache, seq, prev_hash=prev)
    run(cache, "UPDATE meta SET value = ? WHERE key = 'audit_head'", f"{N}:{prev}")


def append_forged_entry(cache: Cache) -> None:
    last = row(cache, N)
    forged = {**last, "seq": N + 1, "path": "/v1/patients/7", "prev_hash": last["entry_hash"]}
    forged["entry_hash"] = audit.entry_hash(forged)
    forged["mac"] = "00" * 32
    names = list(forged)
    run(
        cache,
        f"INSERT INTO audit_log ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        *forged.values(),
    )
    run(
        cache,
        "UPDATE meta SET value = ? WHERE key = 'audit_head'",
        f"{N + 1}:{forged['entry_hash']}",
    )


REWRITES: list[tuple[Callable[[Cache], None], str, int, str]] = [
    (edit, "edit", 3, "entry 3 was edited"),
    (edit_and_rehash, "edit and rehash", 3, "entry 3 was edited and its hash recomputed"),
    (delete, "delete", 3, "entry 3 deleted"),
    (delete_and_renumber, "delete and renumber", 3, "entry 3 were deleted and the entries after"),
    (swap, "swap", 2, "entries 2 and 3 were swapped"),
    (delete_first, "delete first", 1, "entry 1 were deleted from the start"),
    (cut_tail, "cut tail", 5, "entries 5-6 were cut off the end"),
    (cut_tail_and_delete_head, "cut tail and delete head", 5, "head kept in the cache was deleted"),
    (cut_tail_and_rewrite_head, "cut tail and rewrite head", 5, "was rewritten to hide it"),
    (delete_all, "delete all", 1, "every entry was deleted (the keychain records 6)"),
    (recompute_chain, "recompute", 3, "recomputed from entry 3 without the audit key"),
    (append_forged_entry, "forged entry", 7, "entry 7 was not written by MergeDesk"),
]


def test_a_sealed_trail_verifies_and_the_keychain_holds_its_head(cache, keychain):
    fill(cache, seal=cache.audit_seal)
    result = verify(cache.db, cache.audit_seal)
    assert result.ok and result.entries == N and result.legacy == 0, result
    assert keychain.head == f"v1 1 {N} {row(cache, N)['entry_hash']}"
    assert result.anchor == f"{N}:{row(cache, N)['entry_hash']}"
    assert all(row(cache, s)["mac"] for s in range(1, N + 1))


@pytest.mark.parametrize(
    ("rewrite", "case", "seq", "words"), REWRITES, ids=lambda v: getattr(v, "__name__", None)
)
def test_verify_names_each_rewrite(cache, rewrite, case, seq, words):
    fill(cache, seal=cache.audit_seal)
    run(cache, "DROP TRIGGER audit_log_no_update")
    run(cache, "DROP TRIGGER audit_log_no_delete")
    rewrite(cache)
    result = verify(cache.db, cache.audit_seal)
    assert not result.ok
    assert (result.case, result.first_broken_seq) == (case, seq), result
    assert words in result.reason


def test_entries_from_before_seals_are_a_legacy_segment(tmp_path, keychain):
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY, migrations=MIGRATIONS[:4]) as old:
        fill(old, 3)  # written by a MergeDesk without seals (schema 4, no mac column)
    with Cache.open(path, KEY) as cache:
        cache.audit_seal = keychain.seal()
        fill(cache, 2, seal=cache.audit_seal)
        result = verify(cache.db, cache.audit_seal)
        assert result.ok and result.entries == 5 and result.legacy == 3, result
        assert "entries 1-3 predate seals and were checked by hash only" in result.reason
        assert keychain.head is not None and keychain.head.startswith("v1 4 5 ")
        # stripping the seals off sealed entries does not turn them into legacy ones
        run(cache, "DROP TRIGGER audit_log_no_update")
        run(cache, "UPDATE audit_log SET mac = NULL WHERE seq = 5")
        assert verify(cache.db, cache.audit_seal).case == "forged entry"


def test_without_the_key_a_sealed_trail_is_not_called_intact(cache):
    fill(cache, seal=cache.audit_seal)
    result = verify(cache.db)
    assert not result.ok and result.case == "no key"
