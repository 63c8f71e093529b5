"""Opening a cache written by an earlier version: a window says it is being updated."""

from __future__ import annotations

from desktop.store import Cache, transaction, upsert_patients
from desktop.store.migrations import LATEST_VERSION, MIGRATIONS
from desktop.store.patients import count_patients
from desktop.ui.busy import BusyDialog
from desktop.ui.cache_update import UPDATING, open_cache_showing_updates


def _patients(n: int) -> list[dict]:
    return [
        {"id": str(1_400_000_000_000_000_000 + i), "first_name": "Ava", "last_name": f"Lee{i}"}
        for i in range(n)
    ]


def test_an_earlier_versions_cache_is_updated_behind_a_window_that_says_so(
    qtbot, tmp_path, monkeypatch, cache_key
):
    path = tmp_path / "cache.db"
    with (
        Cache.open(path, cache_key, migrations=MIGRATIONS[:-1]) as earlier,
        transaction(earlier) as db,
    ):
        upsert_patients(db, _patients(50), synced_at="2026-12-01T00:00:00Z")
    shown: list[tuple[str, str, bool]] = []
    show = BusyDialog.show

    def noted_show(dialog: BusyDialog) -> None:
        show(dialog)
        shown.append((dialog.labelText(), dialog.windowTitle(), dialog.isVisible()))

    monkeypatch.setattr(BusyDialog, "show", noted_show)

    cache = open_cache_showing_updates(path, cache_key)
    try:
        assert cache.schema_version == LATEST_VERSION
        assert count_patients(cache.db) == 50
    finally:
        cache.close()
    assert shown == [(UPDATING, "MergeDesk", True)]
    assert list(tmp_path.glob(f"cache.db.bak-v{LATEST_VERSION - 1}-*")), "the copy it promises"

    # Up to date: it opens at once, with no window.
    open_cache_showing_updates(path, cache_key).close()
    assert len(shown) == 1
