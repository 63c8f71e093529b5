"""GUI heartbeat: does the GUI thread stay responsive while the desk works? (run on demand)

A 20 ms QTimer on the GUI thread records the gap between its ticks while the main window
(1) syncs and scans a simulated clinic of 50,000 patients in its workers, (2) reloads a merge
queue of 20,000 pairs, and (3) scrolls through that queue page by page and row by row. The
largest gap is how long the GUI was blocked; it must stay under 100 ms. The simulator runs
in its own process (``mergedesk simulator``), as Cliniko is another machine; its rate limit
and the client's pacing are lifted so the sync is not spent waiting.

    uv run python tests/benchmarks/gui_heartbeat.py [--patients N] [--queue N]

``HEARTBEAT_DEBUG=1`` also prints every gap over 50 ms and every garbage-collector pause over
20 ms, with their times.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop.config import Settings
from desktop.store.cache import Cache
from desktop.store.transaction import transaction
from desktop.ui.context import DeskContext
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from desktop.ui.workers import stop_every_job

LIMIT_MS = 100.0


class Heartbeat:
    """Ticks every 20 ms on the GUI thread and records the gaps between ticks."""

    def __init__(self, interval_ms: int = 20) -> None:
        self.interval = interval_ms
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.gaps: list[float] = []
        self.times: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps = []
        self.times: list[float] = []
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self.times.append(now)
        self._last = now

    def summary(
        self, since: float = 0.0, until: float = float("inf")
    ) -> tuple[int, float, float, float]:
        gaps = [g for t, g in zip(self.times, self.gaps, strict=True) if since <= t <= until]
        gaps = gaps or [0.0]
        p99 = sorted(gaps)[int(len(gaps) * 0.99) - 1] if len(gaps) > 1 else gaps[0]
        return len(gaps), statistics.median(gaps), p99, max(gaps)


class RemoteSimulator:
    """The address and key of a simulator running in another process."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key


@contextlib.contextmanager
def simulator_process(patients: int) -> Iterator[RemoteSimulator]:
    """Run ``mergedesk simulator`` in its own process, as Cliniko is another machine."""
    command = [sys.executable, "-m", "desktop", "simulator", "--patients", str(patients),
               "--seed", "3", "--rate-limit", "1000000"]  # fmt: skip
    # At the lowest priority: Cliniko's work happens on another machine, not on the cores the
    # window shares (the simulator still gets every cycle nothing else wants).
    lowest = (lambda: os.nice(19)) if hasattr(os, "nice") else None
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, preexec_fn=lowest)
    try:
        assert process.stdout is not None
        base_url, api_key = process.stdout.readline().split()
        yield RemoteSimulator(base_url, api_key)
    finally:
        process.terminate()
        process.wait(10)


def wait_until(condition, timeout_s: float) -> None:
    """Run the event loop until ``condition()`` holds, sleeping between events as the app's
    own event loop does (a loop that polls without waiting keeps the GUI thread busy, and on a
    loaded machine the scheduler then makes it wait its turn: stalls the app would not have)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    wake = QTimer()
    wake.start(50)  # look at the condition at least this often
    try:
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("timed out")
            loop.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        wake.stop()


def bench_window(sim: RemoteSimulator, prefix: str) -> MainWindow:
    """A main window shown at 1280x800 on a new encrypted cache in a temporary folder named
    ``prefix``..., connected to ``sim`` without client pacing (the simulator is local)."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    key = secrets.token_hex(32)
    cache = Cache.open(data_dir / "cache.db", key)
    ctx = DeskContext(data_dir, cache, key, sim.api_key, sim.base_url, Settings())
    ctx.requests_per_minute = 100_000
    window = MainWindow(ctx)
    window.resize(1280, 800)
    window.show()
    return window


def fake_pairs(cache: Cache, wanted: int) -> None:
    """Add random pairs of cached patients to the queue until it holds ``wanted`` pairs."""
    ids = [r[0] for r in cache.db.execute("SELECT id FROM patients").fetchall()]
    have = cache.db.execute("SELECT count(*) FROM match_pairs").fetchone()[0]
    rng = random.Random(5)
    rows = set()
    while len(rows) < wanted - have:
        a, b = sorted(rng.sample(ids, 2))
        rows.add((a, b))
    with transaction(cache) as db:
        db.conn.executemany(
            "INSERT OR IGNORE INTO match_pairs (id_a, id_b, probability, weight, band, evidence,"
            " status, scored_at) VALUES (?, ?, ?, 1.0, ?, '[]', 'new', '2026-01-01T00:00:00Z')",
            [(a, b, rng.random() * 0.6 + 0.3, "possible") for a, b in rows],
        )


GC_PAUSES: list[tuple[float, int, float]] = []


def _gc_watch(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_watch.started = time.perf_counter()  # type: ignore[attr-defined]
    else:
        took = (time.perf_counter() - _gc_watch.started) * 1000  # type: ignore[attr-defined]
        if took > 20:
            GC_PAUSES.append((time.perf_counter(), info["generation"], took))


def gui_app() -> QApplication:
    """The themed application the benchmarks measure; with HEARTBEAT_DEBUG set, collector
    pauses are listed too."""
    if os.environ.get("HEARTBEAT_DEBUG"):
        import gc

        gc.callbacks.append(_gc_watch)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--queue", type=int, default=20_000)
    args = parser.parse_args()

    app = gui_app()
    beat = Heartbeat()
    results: list[tuple[str, float, tuple[int, float, float, float]]] = []
    print(f"Generating a simulated clinic of {args.patients:,} patients…", flush=True)
    with simulator_process(args.patients) as sim:
        window = bench_window(sim, "heartbeat-")
        ctx, cache = window.ctx, window.ctx.cache
        panel = window.sync_panel

        marks: dict[str, float] = {}

        def mark_synced(_result: object) -> None:
            marks["synced"] = time.perf_counter()

        def mark_scanned() -> None:
            marks["scanned"] = time.perf_counter()

        settle = time.monotonic() + 1.0
        wait_until(lambda: time.monotonic() > settle, 5)  # first paint is not measured
        panel.sync_finished.connect(mark_synced)
        panel.queue_changed.connect(mark_scanned)
        started = time.perf_counter()
        beat.start()
        panel.start_sync()
        wait_until(lambda: "scanned" in marks, 3600)
        wait_until(lambda: not ctx.workers.is_running("queue"), 600)
        beat.stop()
        if os.environ.get("HEARTBEAT_DEBUG"):
            pairs = zip(beat.times, beat.gaps, strict=True)
            big = [(round(t - started, 2), round(g)) for t, g in pairs if g > 50]
            print("gaps > 50 ms (s, ms):", big, "synced at", round(marks["synced"] - started, 2))
        results.append(("sync", marks["synced"] - started, beat.summary(started, marks["synced"])))
        results.append(
            (
                "scan",
                marks["scanned"] - marks["synced"],
                beat.summary(marks["synced"], marks["scanned"]),
            )
        )
        print(f"  {panel.rate_label.text()}", flush=True)

        fake_pairs(cache, args.queue)
        started = time.perf_counter()
        beat.start()
        QTimer.singleShot(0, window.reload_queue)
        try:
            wait_until(lambda: window.queue_model.total() >= args.queue * 0.99, 120)
        except TimeoutError:
            print(window.queue_model.rowCount(), window.statusBar().currentMessage())
            raise
        for _ in range(5):
            app.processEvents()
        beat.stop()
        rows = window.queue_model.total()
        if os.environ.get("HEARTBEAT_DEBUG"):
            pairs = zip(beat.times, beat.gaps, strict=True)
            print(
                "load gaps > 50:", [(round(t - started, 2), round(g)) for t, g in pairs if g > 50]
            )
            print(
                "gc pauses > 20ms:", [(round(t - started, 2), g, round(d)) for t, g, d in GC_PAUSES]
            )
        results.append(
            (f"load queue ({rows:,} rows)", time.perf_counter() - started, beat.summary())
        )

        view = window.queue_view
        view.show_status("All")
        bar = view.table.verticalScrollBar()

        def drive(step, done, label: str) -> None:
            begun = time.perf_counter()
            beat.start()
            driver = QTimer()
            driver.setInterval(16)
            driver.timeout.connect(step)
            driver.start()
            wait_until(done, 600)
            driver.stop()
            beat.stop()
            results.append((label, time.perf_counter() - begun, beat.summary()))

        bar.setValue(0)
        drive(
            lambda: bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep())),
            lambda: bar.value() >= bar.maximum(),
            f"scroll {rows:,} rows by page",
        )
        view.select_row(0)
        drive(
            view.select_next, lambda: view.table.currentIndex().row() >= 300, "next pair (J) x 300"
        )
        window.close()
        stop_every_job()
        cache.close()

    print()
    head = f"{'phase':<30} {'seconds':>8} {'ticks':>7} {'median ms':>10} {'p99 ms':>8}"
    print(f"{head} {'max gap ms':>11}")
    worst = 0.0
    for name, seconds, (ticks, median, p99, biggest) in results:
        worst = max(worst, biggest)
        print(f"{name:<30} {seconds:>8.1f} {ticks:>7} {median:>10.1f} {p99:>8.1f} {biggest:>11.1f}")
    verdict = "OK" if worst < LIMIT_MS else "TOO SLOW"
    print(f"\nLargest gap: {worst:.1f} ms (limit {LIMIT_MS:.0f} ms): {verdict}")
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of Qt wrappers (not what is measured)
