"""The labor-cost report screen: pick a period, see the figures and chart, print, PDF, CSV.

Standalone, so the main window only has to add it (e.g. as a tab or a page)::

    screen = ReportScreen(ctx.cache.path, ctx.cache_key, ctx.settings, clinic=ctx.title)
    stack.addWidget(screen)         # it opens its own read-only connection to the cache
    screen.refresh()                # after merges/reviews finished, or on showing it again
    screen.close_cache()            # when the window closes

Everything shown comes from one :class:`~desktop.labor.summary.LaborSummary` and its blocks
(:func:`~desktop.labor.report_text.report_blocks`); preview, print and PDF all go through
:class:`~desktop.ui.report_document.ReportDocument`.
"""

from __future__ import annotations

import datetime as dt
import logging
from html import escape
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, Slot
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Settings
from desktop.intake import account_time_zone
from desktop.labor.cost import Period, stored_clinic_name
from desktop.labor.csv_export import write_csv
from desktop.labor.record_keeping import record_keeping
from desktop.labor.report_text import Chart, hours_and_minutes, projection_note, report_blocks
from desktop.labor.summary import LaborSummary, build_summary
from desktop.store.audit_seal import AuditSeal
from desktop.store.cache import Cache
from desktop.store.errors import StoreError
from desktop.ui.dates import DateField, pydate
from desktop.ui.report_chart import ChartWidget
from desktop.ui.report_document import ReportDocument, setup_page
from desktop.ui.save_paths import suggested_path
from desktop.ui.screen_room import resize_within_screen
from desktop.ui.theme import error_style

log = logging.getLogger(__name__)

PERIOD_KINDS = ("This month", "Last month", "Quarter", "Custom dates")


def default_page_size() -> QPageSize.PageSizeId:
    """Letter in the United States and Canada, A4 elsewhere."""
    territory = QLocale().territory()
    letter = (QLocale.Country.UnitedStates, QLocale.Country.Canada)
    return QPageSize.PageSizeId.Letter if territory in letter else QPageSize.PageSizeId.A4


def recent_quarters(today: dt.date, count: int = 8) -> list[tuple[int, int]]:
    """(year, quarter) pairs, the current quarter first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(count):
        out.append((year, quarter))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return out


_PLAIN = "font-size: 9pt; font-weight: 400;"  # words beside a figure (figures: 15pt bold)


def _under(text: str) -> str:
    """A figure's small line under it (rich text)."""
    return f"<br><span style='{_PLAIN}'>{escape(text)}</span>"


def _tip(text: str) -> str:
    """A figure's tooltip: in plain type (it took the figure's 15pt bold) and wrapped (rich
    text; plain text ran on one line across the screen). Empty for no tooltip."""
    return f"<p style='{_PLAIN}'>{escape(text)}</p>" if text else ""


class ReportScreen(QWidget):
    """The report page. ``tz`` and ``today`` are for tests (default: the clinic's, as the
    window gives times: the Cliniko account's zone, else this computer's)."""

    def __init__(
        self,
        cache_path: Path,
        cache_key: str,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        clinic: str | None = None,
        tz: dt.tzinfo | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache_path, self._key, self.settings = Path(cache_path), cache_key, settings
        self._cache: Cache | None = None
        self.clinic, self.tz = clinic, tz
        self.today = today or self._clinic_today()
        self.page_size = default_page_size()
        self.summary: LaborSummary | None = None
        self.preview_dialog: QPrintPreviewDialog | None = None
        self.preview_printer: QPrinter | None = None  # lives as long as the preview dialog
        self._build()
        self.refresh()

    # ----------------------------------------------------------------- widgets

    def _build(self) -> None:
        self.kind = QComboBox()
        self.kind.addItems(PERIOD_KINDS)
        self.quarter = QComboBox()
        for year, q in recent_quarters(self.today):
            self.quarter.addItem(f"Q{q} {year}", (year, q))
        first = QDate(self.today.year, self.today.month, 1)
        self.date_from = DateField(first, "d MMM yyyy")
        self.date_to = DateField(QDate(self.today), "d MMM yyyy")
        self.per_admin = QCheckBox("Per &administrator")
        picker = QHBoxLayout()
        # Every control has its Alt+letter (a walk found none in this window).
        period, from_label, to_label = QLabel("&Period:"), QLabel("fro&m"), QLabel("&to")
        for named, field in ((period, self.kind), (from_label, self.date_from),
                             (to_label, self.date_to)):  # fmt: skip
            named.setBuddy(field)
        self._custom = (from_label, self.date_from, to_label, self.date_to)
        for w in (period, self.kind, self.quarter, *self._custom, self.per_admin):
            picker.addWidget(w)
        picker.addStretch(1)
        self.figures: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = (
            ("merges", "Merges completed"), ("reviews", 'Reviews "not the same"'),
            ("hours", "Labor hours"), ("cost", "Labor cost"),
            ("queue", "Pairs left in the queue"), ("projected", "Projected cost of the queue"),
            ("saved", "Time saved vs. by hand"), ("intake", "New patients arriving as duplicates"),
        )  # fmt: skip
        for i, (key, label) in enumerate(names):
            value = QLabel("–")
            value.setStyleSheet("font-size: 15pt; font-weight: 600;")
            box = QVBoxLayout()
            box.addWidget(QLabel(label))
            box.addWidget(value)
            grid.addLayout(box, i // 4, i % 4)
            self.figures[key] = value
        self.chart = ChartWidget()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.admins = QLabel()  # the per-administrator lines, when asked for
        self.admins.setWordWrap(True)
        self.preview_button = QPushButton("Preview / P&rint…")
        self.pdf_button = QPushButton("&Save PDF…")
        self.csv_button = QPushButton("Export CS&V…")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.preview_button, self.pdf_button, self.csv_button):
            buttons.addWidget(b)
        self.status = QLabel()
        figures = QGroupBox("Labor cost of duplicate records")
        inner = QVBoxLayout(figures)
        inner.addLayout(grid)
        inner.addWidget(self.chart, 1)
        inner.addWidget(self.admins)
        inner.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(picker)
        layout.addWidget(figures, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for signal in (self.quarter.currentIndexChanged, self.date_from.dateChanged,
                       self.date_to.dateChanged, self.per_admin.toggled):  # fmt: skip
            signal.connect(self.refresh)
        self.preview_button.clicked.connect(self.open_preview)
        self.pdf_button.clicked.connect(self._ask_pdf)
        self.csv_button.clicked.connect(self._ask_csv)
        self._kind_changed()

    @Slot()
    def _kind_changed(self) -> None:
        kind = self.kind.currentText()
        self.quarter.setVisible(kind == "Quarter")
        for w in self._custom:
            w.setVisible(kind == "Custom dates")
        self.refresh()

    # ----------------------------------------------------------------- figures

    def period(self) -> Period:
        """The period the picker shows."""
        kind = self.kind.currentText()
        if kind == "Last month":
            return Period.last_month(self.today)
        if kind == "Quarter":
            year, quarter = self.quarter.currentData()
            return Period.quarter(year, quarter)
        if kind == "Custom dates":
            first, last = pydate(self.date_from.date()), pydate(self.date_to.date())
            return Period.custom(min(first, last), max(first, last))
        return Period.this_month(self.today)

    def _clinic_today(self) -> dt.date:
        """Today on the clinic's clock (this computer's when the cache cannot be read)."""
        try:
            zone = self.tz or account_time_zone(self._reader().db)
        except StoreError:  # no cache yet: the page says so when it refreshes
            return dt.date.today()
        return dt.datetime.now(zone).date()

    def _reader(self) -> Cache:
        if self._cache is None or self._cache.closed:
            self._cache = Cache.open(self.cache_path, self._key, readonly=True)
            self._cache.audit_seal = AuditSeal.for_data_dir(self.cache_path.parent, create=False)
        return self._cache

    @Slot()
    def refresh(self) -> None:
        """Rebuild the summary for the chosen period and show it."""
        if not hasattr(self, "chart"):
            return
        try:
            self.summary = build_summary(
                self._reader(), self.period(), self.settings, tz=self.tz,
                per_admin=self.per_admin.isChecked(), today=self.today,
            )  # fmt: skip
        except StoreError as exc:  # no cache yet, or it cannot be read: say so, keep going
            self.summary = None
            self.note.setText(exc.user_message)
            for button in (self.preview_button, self.pdf_button, self.csv_button):
                button.setEnabled(False)
            return
        for button in (self.preview_button, self.pdf_button, self.csv_button):
            button.setEnabled(True)
        s, money = self.summary, self.summary.model.money
        new = s.intake.total
        counts = f"{new.arrived_as_duplicates:,} of {new.new_patients:,}"
        too_few = bool(new.new_patients) and s.intake.too_few  # a rate would read as an alarm
        if not new.new_patients:
            intake = "–"
        elif too_few:
            intake = f"{counts}: too few"
        else:
            intake = f"{new.rate:.1%} ({counts})"
        self.figures["intake"].setToolTip(
            _tip(
                f"Too few new patients to judge: the rate counts from {s.intake.minimum}."
                if too_few
                else ""
            )
        )
        values = {
            "merges": f"{s.merges_completed:,}", "reviews": f"{s.reviews_not_same:,}",
            "hours": hours_and_minutes(s.hours, s.total_minutes), "cost": money(s.cost),
            "queue": f"{s.remaining_queue:,}",
            "projected": money(s.projected_cost) + _under(
                f"range {money(s.projected_cost_low)} to {money(s.projected_cost_high)}"
            ),
            # The baseline said, as the printed report says it (the card gave a bare figure).
            "saved": f"{s.saved_hours:,.2f} h" + _under(
                f"by hand: {s.manual_minutes_per_merge:g} min per merge"
            ),
            "intake": intake,
        }  # fmt: skip
        for key, text in values.items():
            self.figures[key].setText(text)
        # How the projection and its range are made, as the printed report says it.
        self.figures["projected"].setToolTip(_tip(projection_note(s)))
        chart = next(b for b in self.blocks() if isinstance(b, Chart))
        self.chart.set_chart(chart)
        lines = [
            f"{a.who}: {a.merges:,} merge{'s' if a.merges != 1 else ''}, "
            f"{a.reviews:,} review{'s' if a.reviews != 1 else ''}, "
            f"{hours_and_minutes(a.hours, a.minutes)}, "
            f"{money(a.cost)}"
            for a in s.per_admin or ()
        ]
        self.admins.setText("\n".join(lines))
        self.admins.setVisible(bool(lines))
        empty = "No merges or reviews were recorded in this period. " if not s.has_work else ""
        alarm = s.intake.alarm_text()
        self.note.setStyleSheet(error_style() if alarm else "")
        self.note.setText(f"{empty}{s.period.label}: {s.model.describe()}. {alarm}".strip())

    def blocks(self) -> list:
        """The report's blocks for the current summary."""
        assert self.summary is not None
        reader = self._reader()
        records = record_keeping(reader, self.summary.generated_at.tzinfo)
        return report_blocks(
            self.summary,
            self.clinic or stored_clinic_name(reader),
            audit_head=records.audit_head,
            last_reconciliation=records.last_reconciliation,
        )

    def document(self) -> ReportDocument:
        """The printable document of the current summary."""
        assert self.summary is not None
        return ReportDocument(self.blocks(), footer=self.summary.period.label)

    # ----------------------------------------------------------------- outputs

    @Slot()
    def open_preview(self) -> QPrintPreviewDialog:
        """Open the print preview (its toolbar prints with the system dialog).

        The dialog does not own the printer it paints on, so the screen keeps the printer (and
        the dialog) for as long as the dialog lives: a printer freed under an open preview
        crashed the app on the next repaint. Pressing the button again raises the open preview.
        """
        if self.preview_dialog is not None and self.preview_dialog.isVisible():
            self.preview_dialog.raise_()
            self.preview_dialog.activateWindow()
            return self.preview_dialog
        self.preview_printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        setup_page(self.preview_printer, self.page_size)
        # The print job's name, and on Linux the print dialog's "Print to File" default (in
        # the home folder): the period's, as "Save PDF…" suggests.
        self.preview_printer.setDocName(self._file_stem())
        dialog = QPrintPreviewDialog(self.preview_printer, self)
        dialog.setWindowTitle("Labor-cost summary: print preview")
        # As tall as the screen allows (a page at full size is about 1,120 pixels): Qt's own
        # size showed a page at a third of its size, too small to read.
        resize_within_screen(dialog, 900, 1200)
        dialog.paintRequested.connect(self.paint_on)
        dialog.finished.connect(self._preview_closed)
        self.preview_dialog = dialog
        dialog.open()
        return dialog

    @Slot(int)
    def _preview_closed(self, _result: int) -> None:
        """Say where a print to a file went (the printer stays until the next preview)."""
        printer = self.preview_printer
        if printer is not None and printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
            name = printer.outputFileName()
            if name and Path(name).exists():
                self.status.setText(f"Printed to {name}.")

    @Slot(QPrinter)
    def paint_on(self, printer: QPrinter) -> None:
        """Paint the report on a printer (the preview's, or the print dialog's)."""
        printer.setDocName(self._file_stem())  # the period may have changed since the preview
        self.document().paint(printer)

    def save_pdf(self, path: Path) -> int:
        """Write the PDF; return its page count."""
        pages = self.document().write_pdf(Path(path), self.page_size)
        self.status.setText(f"Saved a {pages}-page PDF to {path}.")
        return pages

    def save_csv(self, path: Path) -> int:
        """Write the CSV of the rows; return how many."""
        assert self.summary is not None
        count = write_csv(self.summary, Path(path))
        self.status.setText(f"Saved {count:,} rows to {path}.")
        return count

    def _file_stem(self) -> str:
        """The report's file name without its suffix: its period's first and last days."""
        assert self.summary is not None
        p = self.summary.period
        return f"mergedesk-labor-{p.start}-to-{p.last_day}"

    def _suggested(self, suffix: str) -> str:
        return suggested_path(f"{self._file_stem()}.{suffix}")

    @Slot()
    def _ask_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save PDF", self._suggested("pdf"), "PDF (*.pdf)"
        )
        if path:
            self._guarded(self.save_pdf, path)

    @Slot()
    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export CSV", self._suggested("csv"), "CSV (*.csv)"
        )
        if path:
            self._guarded(self.save_csv, path)

    def _guarded(self, action, path: str) -> None:
        try:
            action(Path(path))
        except OSError as exc:
            log.warning("report export failed: %s", type(exc).__name__)
            self.status.setText(f"Could not save {path}: {exc.strerror or exc}")

    def close_cache(self) -> None:
        """Close the read-only connection (reopened by the next refresh)."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None
