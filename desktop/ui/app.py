"""Start the Qt application: the real app (``gui``) or the demo on a built-in simulator."""

from __future__ import annotations

import logging
import secrets as random_secrets
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import APP_NAME, __version__
from desktop import secrets as keychain
from desktop.config import load_settings
from desktop.paths import cache_path
from desktop.store.cache import Cache
from desktop.ui.status_window import StatusWindow

log = logging.getLogger(__name__)


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    sys.excepthook = _show_unhandled
    return app  # type: ignore[return-value]


def _show_unhandled(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    """Log an unhandled exception and tell the user in a dialog; never swallow it."""
    log.error("Unhandled error:\n%s", "".join(traceback.format_exception(kind, error, tb)))
    message = getattr(error, "user_message", None) or (
        "Something went wrong. Your work is saved. The details are in the log file."
    )
    QMessageBox.critical(None, APP_NAME, message)


def _prepare_cache(path: Path, key: str) -> None:
    """Create or migrate the cache before any window reads it."""
    with Cache.open(path, key):
        pass


def run_app(data_dir: Path) -> int:
    """Open the main window for the clinic whose key is in the keychain."""
    app = _application()
    try:
        api_key = keychain.get_api_key()
        cache_key = keychain.get_or_create_cache_key(data_dir)
        _prepare_cache(cache_path(data_dir), cache_key)
    except Exception as error:
        message = getattr(error, "user_message", None)
        if message is None:
            raise
        QMessageBox.warning(None, APP_NAME, f"{message}\n\nTo connect, run: mergedesk login")
        return 2
    window = StatusWindow(
        title="Your clinic",
        cache_path=cache_path(data_dir),
        cache_key=cache_key,
        api_key=api_key,
        base_url=load_settings(data_dir).base_url,
    )
    window.show()
    return app.exec()


def run_demo(
    data_dir: Path, *, patients: int = 3000, seed: int = 1, quit_after: float | None = None
) -> int:
    """Run the simulator in-process with a sample clinic and open the app on it.

    The demo keeps its data apart from the real clinic's (``<data dir>/demo``). Its cache key
    goes into the system keychain like the real one; where there is no keychain, the demo's
    fictional data lives in a temporary folder with a key held only in memory, and is deleted
    when the demo closes.
    """
    from desktop.simulator import Simulator

    app = _application()
    notice = ""
    demo_dir = data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    temporary: Path | None = None
    try:
        cache_key = keychain.get_or_create_cache_key(demo_dir)
    except keychain.SecretsError as error:
        temporary = Path(tempfile.mkdtemp(prefix="mergedesk-demo-"))
        demo_dir = temporary
        cache_key = random_secrets.token_hex(32)
        notice = f"{error.user_message} The demo's sample data is kept in a temporary folder."
    try:
        with Simulator(size=patients, seed=seed) as simulator:
            _prepare_cache(cache_path(demo_dir), cache_key)
            window = StatusWindow(
                title="Demo clinic (sample data)",
                cache_path=cache_path(demo_dir),
                cache_key=cache_key,
                api_key=simulator.api_key,
                base_url=simulator.base_url,
            )
            window.show()
            if notice:
                window.statusBar().showMessage(notice)
            if quit_after is not None:
                QTimer.singleShot(int(quit_after * 1000), window.close)
            QTimer.singleShot(0, window.start_sync)
            return app.exec()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
