"""Errors raised by the cache, each with a message fit to show to a practice administrator."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for cache errors; ``str(err)`` and ``user_message`` are plain words."""

    default_message = "The local cache could not be used."

    def __init__(self, message: str | None = None) -> None:
        self.user_message = message or self.default_message
        super().__init__(self.user_message)


class CacheUnreadable(StoreError):
    """The file is not a MergeDesk cache that this key can open."""

    default_message = (
        "The local cache file could not be read. It may be damaged or not a MergeDesk cache."
    )


class WrongCacheKey(CacheUnreadable):
    """The key in the keychain does not unlock the cache (or the file is not a database)."""

    default_message = (
        "The local cache could not be unlocked with the key in your keychain. The keychain "
        "may have been reset or the file copied from another computer. MergeDesk can start a "
        "fresh cache and download your patients again; the old file is kept aside."
    )


class CacheKeyMissing(CacheUnreadable):
    """A cache file exists but the keychain has no key for it."""

    default_message = (
        "A local cache exists but its key is missing from your keychain, so it cannot be "
        "opened. MergeDesk can start a fresh cache and download your patients again; the old "
        "file is kept aside."
    )


class CacheInUse(StoreError):
    """Another MergeDesk (or another writer in this one) has the cache open for writing."""

    default_message = (
        "MergeDesk is already open on this computer and is using the local cache. Close the "
        "other MergeDesk window (or wait for it to finish) and try again."
    )


class NewerSchema(StoreError):
    """The cache was written by a newer MergeDesk; it is left untouched."""

    default_message = (
        "This cache was written by a newer version of MergeDesk. Install the newer version "
        "to open it. The file has not been changed."
    )


class MigrationFailed(StoreError):
    """Upgrading the cache's schema failed; the failed step was rolled back."""

    default_message = "Updating the local cache to this version of MergeDesk failed."
