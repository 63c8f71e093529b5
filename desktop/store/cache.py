"""The encrypted cache: an SQLCipher file wrapped by ``sqlite_utils.Database``.

The connection runs in autocommit mode (``isolation_level=None``): a statement outside
:func:`desktop.store.transaction.transaction` commits on its own, and nothing is ever left in an
implicit transaction that a close would silently throw away.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils
from sqlcipher3 import dbapi2 as sqlcipher

from desktop import paths
from desktop import secrets as keychain
from desktop.store import migrations as registry
from desktop.store.errors import (
    CacheKeyMissing,
    CacheUnreadable,
    MigrationFailed,
    NewerSchema,
    StoreError,
    WrongCacheKey,
)
from desktop.store.lock import WriterLock, lock_path
from desktop.store.migrations import Migration, latest_version

log = logging.getLogger(__name__)

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# 16 KiB pages: a patient's ~2.5 KB JSON packs several to a page instead of one per 4 KiB page,
# which halves the file and the write time. Every connection (and ATTACH) must set it.
CIPHER_PAGE_SIZE = 16384
CACHE_SIZE_KIB = 65536
# The files SQLite may keep beside a database (a backup copy's are removed with it).
_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def _key_pragma(key_hex: str) -> str:
    if not _KEY_RE.match(key_hex):
        raise ValueError("the cache key must be 64 lowercase hex characters")
    return f"PRAGMA key = \"x'{key_hex}'\""


def _utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


class Cache:
    """An open cache. Use :meth:`open`; close it (or use ``with``) when done.

    One writing ``Cache`` per data directory (the lock file enforces it, across processes and
    within one). It may be shared between threads: write through
    :func:`desktop.store.transaction.transaction`, which serialises on :attr:`lock`. A worker
    that only reads a lot (the matcher) can open its own ``readonly=True`` instance instead.

    Attributes:
        path: the database file.
        conn: the raw sqlcipher3 connection (autocommit mode).
        db: a ``sqlite_utils.Database`` on that connection.
        readonly: True when opened without the writer lock.
        lock: a re-entrant lock serialising transactions across threads.
        backup_path: the backup made before migrating on this open, if any.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlcipher.Connection,
        *,
        readonly: bool,
        writer_lock: WriterLock | None,
    ) -> None:
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.readonly = readonly
        self.lock = threading.RLock()
        self.backup_path: Path | None = None
        # The keychain half of the audit trail (store.audit_seal.AuditSeal), set by open_cache.
        self.audit_seal: Any = None
        self._writer_lock = writer_lock
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path,
        key_hex: str,
        *,
        readonly: bool = False,
        migrations: Sequence[Migration] | None = None,
    ) -> Cache:
        """Open (creating and migrating if needed) the cache at ``path``.

        Args:
            path: the database file.
            key_hex: 64 lowercase hex characters (256 bits), from the keychain.
            readonly: open without the writer lock and without migrating.
            migrations: the migration chain (default: the registered one).

        Raises:
            WrongCacheKey: the key does not open the file (which is left untouched).
            CacheUnreadable: the file is not a MergeDesk cache, or a read-only open of a
                missing file.
            CacheInUse: another writer holds the cache.
            NewerSchema: the file was written by a newer MergeDesk (left untouched).
            MigrationFailed: a migration step failed (rolled back; a backup exists).
        """
        if migrations is None:
            migrations = registry.MIGRATIONS
        path = Path(path)
        pragma = _key_pragma(key_hex)
        if readonly and not path.exists():
            raise CacheUnreadable("There is no local cache yet. Download your patients first.")
        _refuse_plain_sqlite(path)
        writer_lock: WriterLock | None = None
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer_lock = WriterLock.acquire(lock_path(path))
        conn: sqlcipher.Connection | None = None
        try:
            is_new = not path.exists() or path.stat().st_size == 0
            conn = _connect(path, pragma, readonly)
            version = _verify(conn)
            if version > latest_version(migrations):
                raise NewerSchema()
            _configure(conn, readonly)
            if is_new and sys.platform != "win32":
                path.chmod(0o600)
            cache = cls(path, conn, readonly=readonly, writer_lock=writer_lock)
            if not readonly:
                cache._migrate(version, migrations, key_hex)
            return cache
        except BaseException:
            if conn is not None:
                conn.close()
            if writer_lock is not None:
                writer_lock.release()
            raise

    @property
    def schema_version(self) -> int:
        """The schema version stored in the file (``PRAGMA user_version``)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def cipher_version(self) -> str | None:
        """The SQLCipher library's version (``PRAGMA cipher_version``), or None if it has none."""
        row = self.conn.execute("PRAGMA cipher_version").fetchone()
        return str(row[0]) if row else None

    def _migrate(self, version: int, migrations: Sequence[Migration], key_hex: str) -> None:
        pending = [m for m in migrations if m.version > version]
        if not pending:
            return
        has_tables = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
        if has_tables:
            self.backup_path = self._backup(version, key_hex)
        for migration in pending:
            log.info("migrating cache to version %d (%s)", migration.version, migration.name)
            with self.lock:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    migration.migrate(self.db)
                    self.conn.execute(f"PRAGMA user_version = {int(migration.version)}")
                    self.conn.execute("COMMIT")
                except Exception as exc:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    where = (
                        f" A copy from before the update is at {self.backup_path}."
                        if (self.backup_path)
                        else ""
                    )
                    raise MigrationFailed(
                        f"Updating the local cache to version {migration.version} failed "
                        f"({type(exc).__name__}: {exc}). Nothing was changed.{where}"
                    ) from exc
        if self.backup_path is not None:
            _remove_earlier_backups(self.path, keep=self.backup_path)

    def _backup(self, version: int, key_hex: str) -> Path:
        """Copy the whole database, encrypted with the same key, before migrating it."""
        target = self.path.with_name(f"{self.path.name}.bak-v{version}-{_utc_stamp()}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.bak-v{version}-{_utc_stamp()}-{n}")
            n += 1
        self.conn.execute(
            "ATTACH DATABASE ? AS mergedesk_backup KEY ?", (str(target), f"x'{key_hex}'")
        )
        try:
            self.conn.execute(f"PRAGMA mergedesk_backup.cipher_page_size = {CIPHER_PAGE_SIZE}")
            self.conn.execute("SELECT sqlcipher_export('mergedesk_backup')").fetchall()
            self.conn.execute(f"PRAGMA mergedesk_backup.user_version = {int(version)}")
        finally:
            self.conn.execute("DETACH DATABASE mergedesk_backup")
        if sys.platform != "win32":
            target.chmod(0o600)
        log.info("backed up cache version %d to %s", version, target.name)
        return target

    def close(self) -> None:
        """Roll back any unfinished transaction, close the file and release the lock."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.audit_seal is not None and not self.readonly:
                self.audit_seal.flush(self.db)
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.release()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "read-write"
        return f"<Cache {self.path} {mode}{' closed' if self._closed else ''}>"


def _backups_beside(path: Path) -> dict[Path, list[Path]]:
    """The backups next to the cache at ``path`` (``<name>.bak-v*``), each with the
    ``-wal``/``-shm``/``-journal`` side files found for it (a side file may outlive its copy)."""
    prefix = f"{path.name}.bak-v"
    copies: dict[Path, list[Path]] = {}
    for found in sorted(path.parent.iterdir()):
        if not found.name.startswith(prefix):
            continue
        suffix = next((s for s in _SIDE_SUFFIXES if found.name.endswith(s)), "")
        copy = found.with_name(found.name.removesuffix(suffix)) if suffix else found
        copies.setdefault(copy, [])
        if suffix:
            copies[copy].append(found)
    return copies


def _remove_earlier_backups(path: Path, *, keep: Path) -> None:
    """Delete the backups earlier updates left next to the cache at ``path``, all but ``keep``.

    Called once an update has succeeded: one copy from before the latest update is enough. A
    file that cannot be deleted (permissions, a Windows lock) stays, with a warning; a copy that
    stays keeps its side files too.
    """
    try:
        copies = _backups_beside(path)
    except OSError as exc:
        log.warning("could not list the earlier cache copies (%s); they stay", exc.strerror)
        return
    removed: list[str] = []
    for copy, side_files in copies.items():
        if copy.name == keep.name:
            continue
        existed = copy.exists()
        if not _remove_file(copy):
            continue  # its side files stay with it
        for side in side_files:
            _remove_file(side)
        if existed:
            removed.append(copy.name)
    if removed:
        log.info("removed %d earlier cache copies: %s", len(removed), ", ".join(removed))


def _remove_file(path: Path) -> bool:
    """Delete ``path`` (gone already is fine); False, with a warning, when it cannot be."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning(
            "could not remove the earlier cache copy %s (%s); it stays",
            path.name,
            exc.strerror or type(exc).__name__,
        )
        return False
    return True


def update_pending(path: Path, key_hex: str) -> bool:
    """True when the cache at ``path`` holds data written by an earlier MergeDesk: opening it
    for writing first copies it aside and then updates it (seconds on a large clinic)."""
    if not Path(path).exists():
        return False
    with Cache.open(path, key_hex, readonly=True) as cache:
        return 0 < cache.schema_version < latest_version(registry.MIGRATIONS)


def _refuse_plain_sqlite(path: Path) -> None:
    """Refuse an unencrypted SQLite file by its header (it is never a MergeDesk cache)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(_PLAIN_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CacheUnreadable(f"The local cache file could not be read: {exc}") from exc
    if header == _PLAIN_SQLITE_HEADER:
        raise CacheUnreadable(
            "The local cache file is an unencrypted database, not a MergeDesk cache. "
            "MergeDesk did not open or change it."
        )


def _connect(path: Path, pragma: str, readonly: bool) -> sqlcipher.Connection:
    """Connect and key the connection; the key is the first statement."""
    try:
        if readonly:
            uri = path.resolve().as_uri() + "?mode=ro"
            conn = sqlcipher.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=False)
    except sqlcipher.Error as exc:
        raise CacheUnreadable(f"The local cache file could not be opened: {exc}") from exc
    try:
        conn.execute(pragma)
        conn.execute(f"PRAGMA cipher_page_size = {CIPHER_PAGE_SIZE}")
        # SQLCipher otherwise prints "hmac check failed" to stderr on a wrong key.
        conn.execute("PRAGMA cipher_log_level = NONE").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def _verify(conn: sqlcipher.Connection) -> int:
    """Prove the key by reading the schema; return ``user_version``. Reads only."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlcipher.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise WrongCacheKey() from exc
        raise CacheUnreadable(f"The local cache file could not be read: {exc}") from exc


def _configure(conn: sqlcipher.Connection, readonly: bool) -> None:
    """Set the connection's pragmas (WAL only for a writer: it may change the file)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA synchronous = FULL")
    # 64 MiB of decrypted pages: index updates during a big sync stay in memory.
    conn.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"The local cache could not switch to WAL mode (got {mode}).")


def open_cache(data_dir: Path, *, readonly: bool = False) -> Cache:
    """Open the data directory's cache with its key from the keychain.

    A new cache gets a new random key. An existing cache whose key is missing raises
    :class:`CacheKeyMissing` (a new key would never open it).

    Raises:
        desktop.secrets.SecretsError: the keychain is locked or unavailable.
        StoreError: any of the cache errors of :meth:`Cache.open`.
    """
    path = paths.cache_path(data_dir)
    if path.exists() and path.stat().st_size > 0:
        try:
            key = keychain.get_cache_key(data_dir)
        except keychain.SecretsError as err:
            if err.state is keychain.KeyringState.NOT_FOUND:
                raise CacheKeyMissing() from err
            raise
    else:
        if readonly:
            raise CacheUnreadable("There is no local cache yet. Download your patients first.")
        key = keychain.get_or_create_cache_key(data_dir)
    from desktop.store.audit_seal import AuditSeal

    seal = AuditSeal.for_data_dir(data_dir, create=not readonly)
    cache = Cache.open(path, key, readonly=readonly)
    cache.audit_seal = seal
    return cache


def set_aside_cache(data_dir: Path) -> Path | None:
    """Rename an unreadable cache (and its -wal/-shm) out of the way so a fresh one can start,
    and forget its audit trail's head in the keychain (the fresh cache starts a new trail,
    which would otherwise read as every entry deleted).

    Takes the writer lock while renaming, so it fails with :class:`CacheInUse` if MergeDesk is
    using the cache. Returns the new name of the main file, or None when there was none.
    """
    path = paths.cache_path(data_dir)
    if not path.exists():
        return None
    stamp = _utc_stamp()
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    writer = WriterLock.acquire(lock_path(path))
    try:
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
        path.rename(target)
    finally:
        writer.release()
    keychain.delete_audit_anchor(data_dir)
    log.warning("The cache could not be opened: set aside as %s", target.name)
    return target
