"""The merge queue as a Qt table model: compact tuples, loaded in one query, filtered by a proxy.

Rows are held as small tuples (a 20k-row queue is a few MB) in best-evidence-first order, so
the view never waits on the database while scrolling. Filtering by band, status and name is
set on :class:`QueueFilter` (the proxy the view shows) but computed by the source model in
one Python pass: a ``filterAcceptsRow`` override would cost a Python call per row per change
(about 50 ms for 20k rows), too slow for typing in the search box.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush

from desktop.display import readable, readable_date
from desktop.matching.lookalike import HELD_BECAUSE, split_flags
from desktop.matching.text import search_key
from desktop.merge_states import PairStatus
from desktop.store.queue_list import queue_rows
from desktop.triage import split_history, split_history_words, triage_order
from desktop.ui import theme
from desktop.ui.flat_table import FlatTableModel

Index = QModelIndex | QPersistentModelIndex

STATUS_LABELS: dict[str, str] = {
    PairStatus.NEW: "New",
    PairStatus.LATER: "Later",
    PairStatus.NOT_SAME: "Not the same person",
    PairStatus.PLANNED: "Merge planned",
    PairStatus.READY: "Ready to apply",
    PairStatus.IN_CLINIKO: "To merge in Cliniko",
    PairStatus.MERGED: "Merged",
    PairStatus.SKIPPED: "Skipped",
}
BAND_LABELS = {"likely": "Likely", "possible": "Possible", "unlikely": "Unlikely"}
TO_REVIEW = (PairStatus.NEW, PairStatus.LATER, PairStatus.PLANNED)


def match_percent(probability: float) -> str:
    """A match probability for people: "> 99.9%" rather than a rounded-up "100.0%"."""
    if probability >= 0.9995:
        return "> 99.9%"
    if probability < 0.0005:
        return "< 0.1%"
    return f"{probability:.1%}"


def match_text(probability: float, flags: str) -> str:
    """The Match column: the score, and what holds the pair back ("> 99.9% · held: twins?")."""
    held = split_flags(flags)
    if not held:
        return match_percent(probability)
    return f"{match_percent(probability)} · held: {HELD_BECAUSE.get(held[0], held[0])}"


class QueueRow(NamedTuple):
    """One pair of the queue, as little as the list needs."""

    id_a: str
    id_b: str
    probability: float
    band: str
    status: str
    flags: str
    warnings: str  # JSON list, decoded only for tooltips
    cluster_id: int | None
    name_a: str
    name_b: str
    born_a: str
    born_b: str
    search: str  # names and ids, lower case and without accents, for the filter
    group_size: int = 0  # records in the group (cluster) this pair belongs to; 0: none
    triage: str = ""  # e.g. "split history, booked Tue 8 Dec 10:30" (desktop.triage)

    @property
    def key(self) -> tuple[str, str]:
        """The pair's ids in storage order."""
        return (self.id_a, self.id_b)

    @property
    def lookalike(self) -> bool:
        """True when the pair has look-alike flags or warnings (twins, parent and child...)."""
        return bool(self.flags) or self.warnings not in ("", "[]")


class QueueData(NamedTuple):
    """The queue as read by a worker: rows best first, and each pair's position."""

    rows: list[QueueRow]
    where: dict[tuple[str, str], int]


def load_queue(db: Any, now: datetime | None = None) -> QueueData:
    """Read the queue and index it (in a worker, so the GUI thread only swaps it in); pairs in
    clinical use (both records booked, or both with notes) first."""
    rows = load_rows(db)
    marks = split_history(db, rows, now or datetime.now(UTC))
    rows = [
        r._replace(triage=marks[r.key][2]) if r.key in marks else r
        for r in triage_order(rows, marks)
    ]
    return QueueData(rows, {r.key: i for i, r in enumerate(rows)})


def load_rows(db: Any, among: Sequence[str] | None = None) -> list[QueueRow]:
    """Read the whole queue (or its pairs between two of ``among``), best evidence first, as
    compact rows."""
    out: list[QueueRow] = []
    append = out.append
    for a, b, p, band, status, flags, warnings, cluster, na, nb, ba, bb, size in queue_rows(
        db, among
    ):
        na, nb = readable(na).strip(), readable(nb).strip()
        search = search_key(f"{na}\n{nb}\n{a}\n{b}")
        append(
            QueueRow(a, b, p, band, status, flags, warnings, cluster, na, nb, ba, bb, search, size)
        )
    return out


class QueueModel(FlatTableModel):
    """The pairs of the merge queue that pass the filter (see :class:`QueueRow`)."""

    COLUMNS = ("Match", "Band", "Record A", "Record B", "Born", "Notes", "Status")
    SortRole = Qt.ItemDataRole.UserRole + 1
    RowRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: list[QueueRow] = []
        self._where: dict[tuple[str, str], int] = {}
        self._visible: list[int] = []
        self._bands: frozenset[str] | None = None
        self._statuses: frozenset[str] | None = None
        self._needle = ""
        self._only: frozenset[tuple[str, str]] | None = None  # "New since...": these pairs
        # The records of the open merge window: their pairs stay listed whatever their status
        # becomes, so the list follows the merge without taking the pair from under it.
        self._pinned: frozenset[str] = frozenset()

    # ----------------------------------------------------------------- Qt overrides

    def row_total(self) -> int:
        """Rows shown."""
        return len(self._visible)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltips and colours."""
        if not index.isValid() or index.row() >= len(self._visible):
            return None
        row = self._all[self._visible[index.row()]]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 and row.lookalike:
            return QBrush(theme.colour("against"))
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and row.band == "likely":
            return QBrush(theme.colour("for"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.SortRole:
            return row.probability if column == 0 else self._display(row, column)
        if role == self.RowRole:
            return row
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.name_a} and {row.name_b}, {row.probability:.0%} match"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Rows are selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ----------------------------------------------------------------- content

    @staticmethod
    def _display(row: QueueRow, column: int) -> str:
        if column == 0:
            return match_text(row.probability, row.flags)
        if column == 1:
            return BAND_LABELS.get(row.band, row.band)
        if column == 2:
            return row.name_a
        if column == 3:
            return row.name_b
        if column == 4:
            a, b = readable_date(row.born_a), readable_date(row.born_b)
            return a if a == b else f"{a or '–'} / {b or '–'}"
        if column == 5:
            notes = [row.triage] if row.triage else []
            notes += ["⚠ look-alike"] if row.lookalike else []
            if row.group_size > 2:
                notes.append(f"group of {row.group_size}")
            return ", ".join(notes)
        return STATUS_LABELS.get(row.status, row.status)

    @staticmethod
    def _tooltip(row: QueueRow, column: int) -> str | None:
        if column == 5:
            return QueueModel._notes_tooltip(row) or None
        if column == 0 and row.flags:
            return "A look-alike rule holds this pair out of “likely”: " + ", ".join(
                HELD_BECAUSE.get(f, f) for f in split_flags(row.flags)
            )
        if column in (2, 3):
            return f"Cliniko id {row.id_a if column == 2 else row.id_b}"
        return None

    @staticmethod
    def _notes_tooltip(row: QueueRow) -> str:
        """The Notes cell in whole sentences (the cell is often cut off)."""
        lines = [split_history_words(row.triage)] if row.triage else []
        if row.lookalike:
            try:
                warnings = json.loads(row.warnings or "[]")
            except ValueError:
                warnings = []
            lines.append("\n".join(warnings) or ", ".join(split_flags(row.flags)))
        if row.group_size > 2:
            lines.append(f"These two belong to a group of {row.group_size} records of one person")
        return "\n".join(lines)

    def pin(self, ids: Sequence[str]) -> None:
        """Keep the pairs among these records listed (the open merge window's); () frees them."""
        self._pinned = frozenset(ids)

    def _passes(self, row: QueueRow) -> bool:
        if row.id_a in self._pinned and row.id_b in self._pinned:
            return True
        if self._only is not None and row.key not in self._only:
            return False
        if self._bands is not None and row.band not in self._bands:
            return False
        if self._statuses is not None and row.status not in self._statuses:
            return False
        return not self._needle or self._needle in row.search

    def _refilter(self) -> None:
        passes = self._passes
        self._visible = [i for i, r in enumerate(self._all) if passes(r)]

    def set_rows(self, rows: Sequence[QueueRow] | QueueData) -> None:
        """Replace every row (after a scan); a :class:`QueueData` comes already indexed."""
        if isinstance(rows, QueueData):
            all_rows, where = rows.rows, rows.where
        else:
            all_rows = list(rows)
            where = {r.key: i for i, r in enumerate(all_rows)}
        self.beginResetModel()
        self._all, self._where = all_rows, where
        self._refilter()
        self.endResetModel()

    def set_filter(
        self,
        bands: frozenset[str] | None,
        statuses: frozenset[str] | None,
        needle: str,
    ) -> None:
        """Show only rows of these bands and statuses (None: any) whose names hold ``needle``."""
        self.beginResetModel()
        self._bands, self._statuses, self._needle = bands, statuses, needle
        self._refilter()
        self.endResetModel()

    def set_only(self, keys: frozenset[tuple[str, str]] | None) -> None:
        """Show only these pairs (None: every pair), e.g. those the watch found since 9:00."""
        self.beginResetModel()
        self._only = keys
        self._refilter()
        self.endResetModel()

    def row_at(self, row: int) -> QueueRow:
        """The pair shown in row ``row``."""
        return self._all[self._visible[row]]

    def row_for(self, key: tuple[str, str]) -> int | None:
        """The row where a pair is shown, or None (unknown or filtered out)."""
        i = self._where.get(key)
        if i is None:
            return None
        pos = bisect_left(self._visible, i)
        return pos if pos < len(self._visible) and self._visible[pos] == i else None

    def find(self, key: tuple[str, str]) -> QueueRow | None:
        """A pair by its ids, shown or not."""
        i = self._where.get(key)
        return None if i is None else self._all[i]

    def set_status(self, key: tuple[str, str], status: str) -> None:
        """Change one pair's status in place (after the decision was written)."""
        i = self._where.get(key)
        if i is not None:
            self._set_row(i, self._all[i]._replace(status=status))

    def refresh_rows(self, rows: Iterable[QueueRow]) -> None:
        """Show these pairs as read again (after a merge step wrote a record's new name or
        the pair's status), each in its place; its booking mark stays until the next read."""
        for fresh in rows:
            i = self._where.get(fresh.key)
            if i is not None:
                self._set_row(i, fresh._replace(triage=self._all[i].triage))

    def _set_row(self, i: int, row: QueueRow) -> None:
        """Put ``row`` at position ``i`` of the whole queue and show or hide it as it now passes
        the filter."""
        self._all[i] = row
        pos = bisect_left(self._visible, i)
        shown = pos < len(self._visible) and self._visible[pos] == i
        passes = self._passes(row)
        if shown and passes:
            self.dataChanged.emit(self.index(pos, 0), self.index(pos, len(self.COLUMNS) - 1))
        elif shown:
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._visible[pos]
            self.endRemoveRows()
        elif passes:
            self.beginInsertRows(QModelIndex(), pos, pos)
            self._visible.insert(pos, i)
            self.endInsertRows()

    def total(self) -> int:
        """Every pair, shown or not."""
        return len(self._all)

    def counts(self) -> dict[str, int]:
        """How many pairs per status."""
        out: dict[str, int] = {}
        for r in self._all:
            out[r.status] = out.get(r.status, 0) + 1
        return out


class QueueFilter(QSortFilterProxyModel):
    """What the view shows: the queue filtered by band, status and a name search.

    Keeps the source's best-first order; the filter itself runs in the source model (see the
    module docstring), so this proxy never calls back into Python per row.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bands: frozenset[str] | None = None
        self._statuses: frozenset[str] | None = frozenset(TO_REVIEW)
        self._needle = ""
        self.sourceModelChanged.connect(self._push)

    def _push(self) -> None:
        model = self.sourceModel()
        if isinstance(model, QueueModel):
            model.set_filter(self._bands, self._statuses, self._needle)

    def set_bands(self, bands: Sequence[str] | None) -> None:
        """Show only these bands (None: every band)."""
        self._bands = None if bands is None else frozenset(bands)
        self._push()

    def set_statuses(self, statuses: Sequence[str] | None) -> None:
        """Show only these statuses (None: every status)."""
        self._statuses = None if statuses is None else frozenset(statuses)
        self._push()

    def set_search(self, text: str) -> None:
        """Show only pairs whose names (or ids) contain ``text``, ignoring case and accents
        ("nunez" finds Núñez, "chloe" Chloé)."""
        self._needle = search_key(text.strip())
        self._push()
