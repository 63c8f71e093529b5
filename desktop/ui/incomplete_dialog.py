"""The list of incomplete records: too little to identify a person, newest first, with what to
ask at the next visit. Read in a worker; completing a record in Cliniko is picked up by the next
sync, and its re-score is automatic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableView, QVBoxLayout, QWidget

from desktop.incomplete import IncompleteRecord, incomplete_records
from desktop.store.cache import Cache
from desktop.ui.context import DeskContext
from desktop.ui.flat_table import FlatTableModel, Index
from desktop.ui.screen_room import resize_within_screen
from desktop.ui.workers import Job


class IncompleteModel(FlatTableModel):
    """One row per incomplete record."""

    COLUMNS = ("Created", "Name", "Cliniko id", "Next visit", "Ask for")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.records: list[IncompleteRecord] = []

    def row_total(self) -> int:
        """Rows shown."""
        return len(self.records)

    def set_records(self, records: list[IncompleteRecord]) -> None:
        """Replace the rows."""
        self.beginResetModel()
        self.records = records
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text."""
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        record = self.records[index.row()]
        values = (record.created, record.name, record.patient_id, record.next_visit or "—",
                  record.ask_text)  # fmt: skip
        return values[index.column()]


class IncompleteDialog(QDialog):
    """Lists the incomplete records (see the module docstring)."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Incomplete records")
        resize_within_screen(self, 900, 480)
        self.summary = QLabel("Reading…")
        self.summary.setWordWrap(True)
        self.model = IncompleteModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Incomplete records")
        self.table.setTabKeyNavigation(False)  # Tab moves on to Close, not cell by cell
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.load()

    def load(self) -> None:
        """Read the list in a worker."""
        path, key = self.ctx.cache.path, self.ctx.cache_key

        def work(_job: Job) -> list[IncompleteRecord]:
            with Cache.open(path, key, readonly=True) as reader:
                return incomplete_records(reader.db, datetime.now(UTC))

        job = Job("incomplete", work)
        job.succeeded.connect(self.on_loaded)
        job.failed.connect(self.on_failed)
        self.ctx.workers.start(job)

    @Slot(object)
    def on_loaded(self, records: list[IncompleteRecord]) -> None:
        """Show the records."""
        self.model.set_records(records)
        self.table.resizeColumnsToContents()
        count = len(records)
        self.summary.setText(
            f"{count} record{'s' if count != 1 else ''} with too little to tell who the patient "
            "is (no birth date, and at most one other detail), newest first. Ask for the "
            "missing details at the next visit; once the record is completed in Cliniko, "
            "MergeDesk checks it again for duplicates by itself."
            if count
            else "Every record has enough details to identify the patient."
        )

    @Slot(str, object)
    def on_failed(self, message: str, _error: object) -> None:
        """Say why the list could not be read."""
        self.summary.setText(message)
