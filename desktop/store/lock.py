"""An OS-level, non-blocking lock file that allows one writer per cache."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO

from desktop.store.errors import CacheInUse


def lock_path(db_path: Path) -> Path:
    """Return the lock file that guards ``db_path`` (``cache.db.lock``)."""
    return db_path.with_name(db_path.name + ".lock")


class WriterLock:
    """An exclusive lock on a file, held until :meth:`release` (or the process ends).

    Uses ``fcntl.flock`` on POSIX and ``msvcrt.locking`` on Windows. Both are released by the
    OS when the process dies, so a crash never leaves a stale lock behind. The lock file itself
    is never deleted (deleting it would race with another process taking it).
    """

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: IO[bytes] | None = handle

    @classmethod
    def acquire(cls, path: Path) -> WriterLock:
        """Take the lock or raise :class:`CacheInUse` at once (never waits)."""
        handle = open(path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            _lock(handle)
        except OSError as exc:
            handle.close()
            raise CacheInUse() from exc
        return cls(path, handle)

    @property
    def held(self) -> bool:
        """True until released."""
        return self._handle is not None

    def release(self) -> None:
        """Release the lock (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            _unlock(handle)
        finally:
            handle.close()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["WriterLock", "lock_path"]
