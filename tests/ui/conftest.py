"""Fixtures for the Qt tests: a running simulator and a prepared encrypted cache."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def closed_port_url() -> str:
    """A loopback base URL nothing listens on (connections are refused at once)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot):
    """Fail a test that leaves a background QThread running; stop it either way."""
    from desktop.ui.workers import Workers, stop_every_job

    yield
    qtbot.waitUntil(lambda: not any(t.isRunning() for t in Workers._live), timeout=20_000)
    stop_every_job()
