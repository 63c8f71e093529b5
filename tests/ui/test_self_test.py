"""The Qt half of ``mergedesk self-test``: the main window offscreen and a PDF."""

from __future__ import annotations

import io
import os

from desktop.selftest import Report, run_self_test
from desktop.ui.self_test import check_pdf, run_gui_checks


def test_gui_checks_open_the_main_window_and_write_a_pdf(qapp, tmp_path):
    out = io.StringIO()
    report = Report(out)
    run_gui_checks(report, tmp_path)
    text = out.getvalue()
    assert [c.name for c in report.checks] == ["qt", "main window", "pdf"]
    assert report.passed, text
    assert "TIME main window shown" in text
    platform = os.environ["QT_QPA_PLATFORM"].split(":")[0]  # offscreen, or xcb in CI
    assert f"platform {platform}" in text


def test_pdf_check_leaves_a_pdf_with_fonts(qapp, tmp_path):
    check = check_pdf(tmp_path)
    assert check.passed, check.detail
    data = (tmp_path / "self-test.pdf").read_bytes()
    assert data.startswith(b"%PDF") and b"/FontFile" in data


def test_the_whole_self_test_passes_in_process(qapp):
    out = io.StringIO()
    assert run_self_test(run_gui_checks, out=out) == 0, out.getvalue()
