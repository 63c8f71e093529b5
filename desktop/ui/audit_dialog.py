"""The audit trail screen: its verify status, the entries of a date range, and a CSV export.

Opened from Reports > Audit trail…. Reading and verifying run in a worker (a long trail takes
a moment); the table shows ids and hashes only, as the trail does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.audit import AuditVerification, cliniko_user_words
from desktop.audit_export import entries_for_days, export_csv, head_line, verify_cache
from desktop.store.cache import Cache
from desktop.ui.context import DeskContext
from desktop.ui.dates import DateField, pydate, qdate
from desktop.ui.save_paths import suggested_path
from desktop.ui.screen_room import resize_within_screen
from desktop.ui.workers import Job

COLUMNS = (("seq", "#"), ("at", "When (UTC)"), ("method", "Kind"), ("path", "What"),
           ("status", "Status"), ("cliniko_user", "Cliniko user"), ("os_user", "Computer user"),
           ("sealed", "Sealed"))  # fmt: skip


@dataclass(frozen=True)
class AuditView:
    """What one load shows: the verification, the head line and the entries of the range."""

    verification: AuditVerification
    head: str
    rows: list[dict[str, Any]]


class AuditDialog(QDialog):
    """Verify status at the top, a date range, the entries, and Export CSV."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Audit trail")
        self.setAccessibleName("Audit trail")
        self.status = QLabel("Checking the audit trail…")
        self.status.setWordWrap(True)
        self.head = QLabel("")
        today = dt.date.today()
        self.date_from = DateField(qdate(today - dt.timedelta(days=30)), "yyyy-MM-dd")
        self.date_to = DateField(qdate(today), "yyyy-MM-dd")
        self.show_button = QPushButton("&Show")
        self.export_button = QPushButton("&Export CSV…")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab moves on, not cell by cell
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.note = QLabel("")
        range_row = QHBoxLayout()
        for widget in (QLabel("From"), self.date_from, QLabel("to"), self.date_to,
                       self.show_button):  # fmt: skip
            range_row.addWidget(widget)
        range_row.addStretch(1)
        range_row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.head)
        layout.addLayout(range_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.show_button.clicked.connect(self.load)
        self.export_button.clicked.connect(self.export)
        self.view: AuditView | None = None
        resize_within_screen(self, 1200, 650)
        self.load()

    def _range(self) -> tuple[dt.date, dt.date]:
        return pydate(self.date_from.date()), pydate(self.date_to.date())

    def _reader(self) -> Cache:
        reader = Cache.open(self.ctx.cache.path, self.ctx.cache_key, readonly=True)
        reader.audit_seal = self.ctx.cache.audit_seal
        return reader

    @Slot()
    def load(self) -> None:
        """Verify the trail and read the range's entries in a worker."""
        first, last = self._range()
        self.show_button.setEnabled(False)

        def work(_job: Job) -> AuditView:
            with self._reader() as reader:
                return AuditView(
                    verify_cache(reader), head_line(reader), entries_for_days(reader, first, last)
                )

        job = Job("audit", work)
        job.succeeded.connect(self._show)
        job.failed.connect(self._failed)
        self.ctx.workers.start(job)

    @Slot(object)
    def _show(self, view: AuditView) -> None:
        self.view = view
        result = view.verification
        if result.ok:
            _, _, more = result.reason.partition("; ")
            more = f" {more[0].upper()}{more[1:]}." if more else ""
            self.status.setText(f"Audit trail intact: {result.entries:,} entries verified.{more}")
            self.status.setStyleSheet("color: #1b5e20; font-weight: bold")
        else:
            self.status.setText(
                f"The audit trail has been changed: {result.reason} "
                f"(found at entry {result.first_broken_seq})."
            )
            self.status.setStyleSheet("color: #b71c1c; font-weight: bold")
        self.head.setText(view.head)
        self.table.setRowCount(len(view.rows))
        for r, row in enumerate(view.rows):
            for c, (name, _) in enumerate(COLUMNS):
                value = row.get(name)
                text = "" if value is None else str(value)
                if name == "cliniko_user" and text:
                    person, ident = cliniko_user_words(text)
                    text = f"{person} (id {ident})" if ident else person
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        first, last = self._range()
        self.note.setText(f"{len(view.rows):,} entries from {first} to {last}.")
        self.show_button.setEnabled(True)

    @Slot(str, object)
    def _failed(self, message: str, _error: object) -> None:
        self.status.setText(f"The audit trail could not be read: {message}")
        self.show_button.setEnabled(True)

    @Slot()
    def export(self) -> None:
        """Ask where, then write the range's entries as CSV."""
        first, last = self._range()
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Export the audit trail",
            suggested_path(f"audit-{first}-to-{last}.csv"),
            "CSV files (*.csv)",
        )
        if not name:
            return
        try:
            with self._reader() as reader:
                count = export_csv(reader, first, last, Path(name))
        except OSError as error:
            self.note.setText(f"Could not save {name}: {error.strerror or error}")
            return
        self.note.setText(f"Wrote {count:,} entries from {first} to {last} to {name}.")
