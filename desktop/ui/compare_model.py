"""Models of the compare view: records side by side (field rows) and the evidence list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from desktop.cliniko.errors import KeyRejected
from desktop.display import display_value, field_label, full_name, same_values
from desktop.fields import patient_field_names
from desktop.store.queue import decode_evidence
from desktop.ui import theme
from desktop.ui.context import NETWORK_ERRORS
from desktop.ui.flat_table import FlatTableModel

Index = QModelIndex | QPersistentModelIndex
Record = Mapping[str, Any]
UNKNOWN_OFFLINE = "unknown (offline)"
UNKNOWN_BUSY = "unknown (Cliniko did not answer)"  # it answered, but with an error (a 429)
UNKNOWN_KEY = "unknown (API key refused)"  # File > Change Cliniko API key…
FETCHING = "fetching…"


def unknown_history(error: object) -> str:
    """What a history count that could not be read says, by why not."""
    if isinstance(error, NETWORK_ERRORS):
        return UNKNOWN_OFFLINE  # read again as soon as Cliniko answers
    return UNKNOWN_KEY if isinstance(error, KeyRejected) else UNKNOWN_BUSY


# The fields shown side by side, in the order of Cliniko's patient form (field registry:
# ``shown``); the optional ones only when a record has a value.
ALWAYS_SHOWN: tuple[str, ...] = patient_field_names(shown=True, always_shown=True)
SHOWN_FIELDS: tuple[str, ...] = patient_field_names(shown=True)
HISTORY_ROWS = [
    ("Appointments", "appointments"),
    ("Treatment notes", "treatment_notes"),
    ("Invoices", "invoices"),
    ("Attachments", "attachments"),
]
_NOT_COMPARED = frozenset(patient_field_names(highlighted=False))


def row_labels() -> list[str]:
    """Every label a row of the records side by side may have (fields, then history)."""
    return [field_label(name) for name in SHOWN_FIELDS] + [label for label, _ in HISTORY_ROWS]


def shown_fields(records: Sequence[Record]) -> list[str]:
    """The fields worth a row for these records (the usual ones, and any other with a value)."""
    return [
        name
        for name in SHOWN_FIELDS
        if name in ALWAYS_SHOWN or any(display_value(name, r.get(name)) for r in records)
    ]


class CompareModel(QAbstractTableModel):
    """Rows are fields, columns are records; differing fields are highlighted."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[Record] = []
        self._cells: list[list[str]] = []
        self._differs: list[bool] = []
        self._history: dict[str, Mapping[str, int] | str] = {}
        self._headers: list[str] = []
        self._fields: list[str] = []
        self.country = "AU"  # the account's country, for reading phone numbers
        self.tz: tzinfo | None = None  # the clinic's clock, for the days of times (None: ours)

    def set_records(
        self, records: Sequence[Record], history: Mapping[str, Mapping[str, int] | str]
    ) -> None:
        """Show these records (and what is known of their history)."""
        self.beginResetModel()
        self._records = list(records)
        self._history = dict(history)
        self._headers = [
            f"{chr(65 + i) if i < 26 else str(i + 1)}: {full_name(r)}".strip()
            for i, r in enumerate(self._records)
        ]
        self._rebuild()
        self.endResetModel()

    def set_history(self, patient_id: str, counts: Mapping[str, int] | str) -> None:
        """Update one record's history counts (or a note such as "unknown (offline)")."""
        self._history[str(patient_id)] = counts
        self._rebuild()
        first = len(self._fields)
        if self._records:
            self.dataChanged.emit(
                self.index(first, 0), self.index(len(self._cells) - 1, len(self._records) - 1)
            )

    def history_of(self, patient_id: str) -> Mapping[str, int] | str | None:
        """What is known of a record's history."""
        return self._history.get(str(patient_id))

    def _rebuild(self) -> None:
        self._fields = shown_fields(self._records)
        cells = [[display_value(f, r.get(f), self.tz) for r in self._records] for f in self._fields]
        for _label, key in HISTORY_ROWS:
            row = []
            for r in self._records:
                known = self._history.get(str(r.get("id")))
                row.append(str(known.get(key, "")) if isinstance(known, Mapping) else known or "")
            cells.append(row)
        self._cells = cells
        self._differs = [
            name not in _NOT_COMPARED
            and not same_values(name, [r.get(name) for r in self._records], self.country)
            for name in self._fields
        ] + [False] * len(HISTORY_ROWS)

    def differing_fields(self) -> list[str]:
        """Labels of the fields whose values differ (after normalising: not by format)."""
        return [field_label(self._fields[i]) for i, d in enumerate(self._differs) if d]

    # ----------------------------------------------------------------- Qt overrides

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Fields plus history rows (none without records)."""
        return 0 if parent.isValid() or not self._records else len(self._cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """One column per record."""
        return 0 if parent.isValid() else len(self._records)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Record names across (their full text as a tip), field names down."""
        across = orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers)
        if role == Qt.ItemDataRole.ToolTipRole and across:
            return self._headers[section]
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if across:
            return self._headers[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < self.rowCount():
            if section < len(self._fields):
                return field_label(self._fields[section])
            return HISTORY_ROWS[section - len(self._fields)][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Values, with differing fields highlighted."""
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        row, column = index.row(), index.column()
        if column >= len(self._records):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cells[row][column]
        if role == Qt.ItemDataRole.BackgroundRole and self._differs[row]:
            return QBrush(theme.colour("diff"))
        if role == Qt.ItemDataRole.FontRole and self._differs[row]:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Cells can be selected (to copy), not edited."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class EvidenceModel(FlatTableModel):
    """The evidence for and against a pair, strongest first."""

    COLUMNS = ("Evidence", "Weight")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[dict[str, Any]] = []

    def set_evidence(self, evidence: str | Sequence[Mapping[str, Any]]) -> None:
        """Show evidence (the queue's JSON or a list of dicts)."""
        items = decode_evidence(evidence) if isinstance(evidence, str) else list(evidence)
        self.beginResetModel()
        self._items = sorted(
            (dict(i) for i in items), key=lambda e: -abs(float(e.get("weight") or 0))
        )
        self.endResetModel()

    def row_total(self) -> int:
        """Rows shown."""
        return len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, signed weight, green for and red against."""
        if not index.isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        weight = float(item.get("weight") or 0)
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return str(item.get("text") or item.get("field") or "")
            return f"{weight:+.1f}"
        if role == Qt.ItemDataRole.ToolTipRole:
            a, b = item.get("value_a") or "", item.get("value_b") or ""
            field = str(item.get("field") or "")
            return f"{field_label(field)}: {a} / {b} ({item.get('level')})"
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(theme.colour("for" if weight >= 0 else "against"))
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
