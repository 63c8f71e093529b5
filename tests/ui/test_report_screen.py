"""The report screen: period picker, figures, chart, and one print path for preview and PDF."""

from __future__ import annotations

import datetime as dt
import gc
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from labor_data import at, insert_patient, insert_session, insert_year
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.report_text import report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache
from desktop.ui.report_document import ReportDocument
from desktop.ui.report_screen import ReportScreen

KEY = "3b" * 32
TODAY = dt.date(2026, 3, 20)
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils")


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as cache:
        d = dt.date(2026, 3, 3)
        insert_session(cache, "a", ["1", "2"], at(d), 600, 700, "merged")
        insert_session(cache, "b", ["3", "4"], at(d, 10), 300, 320, "merged", user="2 Sam")
        insert_session(cache, "c", ["5", "6"], at(d, 11), 120, 130, "not_same")
        insert_session(cache, "q", ["7", "8"], at(dt.date(2026, 1, 7)), 900, 900, "merged")
        for i in range(20):
            insert_patient(cache, f"n{i}", f"2026-03-{1 + i:02d}T10:00:00Z")
    return path


def make_screen(qtbot, cache_path: Path, **settings) -> ReportScreen:
    screen = ReportScreen(cache_path, KEY, Settings(**settings), tz=dt.UTC, today=TODAY)
    qtbot.addWidget(screen)
    screen.resize(900, 700)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_a_handful_of_new_patients_shows_counts_not_a_rate(qtbot, cache_path: Path) -> None:
    """20 new patients, one a duplicate: "1 of 20: too few", as the status bar says too few
    to judge, not a "5.0%" that would read like a rate worth acting on."""
    from desktop.store import transaction
    from desktop.store.intake import record_first_scores

    with Cache.open(cache_path, KEY) as cache, transaction(cache) as db:
        new = [f"n{i}" for i in range(20)]
        record_first_scores(db, [("n3", "n4")], new, "2026-03-20T12:00:00Z")
    screen = make_screen(qtbot, cache_path)
    figure = screen.figures["intake"]
    assert figure.text() == "1 of 20: too few"
    assert "the rate counts from 50" in figure.toolTip()


def test_the_figures_follow_the_period_picker(qtbot, cache_path: Path) -> None:
    screen = make_screen(qtbot, cache_path, hourly_rate=30.0)
    assert screen.period() == Period.month(2026, 3)
    assert screen.figures["merges"].text() == "2" and screen.figures["reviews"].text() == "1"
    # Under an hour, the minutes too, as the printed summary says them.
    assert screen.figures["hours"].text() == "0.28 h (17 min)"
    assert screen.figures["cost"].text() == "$8.50"
    # The projection with its range, as the printed report gives it (the card had no range).
    s = screen.summary
    projected = screen.figures["projected"].text()
    assert f"range ${s.projected_cost_low:,.2f} to ${s.projected_cost_high:,.2f}" in projected
    # Time saved says the baseline it is measured against (the card gave a bare figure).
    assert "by hand: 15 min per merge" in screen.figures["saved"].text()
    # ... and the projection how it is made (the card gave no word of it).
    assert "min per merge" in screen.figures["projected"].toolTip()
    assert screen.figures["intake"].text() == "–"  # no scan recorded a new patient
    assert screen.chart.chart is not None  # the weeks up to today (20 March), none to come
    assert screen.chart.chart.labels == ("1 Mar", "2 Mar", "9 Mar", "16 Mar")
    assert not screen.date_from.isVisible() and not screen.quarter.isVisible()

    screen.kind.setCurrentText("Last month")
    assert screen.summary.period == Period.month(2026, 2)
    assert screen.figures["merges"].text() == "0" and screen.figures["cost"].text() == "$0.00"
    assert "No merges or reviews" in screen.note.text()

    screen.kind.setCurrentText("Quarter")
    assert screen.quarter.isVisible() and screen.period() == Period.quarter(2026, 1)
    assert screen.figures["merges"].text() == "3"

    screen.kind.setCurrentText("Custom dates")
    assert screen.date_from.isVisible()
    screen.date_from.setDate(dt.date(2026, 1, 1))
    screen.date_to.setDate(dt.date(2026, 1, 31))
    assert screen.summary.period == Period.month(2026, 1)
    assert screen.figures["merges"].text() == "1"

    assert screen.summary.per_admin is None
    screen.per_admin.setChecked(True)
    assert screen.summary.per_admin is not None
    assert screen.admins.text() == "Alex Administrator: 1 merge, 0 reviews, 0.25 h (15 min), $7.50"
    screen.kind.setCurrentText("Quarter")  # it read "1 merges", "1 reviews"
    assert screen.admins.text() == (
        "Alex Administrator: 2 merges, 1 review, 0.45 h (27 min), $13.50\n"
        "Sam: 1 merge, 0 reviews, 0.08 h (5.0 min), $2.50"
    )
    screen.close_cache()


@needs_poppler
@pytest.mark.qt_log_ignore(r"^QPainter::begin\(\): Returned false")  # the missing folder
def test_pdf_and_csv_buttons_paths(qtbot, cache_path: Path, tmp_path: Path) -> None:
    screen = make_screen(qtbot, cache_path, on_cost_percent=10)
    pages = screen.save_pdf(tmp_path / "r.pdf")
    assert pages == pdf_pages(tmp_path / "r.pdf")
    assert f"{pages}-page PDF" in screen.status.text()
    assert screen.save_csv(tmp_path / "r.csv") == 3
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "$8.73" in text and "0.28 h" in text
    screen._guarded(screen.save_pdf, str(tmp_path / "missing" / "r.pdf"))
    assert "Could not save" in screen.status.text()
    screen.close_cache()


@needs_poppler
def test_print_preview_renders_the_same_pages_as_the_pdf(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "year.db"
    with Cache.open(path, KEY) as cache:
        insert_year(cache, 2025, per_day=4)
        for i in range(60):  # many administrators: the per-admin table runs over pages
            insert_session(cache, f"u{i}", [f"a{i}", f"b{i}"], at(dt.date(2025, 6, 2)), 60, 60,
                           "merged", user=f"{i + 10} Admin Number {i}")  # fmt: skip
    screen = ReportScreen(path, KEY, Settings(), tz=dt.UTC, today=dt.date(2025, 12, 31))
    qtbot.addWidget(screen)
    screen.kind.setCurrentText("Custom dates")
    screen.date_from.setDate(dt.date(2025, 1, 1))
    screen.per_admin.setChecked(True)
    pages = screen.save_pdf(tmp_path / "year.pdf")
    assert pages == pdf_pages(tmp_path / "year.pdf") >= 3

    dialog = screen.open_preview()
    assert screen.preview_dialog is dialog and dialog.isVisible()
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() > 0, timeout=10_000)
    assert preview.pageCount() == pages
    dialog.close()
    screen.close_cache()


def test_one_layout_whatever_the_device(qtbot, cache_path: Path) -> None:
    with Cache.open(cache_path, KEY, readonly=True) as cache:
        summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC)
    doc = ReportDocument(report_blocks(summary))
    a4 = doc.layout(523.0, 770.0)
    again = doc.layout(523.0, 770.0)
    assert len(a4) == len(again) and [len(p) for p in a4] == [len(p) for p in again]
    texts = [op.text for page in a4 for op in page if op.kind == "text"]
    assert "Labor cost" in texts and any(t.startswith("$") for t in texts)


def test_no_cache_yet_is_said_in_plain_words(qtbot, tmp_path: Path) -> None:
    screen = ReportScreen(tmp_path / "none.db", KEY, Settings(), today=TODAY)
    qtbot.addWidget(screen)
    assert screen.summary is None and "no local cache" in screen.note.text().lower()
    assert not screen.pdf_button.isEnabled()


def _text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def _accept_print_dialog_when_it_opens(qtbot) -> list[str]:
    """Press the print dialog's Print button once it is up (the dialog runs its own loop)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtPrintSupport import QPrintDialog
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    seen: list[str] = []

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QPrintDialog):
            QTimer.singleShot(50, press)
            return
        seen.append(dialog.windowTitle())
        box = dialog.findChild(QDialogButtonBox)
        qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    QTimer.singleShot(50, press)
    return seen


@needs_poppler
def test_preview_print_from_the_reports_menu_shows_and_prints_the_summary(
    qtbot, desk, tmp_path: Path
) -> None:
    """Reports > Labor-cost summary > "Preview / Print…" shows the pages (it used to crash the
    app: the printer was freed while the preview used it), and printing from the preview to a
    PDF printer gives the pages "Save PDF…" writes."""
    today = dt.date.today()
    with Cache.open(desk.path, desk.key) as cache:
        for i in range(40):
            insert_session(cache, f"s{i}", [f"a{i}", f"b{i}"], at(today, 0, i), 300, 360,
                           "merged", user=f"{i + 10} Admin Number {i}")  # fmt: skip
    window = desk.open()
    reports = next(a for a in window.menuBar().actions() if a.text() == "&Reports")
    summary = next(a for a in reports.menu().actions() if "Labor-cost summary" in a.text())
    summary.trigger()
    dialog = window.report_dialog
    qtbot.waitExposed(dialog)
    screen = dialog.screen_widget
    screen.per_admin.setChecked(True)  # the per-administrator table runs over pages
    saved = screen.save_pdf(tmp_path / "saved.pdf")
    assert saved >= 2

    qtbot.mouseClick(screen.preview_button, Qt.MouseButton.LeftButton)
    preview_dialog = screen.preview_dialog
    qtbot.waitExposed(preview_dialog)
    preview = preview_dialog.findChild(QPrintPreviewWidget)
    gc.collect()
    qtbot.waitUntil(lambda: preview.pageCount() > 0, timeout=10_000)
    assert preview.pageCount() == saved
    preview.updatePreview()  # paints on the printer again, after a collection
    qtbot.wait(50)
    assert preview.pageCount() == saved

    printer = preview_dialog.printer()
    # The print job's name, and the xcb print dialog's "Print to File" default: the period's,
    # as "Save PDF…" suggests (it was "MergeDesk labor-cost summary" whatever the month).
    month = screen.summary.period  # this month, in the clinic's time zone
    assert printer.docName() == f"mergedesk-labor-{month.start}-to-{month.last_day}"
    assert Path(screen._suggested("pdf")).stem == printer.docName()
    printed = tmp_path / "printed.pdf"
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    seen = _accept_print_dialog_when_it_opens(qtbot)
    toolbar_print = next(a for a in preview_dialog.findChildren(QAction) if a.text() == "Print")
    toolbar_print.trigger()
    assert seen, "the print dialog was not shown"
    qtbot.waitUntil(printed.exists, timeout=10_000)
    assert pdf_pages(printed) == saved
    assert _text_of(printed) == _text_of(tmp_path / "saved.pdf")
    dialog.close()


def test_the_print_preview_opens_as_tall_as_the_laptop_screen(qtbot, desk) -> None:
    """On a 1366×768 laptop the preview opened at Qt's own size, 692×512, with the page shown
    at 38% of its size: too small to read without maximising the window first."""
    window = desk.open()
    window.open_report()
    screen = window.report_dialog.screen_widget
    qtbot.mouseClick(screen.preview_button, Qt.MouseButton.LeftButton)
    dialog = screen.preview_dialog
    qtbot.waitExposed(dialog)
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() > 0, timeout=10_000)
    area = dialog.screen().availableGeometry()
    assert area.contains(dialog.frameGeometry()), (dialog.frameGeometry(), area)
    assert dialog.frameGeometry().height() > area.height() * 0.9
    assert preview.zoomFactor() > 0.5  # the whole page in sight, at half its size or more
    dialog.close()
    window.report_dialog.close()


def test_every_control_of_the_labor_summary_has_its_own_alt_letter(qtbot, desk) -> None:
    """A keyboard walk held Alt in the labor-cost summary: no letter was underlined and
    Alt+E, Alt+P, Alt+S did nothing."""
    from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

    window = desk.open()
    reports = next(a for a in window.menuBar().actions() if a.text() == "&Reports")
    next(a for a in reports.menu().actions() if "Labor-cost summary" in a.text()).trigger()
    dialog = window.report_dialog
    qtbot.waitExposed(dialog)
    screen = dialog.screen_widget
    texts = [b.text() for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
    texts += [label.text() for label in dialog.findChildren(QLabel) if label.buddy() is not None]
    letters = [re.search(r"&(\w)", text) for text in texts]
    assert all(letters), texts
    keys = [m.group(1).lower() for m in letters if m]
    assert len(keys) == len(set(keys)), texts
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)

    def alt(key: Qt.Key) -> None:
        qtbot.keyClick(QApplication.focusWidget() or dialog, key, Qt.KeyboardModifier.AltModifier)

    alt(Qt.Key.Key_P)
    assert QApplication.focusWidget() is screen.kind
    alt(Qt.Key.Key_A)
    qtbot.waitUntil(screen.per_admin.isChecked)  # an Alt letter clicks after a short flash
    alt(Qt.Key.Key_C)
    qtbot.waitUntil(lambda: not dialog.isVisible())
