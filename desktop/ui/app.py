"""Start the Qt application: the real app (``gui``) or the demo on a built-in simulator."""

from __future__ import annotations

import logging
import secrets as random_secrets
import shutil
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from desktop import APP_NAME, __version__
from desktop import secrets as keychain
from desktop.config import Settings, load_settings
from desktop.fresh_start import record_fresh_start
from desktop.logging_setup import log_failure
from desktop.paths import cache_path
from desktop.store import Cache, CacheKeyMissing, WrongCacheKey, set_aside_cache
from desktop.store.audit_seal import AuditSeal
from desktop.store.sync_state import get_state
from desktop.sync import LAST_SYNC_AT
from desktop.ui.busy import run_showing
from desktop.ui.cache_update import open_cache_showing_updates
from desktop.ui.context import DeskContext
from desktop.ui.held_keys import guard_held_keys
from desktop.ui.main_window import MainWindow
from desktop.ui.single_instance import ShowRequests, answering_later_starts
from desktop.ui.theme import apply_theme
from desktop.ui.workers import stop_every_job

if TYPE_CHECKING:
    from desktop.simulator import Simulator

log = logging.getLogger(__name__)
DEMO_FIRST_DUPLICATE = 25.0  # seconds after the demo starts
DEMO_WATCH_MINUTES = 0.25  # the demo's watch looks every 15 s
# From this size, building the sample clinic takes seconds: a window says so meanwhile.
DEMO_BUSY_FROM = 20_000


def _application() -> QApplication:
    if QApplication.instance() is None:
        # Crisp at 125 % and 150 % too: pass fractional scale factors through unrounded.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    apply_theme(app)  # type: ignore[arg-type]
    guard_held_keys(app)  # from the first dialog on (the welcome dialog comes before the window)
    sys.excepthook = _show_unhandled
    return app  # type: ignore[return-value]


def _show_unhandled(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    """Log an unhandled exception and tell the user in a dialog; never swallow it."""
    log_failure(log, "Unhandled error", error.with_traceback(tb))
    message = getattr(error, "user_message", None) or (
        "Something went wrong. Your work is saved. The details are in the log file."
    )
    QMessageBox.critical(None, APP_NAME, message)


class SampleClinic:
    """The first-start choice "Try it on a sample clinic" (instead of a key)."""


def _api_key(data_dir: Path, settings: Settings) -> str | SampleClinic | None:
    """The folder's saved API key, one the person pastes into the welcome dialog now, or the
    sample clinic (None: they quit)."""
    try:
        return keychain.get_api_key(data_dir)
    except keychain.SecretsError as error:
        if error.state is not keychain.KeyringState.NOT_FOUND:
            QMessageBox.warning(None, APP_NAME, error.user_message)
    from desktop.ui.connect_dialog import ConnectDialog

    dialog = ConnectDialog(base_url=settings.base_url, data_dir=data_dir)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    if dialog.wants_demo:
        return SampleClinic()
    return None if dialog.info is None else dialog.info.api_key


def _clinic_cache(data_dir: Path) -> tuple[Cache, str] | None:
    """The clinic's cache and its key. One this computer cannot open (a reset keychain, a file
    from another computer) is set aside for a fresh one if the person agrees; None if not."""
    cache_key = keychain.get_or_create_cache_key(data_dir)
    aside = None
    try:
        cache = open_cache_showing_updates(cache_path(data_dir), cache_key)
    except (WrongCacheKey, CacheKeyMissing) as error:
        if not _fresh_start_agreed(error.user_message):
            return None
        aside = set_aside_cache(data_dir)
        cache = open_cache_showing_updates(cache_path(data_dir), cache_key)
    cache.audit_seal = AuditSeal.for_data_dir(data_dir, create=True)
    if aside is not None:
        record_fresh_start(cache, aside)
    return cache, cache_key


def _fresh_start_agreed(problem: str) -> bool:
    """Ask whether to start a fresh cache (the old file kept aside) or quit."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, problem)
    box.setInformativeText(
        'It stays in MergeDesk\'s data folder, its name ending in "unreadable" and the date. '
        "Nothing changes in Cliniko."
    )
    fresh = box.addButton("Start a fresh cache", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(fresh)
    box.exec()
    return box.clickedButton() is fresh


def _cannot_open(error: Exception) -> int:
    """Say in a window why the cache could not be opened (started from its icon, MergeDesk has
    no console to print to); exit status 2. An error without words for the person is raised
    again. (A cache in use by a MergeDesk with a window is not met here: that one answered this
    start at its beginning and brought its window forward. This one is a sync from the command
    line.)"""
    message = getattr(error, "user_message", None)
    if message is None:
        raise error
    QMessageBox.warning(None, APP_NAME, message)
    return 2


def _main_window(ctx: DeskContext, *requests: ShowRequests) -> MainWindow:
    """The main window, shown, which a second start of MergeDesk brings forward (``requests``
    listen for those starts)."""
    window = MainWindow(ctx)
    for listener in requests:
        listener.setParent(window)
        listener.show_requested.connect(window.watch_desk.reopen)
    window.show()
    return window


def open_window(ctx: DeskContext, requests: ShowRequests) -> MainWindow:
    """Build and show the main window; start a first sync when the cache was never synced."""
    window = _main_window(ctx, requests)
    window.watch_desk.start()
    if get_state(ctx.open_reader().db, LAST_SYNC_AT) is None:
        QTimer.singleShot(0, window.sync_panel.start_sync)
    return window


def run_app(data_dir: Path) -> int:
    """Open the main window for the clinic whose key is in the keychain (asking for it first);
    or, when MergeDesk is open on this folder already, bring its window forward."""
    app = _application()
    with answering_later_starts(data_dir) as requests:
        return 0 if requests is None else _run_clinic(app, data_dir, requests)


def _run_clinic(app: QApplication, data_dir: Path, requests: ShowRequests) -> int:
    """The welcome dialog if the keychain has no key, then the clinic's window."""
    settings = load_settings(data_dir)
    api_key = _api_key(data_dir, settings)
    if api_key is None:
        return 1
    if isinstance(api_key, SampleClinic):
        return run_demo(data_dir, answering=requests)
    try:
        opened = _clinic_cache(data_dir)
    except Exception as error:
        return _cannot_open(error)
    if opened is None:
        return 2
    cache, cache_key = opened
    try:
        ctx = DeskContext(data_dir, cache, cache_key, api_key, settings.base_url, settings)
        window = open_window(ctx, requests)
        window.raise_()
        return app.exec()
    finally:
        stop_every_job()
        cache.close()


def _sample_clinic(patients: int, seed: int) -> Simulator:
    """The demo's simulator with its sample clinic, built behind a window when large."""
    from desktop.simulator import Simulator

    if patients < DEMO_BUSY_FROM:
        return Simulator(size=patients, seed=seed)
    text = f"Preparing the sample clinic: {patients:,} patients. This takes a few seconds."
    return run_showing(text, "sample-clinic", lambda: Simulator(size=patients, seed=seed))


def _demo_cache(demo_dir: Path, cache_key: str) -> Cache:
    """The demo's cache. One the keychain's key does not open (the keychain was reset) holds
    only the sample clinic, so it is set aside for a fresh one without asking."""
    try:
        return open_cache_showing_updates(cache_path(demo_dir), cache_key)
    except (WrongCacheKey, CacheKeyMissing):
        set_aside_cache(demo_dir)
        return open_cache_showing_updates(cache_path(demo_dir), cache_key)


def run_demo(
    data_dir: Path,
    *,
    patients: int = 3000,
    seed: int = 1,
    quit_after: float | None = None,
    answering: ShowRequests | None = None,
) -> int:
    """Run the simulator in-process with a sample clinic and open the app on it.

    The demo keeps its data apart from the real clinic's (``<data dir>/demo``) and connects
    with the simulator's demo key (never stored). Its cache key goes into the system keychain
    like the real one; where there is no keychain, the demo's fictional data lives in a
    temporary folder with a key held only in memory, and is deleted when the demo closes.
    ``answering``: the real app's starts on ``data_dir`` (the sample clinic was chosen in its
    welcome dialog), which bring the demo's window forward too.
    """
    app = _application()
    demo_dir = data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    with answering_later_starts(demo_dir) as requests:
        if requests is None:
            return 0
        listeners = [requests] if answering is None else [requests, answering]
        return _run_sample_clinic(app, demo_dir, listeners, patients, seed, quit_after)


def _run_sample_clinic(
    app: QApplication,
    demo_dir: Path,
    requests: list[ShowRequests],
    patients: int,
    seed: int,
    quit_after: float | None,
) -> int:
    """The sample clinic's window on its simulator, until it closes."""
    notice = ""
    temporary: Path | None = None
    try:
        cache_key = keychain.get_or_create_cache_key(demo_dir)
    except keychain.SecretsError as error:
        temporary = Path(tempfile.mkdtemp(prefix="mergedesk-demo-"))
        demo_dir = temporary
        cache_key = random_secrets.token_hex(32)
        notice = f"{error.user_message} The demo's sample data is kept in a temporary folder."
    try:
        try:
            demo_cache = _demo_cache(demo_dir, cache_key)
        except Exception as error:
            return _cannot_open(error)
        with demo_cache as cache, _sample_clinic(patients, seed) as simulator:
            if temporary is None:  # the demo's trail is sealed like the real one's
                cache.audit_seal = AuditSeal.for_data_dir(demo_dir, create=True)
            settings = load_settings(demo_dir)
            # New patients keep arriving; the first duplicate within a minute, noticed fast.
            simulator.go_live(hours=24, seed=seed, first_duplicate_after=DEMO_FIRST_DUPLICATE)
            settings.watch_every_minutes = DEMO_WATCH_MINUTES
            ctx = DeskContext(
                demo_dir, cache, cache_key, simulator.api_key, simulator.base_url, settings,
                title="Demo clinic (sample data)", sample=True,
            )  # fmt: skip
            window = _main_window(ctx, *requests)
            window.watch_desk.start()
            if notice:
                window.statusBar().showMessage(notice)
            if quit_after is not None:
                QTimer.singleShot(int(quit_after * 1000), window.close)
            QTimer.singleShot(0, window.sync_panel.start_sync)
            try:
                return app.exec()
            finally:
                stop_every_job()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
