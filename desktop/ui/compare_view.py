"""The compare view: records side by side, look-alike warnings, evidence, history sizes."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.display import note_merged_birth_dates, shortened
from desktop.matching.lookalike import split_flags
from desktop.merge_states import PairStatus
from desktop.ui import theme
from desktop.ui.compare_model import (
    FETCHING,
    UNKNOWN_OFFLINE,
    CompareModel,
    EvidenceModel,
    row_labels,
    unknown_history,
)
from desktop.ui.context import DeskContext
from desktop.ui.history import fetch_history
from desktop.ui.queue_model import BAND_LABELS, QueueRow, match_percent
from desktop.ui.workers import Job

HISTORY_DELAY_MS = 350  # wait while the person skims through pairs with J/K
# The decision buttons under the records: (action name in the queue, text, key).
DECISION_BUTTONS = (
    ("same", "&Merge…", "S"),
    ("not_same", "&Not the same person", "N"),
    ("later", "&Later", "L"),
)


class CompareView(QWidget):
    """Shows one pair (or the cluster it belongs to) for a decision.

    Signals:
        action_requested(str): a decision button was pressed ("same", "not_same", "later").
    """

    action_requested = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.row: QueueRow | None = None
        self.ids: list[str] = []
        self.model = CompareModel(self)
        self.evidence_model = EvidenceModel(self)

        self.warning_banner = QLabel()
        self.warning_banner.setWordWrap(True)
        self.warning_banner.setAccessibleName("Look-alike warning")
        self.warning_banner.setVisible(False)
        self.title = QLabel("Select a pair in the queue.")
        self.title.setAccessibleName("Pair")
        self.title.setWordWrap(True)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Records side by side")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # A record's name longer than its column ends in "…" (it was cut at both ends).
        self.table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Wide enough for any field's name: sized to the first pair's rows only, it cut a
        # later pair's "Preferred first name" to "Preferred first nam".
        widest = max(rows.fontMetrics().horizontalAdvance(label) for label in row_labels())
        margin = rows.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
        rows.setMinimumWidth(widest + 4 * margin)

        self.evidence = QTableView()
        self.evidence.setModel(self.evidence_model)
        self.evidence.setAccessibleName("Evidence for and against")
        self.evidence.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.evidence.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.evidence.verticalHeader().setVisible(False)
        self.evidence.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.evidence.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.evidence)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.warning_banner)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addLayout(self._decision_buttons())

        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(HISTORY_DELAY_MS)
        self._history_timer.timeout.connect(self.fetch_missing_history)
        self._stopped = False  # the window is closing: nothing more is fetched
        ctx.connectivity.changed.connect(self._on_connectivity)

    def _decision_buttons(self) -> QHBoxLayout:
        """Merge / Not the same person / Later, the same decisions as the keys S / N / L."""
        row = QHBoxLayout()
        row.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, key in DECISION_BUTTONS:
            button = QPushButton(text.replace("&", ""))
            button.setAccessibleName(text.replace("&", "").rstrip("…"))
            button.setToolTip(f"{text.replace('&', '')} ({key})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the queue
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, n=name: self.action_requested.emit(n))
            row.addWidget(button)
            self.buttons[name] = button
        self.buttons["same"].setDefault(True)
        return row

    def _enable_buttons(self, row: QueueRow | None) -> None:
        for button in self.buttons.values():
            button.setEnabled(row is not None and row.status != PairStatus.MERGED)

    # ----------------------------------------------------------------- showing a pair

    @Slot(object)
    def show_pair(self, row: QueueRow | None) -> None:
        """Show a pair from the queue (None clears the view)."""
        self.row = row
        self._enable_buttons(row)
        if row is None:
            self.ids = []
            self.model.set_records([], {})
            self.evidence_model.set_evidence([])
            self.warning_banner.setVisible(False)
            self.title.setText("Nothing selected. The queue is empty or filtered out.")
            return
        ctx = self._ctx
        cluster = ctx.group_ids(row.id_a, row.id_b)
        ids = [row.id_a, row.id_b] + [i for i in cluster if i not in (row.id_a, row.id_b)]
        self.ids = ids
        records = [ctx.patient(i) for i in ids]
        history: dict[str, Any] = {}
        for pid in ids:
            cached = ctx.cached_history(pid)
            if cached is not None:
                history[pid] = cached
            elif ctx.connectivity.online is False:
                history[pid] = UNKNOWN_OFFLINE
            else:
                history[pid] = FETCHING
        self.model.set_records(records, history)
        details = ctx.pair_details(row.id_a, row.id_b) or {}
        evidence = note_merged_birth_dates(details.get("evidence") or [], *records[:2])
        self.evidence_model.set_evidence(evidence)
        self._show_warnings(row, details)
        more = f" (a group of {len(ids)} records)" if len(ids) > 2 else ""
        band = BAND_LABELS.get(row.band, row.band).lower()
        held = ", held back by the warning above" if row.band != "likely" and row.lookalike else ""
        names = " and ".join(f"<b>{escape(shortened(n))}</b>" for n in (row.name_a, row.name_b))
        self.title.setText(f"{names}{more} — {match_percent(row.probability)} match ({band}{held})")
        if any(v == FETCHING for v in history.values()):
            self._history_timer.start()

    def _show_warnings(self, row: QueueRow, details: dict[str, Any]) -> None:
        warnings = details.get("warnings")
        if warnings is None:
            try:
                warnings = json.loads(row.warnings or "[]")
            except ValueError:
                warnings = []
        flags = details.get("flags") or split_flags(row.flags)
        if not warnings and not flags:
            self.warning_banner.setVisible(False)
            return
        c = theme.colours()
        lines = warnings or [f"Flagged: {', '.join(flags)}"]
        self.warning_banner.setText(
            "<b>⚠ These may be two different people who look alike.</b><br>"
            + "<br>".join(escape(str(w)) for w in lines)
        )
        self.warning_banner.setStyleSheet(
            f"background: {c['warning_bg']}; color: {c['warning_fg']}; padding: 8px;"
            "border-radius: 4px; font-size: 11pt"
        )
        self.warning_banner.setVisible(True)

    # ----------------------------------------------------------------- history

    def stop(self) -> None:
        """Fetch nothing more (the window is closing)."""
        self._stopped = True
        self._history_timer.stop()

    @Slot()
    def fetch_missing_history(self) -> None:
        """Fetch history counts of the shown records that are not cached (in a worker)."""
        missing = [i for i in self.ids if self.model.history_of(i) == FETCHING]
        workers = self._ctx.workers
        if not missing or workers.is_running("history"):
            return
        ctx = self._ctx
        job = Job("history", lambda job: fetch_history(ctx, missing, job.cancel_event))
        job.succeeded.connect(self._on_history)
        job.failed.connect(self._on_history_failed)
        workers.start(job)
        self._pending = missing

    @Slot(bool)
    def _on_connectivity(self, online: bool) -> None:
        """Cliniko answers again: read the history said "unknown (offline)" of the records
        shown (it stood beside "● Online" until the person moved to another pair)."""
        if not online or self._stopped:
            return
        unknown = [i for i in self.ids if self.model.history_of(i) == UNKNOWN_OFFLINE]
        for pid in unknown:
            self.model.set_history(pid, FETCHING)
        if unknown:
            self._history_timer.start()

    @Slot(object)
    def _on_history(self, counts: dict[str, dict[str, int]]) -> None:
        self._ctx.connectivity.set_online(True)
        for pid, c in counts.items():
            if pid in self.ids:
                self.model.set_history(pid, c)
        if any(self.model.history_of(i) == FETCHING for i in self.ids):
            self._history_timer.start()  # the person moved on meanwhile

    @Slot(str, object)
    def _on_history_failed(self, _message: str, error: object) -> None:
        self._ctx.connectivity.note_error(error)
        # Offline only when Cliniko could not be reached: an answer such as "too many
        # requests" leaves the window online, and the history unknown for another reason.
        note = unknown_history(error)
        for pid in self.ids:
            if self.model.history_of(pid) == FETCHING:
                self.model.set_history(pid, note)
