"""Logging to a rotating file in the data directory, and to stderr for the CLI.

Patient data is never logged at INFO or above anywhere in the app; the API key never at all.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

from desktop.paths import log_dir, make_private

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(data_dir: Path, *, verbose: bool = False, to_stderr: bool = True) -> Path:
    """Send log records to ``<data dir>/logs/mergedesk.log`` (and stderr); return the file."""
    path = log_dir(data_dir) / "mergedesk.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_mergedesk", False):
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    make_private(path)
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    file_handler.setLevel(logging.INFO)
    file_handler._mergedesk = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if to_stderr:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
        console._mergedesk = True  # type: ignore[attr-defined]
        root.addHandler(console)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return path


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Log an unexpected error without its message text at ERROR, and in full at DEBUG.

    An exception's message can quote the data it choked on (a name, a birth date), so the
    log at ERROR keeps only the exception's type and where it happened.
    """
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__name__, frames)
    logger.debug("%s (details)", what, exc_info=error)
