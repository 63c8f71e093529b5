"""The encrypted cache file: encryption, wrong keys, the writer lock, migrations, backups."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils
from sqlcipher3 import dbapi2 as sqlcipher

from desktop import secrets
from desktop.store import (
    LATEST_VERSION,
    Cache,
    CacheInUse,
    CacheKeyMissing,
    CacheUnreadable,
    MigrationFailed,
    NewerSchema,
    WrongCacheKey,
    get_patient,
    open_cache,
    set_aside_cache,
    transaction,
    upsert_patients,
)
from desktop.store import migrations as registry
from desktop.store.migrations import Migration, build_registry, m0001_initial

KEY = "3f" * 32
OTHER_KEY = "a0" * 32
NAME = "Przybylski"
PATIENT = {"id": "1390726237298631770", "first_name": "Zofia", "last_name": NAME}


def _snapshot(path: Path, *, side_files: bool = True) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of the database (and its -wal/-shm side files)."""
    found = {}
    sides = list(path.parent.glob(path.name + "-*")) if side_files else []
    for side in (path, *sides):
        found[side.name] = (side.read_bytes(), side.stat().st_mtime_ns)
    return found


def _make_cache(path: Path) -> None:
    with Cache.open(path, KEY) as cache, transaction(cache) as db:
        upsert_patients(db, [PATIENT])


def test_new_cache_has_the_schema_and_wal(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        assert cache.schema_version == LATEST_VERSION
        tables = {"patients", "patient_raw", "sync_state", "audit_log", "history_counts", "meta"}
        assert tables <= set(cache.db.table_names())
        assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cache.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert cache.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert isinstance(cache.db, sqlite_utils.Database)
        assert cache.backup_path is None
    assert cache.closed


def test_no_patient_name_in_the_file_bytes(tmp_path):
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as cache:
        with transaction(cache) as db:
            upsert_patients(db, [PATIENT])
        files = [p for p in tmp_path.iterdir() if p.name.startswith("cache.db")]
        assert any(p.name.endswith("-wal") for p in files)
        for file in files:
            assert NAME.encode() not in file.read_bytes(), file.name
    for file in tmp_path.iterdir():
        assert NAME.encode() not in file.read_bytes(), file.name


def test_stdlib_sqlite_and_a_keyless_connection_cannot_read_it(tmp_path):
    path = tmp_path / "cache.db"
    _make_cache(path)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()
    conn = sqlcipher.connect(str(path))
    with pytest.raises(sqlcipher.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_wrong_key_is_refused_and_the_file_is_untouched(tmp_path, readonly):
    path = tmp_path / "cache.db"
    _make_cache(path)
    before = _snapshot(path)
    with pytest.raises(WrongCacheKey) as err:
        Cache.open(path, OTHER_KEY, readonly=readonly)
    assert "could not be unlocked with the key in your keychain" in str(err.value)
    assert _snapshot(path) == before
    with Cache.open(path, KEY) as cache:  # the lock was released and the key still works
        assert get_patient(cache.db, PATIENT["id"]) == PATIENT


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "cache.db"
    path.write_bytes(os.urandom(8192))
    before = _snapshot(path)
    with pytest.raises(CacheUnreadable):
        Cache.open(path, KEY)
    assert _snapshot(path) == before


def test_an_unencrypted_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "cache.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    before = _snapshot(path)
    with pytest.raises(CacheUnreadable) as err:
        Cache.open(path, KEY)
    assert "unencrypted" in str(err.value)
    assert _snapshot(path) == before


def test_a_malformed_key_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        Cache.open(tmp_path / "cache.db", "not-hex")


def test_second_writer_is_refused_readers_are_not(tmp_path):
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as first:
        with pytest.raises(CacheInUse) as err:
            Cache.open(path, KEY)
        assert "already open on this computer" in str(err.value)
        with transaction(first) as db:
            upsert_patients(db, [PATIENT])
        with Cache.open(path, KEY, readonly=True) as reader:
            assert get_patient(reader.db, PATIENT["id"]) == PATIENT
            with pytest.raises(sqlcipher.OperationalError):
                reader.conn.execute("DELETE FROM patients")
    with Cache.open(path, KEY):  # released on close
        pass


def test_second_writer_in_another_process_is_refused(tmp_path):
    path = tmp_path / "cache.db"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from desktop.store import Cache, CacheInUse
        try:
            Cache.open(Path({str(path)!r}), {KEY!r})
        except CacheInUse:
            sys.exit(3)
        sys.exit(0)
        """
    )
    with Cache.open(path, KEY):
        held = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert held.returncode == 3
    free = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert free.returncode == 0


def test_readonly_needs_an_existing_cache(tmp_path):
    with pytest.raises(CacheUnreadable):
        Cache.open(tmp_path / "cache.db", KEY, readonly=True)
    assert not (tmp_path / "cache.db").exists()


def test_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as cache:
        cache.conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    before = _snapshot(path, side_files=False)
    for readonly in (False, True):
        with pytest.raises(NewerSchema) as err:
            Cache.open(path, KEY, readonly=readonly)
        assert "newer version of MergeDesk" in str(err.value)
    # Reading a WAL database may leave an empty -wal/-shm behind; the database is unchanged.
    assert _snapshot(path, side_files=False) == before


def _m0002(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE extra (id INTEGER PRIMARY KEY, note TEXT)")
    db.execute("INSERT INTO extra (note) SELECT last_name FROM patients")


def _broken(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE half_done (x)")
    raise RuntimeError("boom")


def test_migration_backs_up_first_and_the_backup_stays_encrypted(tmp_path):
    path = tmp_path / "cache.db"
    _make_cache(path)
    chain = [*registry.MIGRATIONS, Migration(LATEST_VERSION + 1, "extra", _m0002)]
    with Cache.open(path, KEY, migrations=chain) as cache:
        assert cache.schema_version == LATEST_VERSION + 1
        assert cache.db["extra"].count == 1
        backup = cache.backup_path
    assert backup is not None and backup.exists()
    assert backup.name.startswith(f"cache.db.bak-v{LATEST_VERSION}-")
    assert NAME.encode() not in backup.read_bytes()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(backup).execute("SELECT * FROM sqlite_master").fetchall()
    with Cache.open(backup, KEY, readonly=True) as old:
        assert old.schema_version == LATEST_VERSION
        assert "extra" not in old.db.table_names()
        assert get_patient(old.db, PATIENT["id"]) == PATIENT
    with Cache.open(path, KEY, migrations=chain) as cache:  # nothing pending: no new backup
        assert cache.backup_path is None


def test_a_new_cache_is_not_backed_up(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        assert cache.backup_path is None
    assert not list(tmp_path.glob("*.bak-*"))


def test_a_failed_migration_rolls_back_its_step(tmp_path):
    path = tmp_path / "cache.db"
    _make_cache(path)
    chain = [*registry.MIGRATIONS, Migration(LATEST_VERSION + 1, "broken", _broken)]
    with pytest.raises(MigrationFailed) as err:
        Cache.open(path, KEY, migrations=chain)
    assert "boom" in str(err.value)
    with Cache.open(path, KEY) as cache:
        assert cache.schema_version == LATEST_VERSION
        assert "half_done" not in cache.db.table_names()
        assert get_patient(cache.db, PATIENT["id"]) == PATIENT


def _m0003(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE more (id INTEGER PRIMARY KEY)")


EXTRA = [*registry.MIGRATIONS, Migration(LATEST_VERSION + 1, "extra", _m0002)]
MORE = [*EXTRA, Migration(LATEST_VERSION + 2, "more", _m0003)]


def _backups(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("cache.db.bak-v*"))


def _updated_once(path: Path) -> Path:
    """A cache one update old: made at LATEST_VERSION, updated once (one backup so far)."""
    _make_cache(path)
    with Cache.open(path, KEY, migrations=EXTRA) as cache:
        assert cache.backup_path is not None
        return cache.backup_path


def test_a_second_update_keeps_only_its_own_backup(tmp_path, caplog):
    path = tmp_path / "cache.db"
    first = _updated_once(path)
    for suffix in ("-wal", "-shm", "-journal"):  # side files an interrupted copy may leave
        first.with_name(first.name + suffix).write_bytes(b"x")
    with (
        caplog.at_level(logging.INFO, logger="desktop.store.cache"),
        Cache.open(path, KEY, migrations=MORE) as cache,
    ):
        assert cache.schema_version == LATEST_VERSION + 2
        newest = cache.backup_path
    assert newest is not None
    assert _backups(tmp_path) == [newest.name]
    assert newest.name.startswith(f"cache.db.bak-v{LATEST_VERSION + 1}-")
    assert NAME.encode() not in newest.read_bytes()
    with Cache.open(newest, KEY, readonly=True, migrations=EXTRA) as copy:
        assert copy.schema_version == LATEST_VERSION + 1
        assert get_patient(copy.db, PATIENT["id"]) == PATIENT
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert f"removed 1 earlier cache copies: {first.name}" in said
    assert not any(NAME in r.getMessage() for r in caplog.records)


def test_a_failed_update_removes_no_backup_and_a_later_one_does(tmp_path):
    path = tmp_path / "cache.db"
    first = _updated_once(path)
    broken = [*EXTRA, Migration(LATEST_VERSION + 2, "broken", _broken)]
    with pytest.raises(MigrationFailed):
        Cache.open(path, KEY, migrations=broken)
    after_failure = _backups(tmp_path)
    assert len(after_failure) == 2 and first.name in after_failure  # every copy is still there
    with Cache.open(path, KEY, migrations=MORE) as cache:  # the fixed update then tidies up
        assert cache.backup_path is not None
        assert _backups(tmp_path) == [cache.backup_path.name]


def test_files_that_are_not_this_caches_backups_are_left_alone(tmp_path):
    path = tmp_path / "cache.db"
    first = _updated_once(path)
    others = [
        "cache.db.notes",
        "other.db.bak-v3-x",
        "cache.db.bak",
        "cache.db.bak-3",
        "cache.dbbak-v3",
        "xcache.db.bak-v3",
        "cache.db.unreadable-20261201T000000Z",
    ]
    for name in others:
        (tmp_path / name).write_text(name)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / first.name).write_text("kept elsewhere")
    with Cache.open(path, KEY, migrations=MORE) as cache:
        assert cache.backup_path is not None
        assert _backups(tmp_path) == [cache.backup_path.name]
    for name in others:
        assert (tmp_path / name).read_text() == name
    assert (tmp_path / "old" / first.name).read_text() == "kept elsewhere"


def test_a_backup_that_cannot_be_removed_does_not_stop_the_cache_opening(
    tmp_path, monkeypatch, caplog
):
    path = tmp_path / "cache.db"
    first = _updated_once(path)
    first_wal = first.with_name(first.name + "-wal")
    first_wal.write_bytes(b"x")  # stays with its copy
    stuck = tmp_path / "cache.db.bak-v1-20250101T000000Z"  # a folder: it cannot be unlinked
    stuck.mkdir()
    unlink = Path.unlink

    def locked(self: Path, missing_ok: bool = False) -> None:
        if self == first:
            raise PermissionError(13, "Permission denied")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", locked)
    with (
        caplog.at_level(logging.INFO, logger="desktop.store.cache"),
        Cache.open(path, KEY, migrations=MORE) as cache,
    ):
        assert cache.schema_version == LATEST_VERSION + 2
        newest = cache.backup_path
        assert get_patient(cache.db, PATIENT["id"]) == PATIENT
    assert newest is not None
    assert _backups(tmp_path) == sorted([first.name, first_wal.name, stuck.name, newest.name])
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert any(first.name in w and "Permission denied" in w for w in warned)
    assert any(stuck.name in w for w in warned)
    assert not any(NAME in r.getMessage() for r in caplog.records)
    with Cache.open(path, KEY, migrations=MORE) as cache:  # and it opens again as usual
        assert cache.backup_path is None


def test_every_migration_file_is_registered():
    folder = Path(registry.__file__).parent
    files = sorted(p.stem for p in folder.glob("m[0-9][0-9][0-9][0-9]_*.py"))
    registered = [f"m{m.version:04d}_{m.name}" for m in registry.MIGRATIONS]
    assert registered == files, "add new migration modules to desktop/store/migrations/__init__.py"
    assert [m.version for m in registry.MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_registry_rejects_gaps_and_bad_names():
    class Fake:
        __name__ = "desktop.store.migrations.m0003_later"
        migrate = staticmethod(_m0002)

    class Badly:
        __name__ = "desktop.store.migrations.initial"
        migrate = staticmethod(_m0002)

    with pytest.raises(ValueError):
        build_registry([m0001_initial, Fake])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        build_registry([Badly])  # type: ignore[list-item]


def test_open_cache_uses_the_keychain(private_environment, memory_keyring):
    data_dir = Path(private_environment)
    with open_cache(data_dir) as cache, transaction(cache) as db:
        upsert_patients(db, [PATIENT])
    assert (data_dir / "cache.db").exists()
    names = sorted(user.split(":")[0] for _, user in memory_keyring.secrets)
    assert names == ["audit-key", "cache-key"]  # the audit trail's seal is made with the cache
    with open_cache(data_dir, readonly=True) as cache:
        assert get_patient(cache.db, PATIENT["id"]) == PATIENT


def test_missing_key_for_an_existing_cache_then_set_aside(private_environment):
    data_dir = Path(private_environment)
    open_cache(data_dir).close()
    _make_cache_in(data_dir)
    secrets.delete_cache_key(data_dir)
    with pytest.raises(CacheKeyMissing):
        open_cache(data_dir)
    moved = set_aside_cache(data_dir)
    assert moved is not None and moved.exists() and moved.name.startswith("cache.db.unreadable-")
    assert not (data_dir / "cache.db").exists()
    with open_cache(data_dir) as cache:
        assert get_patient(cache.db, PATIENT["id"]) is None
    assert set_aside_cache(data_dir) is not None


def test_set_aside_refuses_while_in_use(private_environment):
    data_dir = Path(private_environment)
    with open_cache(data_dir), pytest.raises(CacheInUse):
        set_aside_cache(data_dir)


def _make_cache_in(data_dir: Path) -> None:
    with open_cache(data_dir) as cache, transaction(cache) as db:
        upsert_patients(db, [PATIENT])
