"""Take screenshots of the running app: the queue, the compare view and the merge wizard.

Starts the simulator with a sample clinic, syncs and scans it into a temporary encrypted
cache, opens the main window and grabs it (offscreen rendering works without a display).

    uv run python build/screenshots.py [--out docs/screenshots] [--dark]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from desktop.config import Settings  # noqa: E402
from desktop.merge import Step  # noqa: E402
from desktop.scan import run_scan  # noqa: E402
from desktop.session import Session  # noqa: E402
from desktop.simulator import Simulator  # noqa: E402
from desktop.store.cache import Cache  # noqa: E402
from desktop.sync import run_sync  # noqa: E402
from desktop.ui.context import DeskContext  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from desktop.ui.theme import apply_theme, build_palette  # noqa: E402
from desktop.ui.workers import stop_every_job  # noqa: E402


def settle(app: QApplication, until=None, timeout_s: float = 30.0) -> None:
    """Process events for a moment (or until ``until()`` holds)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
        if until is None and time.monotonic() - start >= 0.5:
            return
        if until is not None and until():
            app.processEvents()
            return
    raise TimeoutError("the app did not get there in time")


def grab(widget: QWidget, path: Path) -> None:
    """Save a widget's rendering (at the screen's device pixel ratio)."""
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--patients", type=int, default=800)
    parser.add_argument("--dark", action="store_true", help="use the dark palette")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    if args.dark:
        app.setPalette(build_palette(True))
    suffix = "-dark" if args.dark else ""
    data_dir = Path(tempfile.mkdtemp(prefix="mergedesk-shots-"))
    key = secrets.token_hex(32)
    with (
        Simulator(size=args.patients, seed=11) as sim,
        Cache.open(data_dir / "cache.db", key) as cache,
    ):
        if True:
            with Session(cache, sim.api_key, base_url=sim.base_url) as session:
                session.identify_user()
                run_sync(session)
            run_scan(cache)
            ctx = DeskContext(
                data_dir, cache, key, sim.api_key, sim.base_url, Settings(),
                title="Demo clinic (sample data)",
            )  # fmt: skip
            window = MainWindow(ctx)
            window.resize(1360, 820)
            window.show()
            settle(app, lambda: window.queue_ready)
            window.sync_panel.refresh_status()
            ctx.connectivity.set_online(True)

            def history_known() -> bool:
                view = window.compare_view
                return all(isinstance(view.model.history_of(i), dict) for i in view.ids)

            # the queue, with the first pair open
            window.queue_view.select_row(0)
            settle(app, history_known)
            grab(window, args.out / f"queue{suffix}.png")

            # the compare view on a look-alike pair (twins, parent and child...), if any
            model = window.queue_model
            lookalike = next(
                (model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).lookalike),
                None,
            )
            if lookalike is not None:
                window.queue_view.select_key(lookalike.key)
            settle(app, history_known)
            grab(window.compare_view, args.out / f"compare{suffix}.png")

            # the merge wizard at the field reconciliation step
            lone = next(
                model.row_at(i)
                for i in range(model.rowCount())
                if model.row_at(i).cluster_id is None and not model.row_at(i).lookalike
            )
            window.queue_view.select_key(lone.key)
            settle(app)
            window.open_merge(lone)
            wizard = window.wizard
            assert wizard is not None
            for _ in range(2):
                wizard.go_next()
            settle(app)
            assert wizard.step is Step.RECONCILE
            grab(wizard, args.out / f"merge-wizard{suffix}.png")
            wizard.go_next()
            wizard.go_next()
            wizard.apply()
            settle(app, lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO)
            grab(wizard, args.out / f"merge-in-cliniko{suffix}.png")
            wizard.reject()
            window.close()
            settle(app)
            stop_every_job()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of Qt wrappers
