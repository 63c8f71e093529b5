"""Watch benchmark: one watch interval on a large clinic, in the window (run on demand).

A simulated clinic of 100,000 patients runs in its own process (``mergedesk simulator``, as
Cliniko is another machine). The main window syncs and scans it, runs a first watch interval
(the baseline and the clinic's upcoming appointments), then 20 new patients are created through
the API (five of them name-and-phone copies of existing patients, the way a phone assistant
makes them) and one interval is measured: requests to Cliniko, wall seconds, seconds waiting on
HTTP, local seconds (wall minus HTTP), new pairs, and the GUI thread's largest stall (a 20 ms
heartbeat, see gui_heartbeat.py). A quiet interval follows (nothing changed).
Targets: <= 3 requests and <= 1 s local work per interval, GUI stall < 100 ms.

    uv run python tests/benchmarks/watch_bench.py [--patients 100000] [--new 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


from desktop.cliniko.client import ClinikoClient  # noqa: E402
from desktop.simulator.live import ASSISTANT_NOTE  # noqa: E402
from desktop.store.cache import Cache  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from desktop.ui.workers import stop_every_job  # noqa: E402
from desktop.watch import Watch  # noqa: E402
from tests.benchmarks.gui_heartbeat import (  # noqa: E402
    GC_PAUSES,
    Heartbeat,
    bench_window,
    gui_app,
    simulator_process,
    wait_until,
)

HTTP_SECONDS = [0.0]
WATCH_THREADS: set[int] = set()


def _timed_requests() -> None:
    """Count the seconds the watch's thread spends in HTTP requests (not the other workers')."""
    original_request, original_run = ClinikoClient.request, Watch.run_once

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original_request(self, *args, **kwargs)
        finally:
            if threading.get_ident() in WATCH_THREADS:
                HTTP_SECONDS[0] += time.perf_counter() - started

    def run_once(self):  # type: ignore[no-untyped-def]
        WATCH_THREADS.add(threading.get_ident())
        return original_run(self)

    ClinikoClient.request = request  # type: ignore[method-assign]
    Watch.run_once = run_once  # type: ignore[method-assign]


class StallSampler:
    """With ``HEARTBEAT_DEBUG``: while the GUI thread is late for its heartbeat, sample what
    every thread runs (every 5 ms), so a stall names its cause: the GUI thread's own work, or
    another thread holding the interpreter."""

    def __init__(self, beat: Heartbeat, late_ms: float = 40.0) -> None:
        self.beat, self.late = beat, late_ms / 1000
        self.gui = threading.get_ident()
        self.gui_task = Path(f"/proc/self/task/{threading.get_native_id()}")
        self.samples: list[tuple[float, dict[str, str]]] = []
        self.running = False

    def start(self) -> None:
        self.samples, self.running = [], True
        threading.Thread(target=self._run, name="stall-sampler", daemon=True).start()

    def stop(self) -> None:
        self.running = False

    def _run(self) -> None:
        import sys as _sys
        import traceback

        while self.running:
            time.sleep(0.005)
            now = time.perf_counter()
            if now - self.beat._last < self.late:
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks = {}
            for ident, frame in _sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                top = traceback.extract_stack(frame)[-4:]
                where = " < ".join(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in top[::-1]
                )
                stacks["GUI" if ident == self.gui else names.get(ident, str(ident))] = where
            stacks["GUI"] += " | " + self._gui_state()
            self.samples.append((now, stacks))

    def _gui_state(self) -> str:
        """The GUI thread as the kernel sees it: run state, CPU ticks, where it waits."""
        try:
            fields = (self.gui_task / "stat").read_text().rsplit(")", 1)[1].split()
            wchan = (self.gui_task / "wchan").read_text()
        except OSError:
            return "?"
        return f"state {fields[0]} cpu {int(fields[11]) + int(fields[12])} wchan {wchan}"

    def report(self, started: float) -> None:
        """Print the samples of each stall (consecutive samples less than 30 ms apart)."""
        last = -1.0
        for at, stacks in self.samples:
            if at - last > 0.03:
                print(f"--- stall sampled at {at - started:.2f} s", flush=True)
            last = at
            for thread, where in stacks.items():
                if thread == "GUI" or ("wait" not in where and "select" not in where):
                    print(f"  {at - started:6.3f} {thread}: {where}", flush=True)


def _new_patients(cache: Cache, count: int) -> list[dict]:
    """``count`` new patients: a quarter of them name-and-phone copies of cached ones."""
    copies = count // 4
    rows = cache.db.execute(
        "SELECT first_name, last_name, phones FROM patients WHERE archived_at IS NULL "
        "AND phones LIKE '[{%' ORDER BY rowid LIMIT ? OFFSET 777",
        [copies],
    ).fetchall()
    out = [
        {"first_name": first, "last_name": last,
         "patient_phone_numbers": [{"number": json.loads(phones)[0]["number"],
                                    "phone_type": "Mobile"}],
         "notes": ASSISTANT_NOTE + "."}
        for first, last, phones in rows
    ]  # fmt: skip
    for n in range(count - len(out)):
        out.append(
            {"first_name": f"Newcomer{n}", "last_name": f"Benchmark{n}q",
             "date_of_birth": f"{1950 + n}-0{1 + n % 9}-1{n % 9}",
             "email": f"newcomer{n}@example.org",
             "patient_phone_numbers": [{"number": f"04{91_000_000 + n * 7:08d}",
                                        "phone_type": "Mobile"}]}
        )  # fmt: skip
    return out


def _interval(window: MainWindow, beat: Heartbeat) -> tuple[object, float, float, tuple]:
    """Run one watch interval from the window and wait for the queue; return the report,
    wall seconds, HTTP seconds and the heartbeat summary over the interval and the reload."""
    desk = window.watch_desk
    done: list[object] = []
    desk.interval_done.connect(done.append)
    HTTP_SECONDS[0] = 0.0
    beat.start()
    sampler = StallSampler(beat)
    if os.environ.get("HEARTBEAT_DEBUG"):
        sampler.start()
    started = time.perf_counter()
    desk.run_interval()
    wait_until(lambda: bool(done), 600)
    wall = time.perf_counter() - started
    wait_until(lambda: not window.ctx.workers.is_running("queue"), 600)
    beat.stop()
    sampler.stop()
    if os.environ.get("HEARTBEAT_DEBUG"):
        sampler.report(started)
        gaps = zip(beat.times, beat.gaps, strict=True)
        big = [(round(t - started, 2), round(g)) for t, g in gaps if g > 50]
        pauses = [(round(t - started, 2), g, round(ms)) for t, g, ms in GC_PAUSES if t >= started]
        print(f"gaps > 50 ms (s, ms): {big}; interval done at {wall:.2f} s", flush=True)
        print(f"garbage-collector pauses > 20 ms (s, generation, ms): {pauses}", flush=True)
    desk.interval_done.disconnect(done.append)
    return done[0], wall, HTTP_SECONDS[0], beat.summary()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=20)
    args = parser.parse_args()

    gui_app()
    _timed_requests()
    beat = Heartbeat()
    print(f"Generating a simulated clinic of {args.patients:,} patients…", flush=True)
    with simulator_process(args.patients) as sim:
        window = bench_window(sim, "watch-bench-")
        ctx, cache = window.ctx, window.ctx.cache
        scanned: list[bool] = []
        window.sync_panel.queue_changed.connect(lambda: scanned.append(True))
        window.sync_panel.start_sync()
        print("Syncing and scanning…", flush=True)
        wait_until(lambda: bool(scanned), 3600)
        wait_until(lambda: not ctx.workers.is_running("queue"), 600)

        rows = []
        # The simulator makes up every patient's history the first time the clinic's
        # appointments are listed (a minute or more at 100k): look again until it answers.
        for _attempt in range(20):
            first = _interval(window, beat)
            if not first[0].offline:  # type: ignore[attr-defined]
                break
        rows.append(("first interval (baseline, appointments)", *first))
        with ClinikoClient(sim.api_key, base_url=sim.base_url) as client:
            for patient in _new_patients(cache, args.new):
                client.post("/patients", json=patient)
        rows.append((f"{args.new} new patients", *_interval(window, beat)))
        rows.append(("nothing changed", *_interval(window, beat)))
        window.close()
        stop_every_job()
        cache.close()

    print()
    print(f"{'interval':<42} {'requests':>8} {'pairs':>6} {'wall s':>7} {'HTTP s':>7} "
          f"{'local s':>8} {'GUI max ms':>10}")  # fmt: skip
    for label, report, wall, http, (_n, _median, _p99, biggest) in rows:
        print(
            f"{label:<42} {report.requests:>8} {len(report.new_pairs):>6} {wall:>7.2f} "
            f"{http:>7.2f} {wall - http:>8.2f} {biggest:>10.0f}"
        )
    print("\nTargets: <= 3 requests and <= 1 s local work per interval; GUI stall < 100 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
