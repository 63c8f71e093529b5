"""The suite's own guard: a Qt warning fails the test that caused it (``qt_strict``)."""

from __future__ import annotations

from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[1] / "support"

PROBE = """
import pytest
from PySide6.QtCore import qWarning


def test_a_qt_warning(qtbot):
    qWarning("something the app did wrong")


@pytest.mark.qt_log_ignore("^expected by this test")
def test_an_expected_qt_warning(qtbot):
    qWarning("expected by this test")


def test_no_warning(qtbot):
    pass
"""


def test_a_qt_warning_fails_the_test_and_an_expected_one_does_not(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(SUPPORT))
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess("-p", "qt_strict", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*Failure: Qt messages with level WARNING or above emitted*",
         "*QtWarningMsg: something the app did wrong*",
         "FAILED test_probe.py::test_a_qt_warning*"]
    )  # fmt: skip
