"""Fixtures for the Qt tests: a running simulator and a prepared encrypted cache."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import prepare_cache

from desktop.simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A small sample clinic served over real HTTP on loopback."""
    with Simulator(size=300, seed=7) as simulator:
        yield simulator


@pytest.fixture
def data_dir(private_environment: Path) -> Path:
    """This test's private data directory."""
    return private_environment


@pytest.fixture
def cache_key() -> str:
    """A random cache key (the real app keeps it in the keychain)."""
    return secrets.token_hex(32)


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot):
    """Fail a test that leaves a background QThread running; stop it either way."""
    from desktop.ui.workers import Workers, stop_every_job

    yield
    qtbot.waitUntil(lambda: not any(t.isRunning() for t in Workers._live), timeout=20_000)
    stop_every_job()


class Desk:
    """Opens main windows on one cache, and closes them (and the cache) at the end."""

    def __init__(self, qtbot, data_dir: Path, key: str, base_url: str, api_key: str) -> None:
        self.qtbot = qtbot
        self.data_dir = data_dir
        self.key = key
        self.base_url = base_url
        self.api_key = api_key
        self.path = data_dir / "cache.db"
        self.cache = None
        self.window = None

    def open(self, base_url: str | None = None, *, sample: bool = False):
        """Open the cache and a main window (base_url overrides the server, e.g. offline;
        ``sample``: as the demo opens its sample clinic)."""
        from desktop.config import Settings
        from desktop.store.cache import Cache
        from desktop.ui.context import DeskContext
        from desktop.ui.main_window import MainWindow

        self.cache = Cache.open(self.path, self.key)
        ctx = DeskContext(
            self.data_dir, self.cache, self.key, self.api_key, base_url or self.base_url,
            Settings(), sample=sample,
        )  # fmt: skip
        self.window = MainWindow(ctx)
        self.window.show()
        self.qtbot.waitExposed(self.window)
        self.window.activateWindow()
        self.qtbot.waitUntil(self.window.isActiveWindow, timeout=5_000)
        window = self.window
        self.qtbot.waitUntil(lambda: window.queue_ready, timeout=10_000)
        return self.window

    def close(self) -> None:
        """Close the window (as the person would) and the cache."""
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None
        if self.cache is not None:
            self.cache.close()
            self.cache = None


@pytest.fixture
def desk(qtbot, sim, data_dir, cache_key) -> Iterator[Desk]:
    """A desk over a synced and scanned copy of the simulator's clinic."""
    prepare_cache(sim, data_dir / "cache.db", cache_key)
    d = Desk(qtbot, data_dir, cache_key, sim.base_url, sim.api_key)
    yield d
    d.close()


@pytest.fixture
def empty_desk(qtbot, sim, data_dir, cache_key) -> Iterator[Desk]:
    """A desk over an empty cache."""
    d = Desk(qtbot, data_dir, cache_key, sim.base_url, sim.api_key)
    yield d
    d.close()
