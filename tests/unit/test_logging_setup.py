"""Unexpected errors are logged without the data their messages may quote."""

from __future__ import annotations

import logging

from desktop.logging_setup import configure_logging, log_failure


def test_an_unexpected_error_is_logged_without_its_message_at_error_level(tmp_path, caplog):
    log = logging.getLogger("mergedesk.test")
    record = {"last_name": "Przybylski", "date_of_birth": "1980-13-45"}
    try:
        raise ValueError(f"bad birth date for {record['last_name']}: {record['date_of_birth']}")
    except ValueError as error:
        with caplog.at_level(logging.DEBUG, logger="mergedesk.test"):
            log_failure(log, "Scan failed", error)
    errors = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert errors and all("Przybylski" not in r.getMessage() for r in errors)
    assert "ValueError" in errors[0].getMessage()
    assert "test_logging_setup.py" in errors[0].getMessage()  # where it happened
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug and debug[0].exc_info is not None


def test_the_log_file_lives_in_the_data_dir_and_keeps_info(tmp_path):
    path = configure_logging(tmp_path, to_stderr=False)
    logging.getLogger("mergedesk.test").info("sync finished: %d patients", 12)
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert path.parent == tmp_path / "logs"
    assert "sync finished: 12 patients" in path.read_text(encoding="utf-8")
