"""The merge queue on screen: filters, the table, and the keyboard actions with their hints."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QCursor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.merge_states import Outcome, PairStatus
from desktop.review import why_not_decide
from desktop.ui.queue_model import TO_REVIEW, QueueFilter, QueueModel, QueueRow

STATUS_FILTERS: list[tuple[str, tuple[str, ...] | None]] = [
    ("To review", TO_REVIEW),
    ("New", (PairStatus.NEW,)),
    ("Later", (PairStatus.LATER,)),
    ("Not the same person", (PairStatus.NOT_SAME,)),
    ("Merge planned", (PairStatus.PLANNED,)),
    ("Ready to apply", (PairStatus.READY,)),
    ("To merge in Cliniko", (PairStatus.IN_CLINIKO,)),
    ("Merged", (PairStatus.MERGED,)),
    ("Skipped", (PairStatus.SKIPPED,)),
    ("All", None),
]
BAND_FILTERS: list[tuple[str, tuple[str, ...] | None]] = [
    ("Likely and possible", None),
    ("Likely", ("likely",)),
    ("Possible", ("possible",)),
]
HINTS = (
    "<b>J</b> / <b>↓</b> next  ·  <b>K</b> / <b>↑</b> previous  ·  "
    "<b>S</b> or <b>Ctrl+M</b> same person (merge)  ·  <b>N</b> not the same person  ·  "
    "<b>L</b> later  ·  <b>Ctrl+Z</b> undo  ·  <b>Ctrl+F</b> or type a name to search, "
    "<b>Esc</b> clear it"
)
# Keys that leave the search box for the queue (Escape also clears the search).
LEAVE_SEARCH_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down, Qt.Key.Key_Escape)
# Keys that step a closed filter box to its next or previous choice.
STEPPING_KEYS = (
    Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End,
    Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
)  # fmt: skip
# A key pressed this soon after the one before is part of a word being typed, not a decision.
TYPING_GAP_S = 0.5
# With these held, a key is a command, never typing.
COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class QueueView(QWidget):
    """Lists candidate pairs and turns keys into decisions.

    Signals:
        current_changed(object): the selected :class:`QueueRow`, or None.
        decided(object, str): a pair and "not_same" or "later".
        merge_requested(object): "same person" on a pair (opens the merge wizard).
        typed_over(int): that many decisions, just made by the first letters of a name typed
            into the queue ("Nelson": N), were typing; undo them.
    """

    current_changed = Signal(object)
    decided = Signal(object, str)
    refused = Signal(str)  # a decision the queue cannot take on this pair, and why
    merge_requested = Signal(object)
    typed_over = Signal(int)

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(model)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or id")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the queue by name")
        self.search.setToolTip("Search by name or id (Ctrl+F)")
        self.search.textChanged.connect(self._search_changed)
        # Only a click or Ctrl+F puts the cursor here: the app never leaves it in the search
        # box, where the single-letter keys would type instead of acting on the queue.
        self.search.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.search.installEventFilter(self)
        self.band = QComboBox()
        self.band.setAccessibleName("Filter by band")
        self.band.setToolTip("Show likely pairs, possible pairs, or both")
        for label, bands in BAND_FILTERS:
            self.band.addItem(label, bands)
        self.band.currentIndexChanged.connect(self._band_changed)
        self.band.activated.connect(self._filter_chosen)
        self.band.installEventFilter(self)
        self._stepping = False  # a filter box is being stepped through with the arrow keys
        self.status = QComboBox()
        self.status.setAccessibleName("Filter by status")
        self.status.setToolTip("Which pairs to list")
        for label, statuses in STATUS_FILTERS:
            self.status.addItem(label, statuses)
        self.status.currentIndexChanged.connect(self._status_changed)
        self.status.activated.connect(self._filter_chosen)
        self.status.installEventFilter(self)
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Pairs shown")

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Merge queue")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Letters typed into the queue go to the search box (see _typed_in_queue).
        self.table.installEventFilter(self)
        self._typed: list[tuple[float, str]] = []  # the letters of the word being typed
        self._typed_decisions = 0  # decisions its letters made as queue keys
        self._searched = ""  # the search box's text before its last change
        self._before_search: tuple[str, str] | None = None  # the pair selected when it began
        for column, width in enumerate((180, 64, 150, 150, 100, 110)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

        self.hint_bar = QLabel(HINTS)
        self.hint_bar.setAccessibleName("Keyboard shortcuts")
        self.hint_bar.setObjectName("hintBar")
        self.hint_bar.setWordWrap(True)

        self.actions_by_name: dict[str, QAction] = {}
        self._action("next", "Next pair", ["J"], self.select_next)
        self._action("previous", "Previous pair", ["K"], self.select_previous)
        # A decision key held down (or stuck) decides once, not for every pair it repeats over.
        self._action(
            "same", "Same person: merge…", ["S", "Ctrl+M"], self.request_merge, repeats=False
        )
        self._action("not_same", "Not the same person", ["N"], self.mark_not_same, repeats=False)
        self._action("later", "Decide later", ["L"], self.mark_later, repeats=False)
        self._action("search", "Search", ["Ctrl+F"], self.focus_search)
        self._action("clear_search", "Clear the search", ["Esc"], self.clear_search)
        self.context_menu = QMenu(self)
        self.context_menu.setAccessibleName("Pair actions")
        for name in ("same", "not_same", "later"):
            self.context_menu.addAction(self.actions_by_name[name])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self.show_context_menu)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        filters.addWidget(self.band)
        filters.addWidget(self.status)
        filters.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint_bar)
        self._update_count()

    def _action(
        self, name: str, text: str, keys: list[str], slot: object, *, repeats: bool = True
    ) -> None:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setAutoRepeat(repeats)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text} ({' or '.join(keys)})")
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action

    # ----------------------------------------------------------------- selection

    def current(self) -> QueueRow | None:
        """The selected pair, or None."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        source = self.proxy.mapToSource(index)
        return self.model.row_at(source.row())

    def select_row(self, row: int) -> None:
        """Select a row of the filtered list (clamped to the list)."""
        count = self.proxy.rowCount()
        if count == 0:
            self.table.setCurrentIndex(QModelIndex())
            self.current_changed.emit(None)
            return
        row = max(0, min(row, count - 1))
        index = self.proxy.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def _listed(self, key: tuple[str, str]) -> QModelIndex:
        """The pair's place in the filtered list (invalid when it is not listed)."""
        source = self.model.row_for(key)
        if source is None:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index(source, 0))

    def select_key(self, key: tuple[str, str]) -> bool:
        """Select a pair by its ids; False when it is not listed."""
        index = self._listed(key)
        if not index.isValid():
            return False
        self.select_row(index.row())
        return True

    def pointed(self) -> tuple[tuple[str, str], int] | None:
        """The pair of the row under the pointer and that row's top in the list, or None when
        the pointer is not on a row."""
        viewport = self.table.viewport()
        at = viewport.mapFromGlobal(QCursor.pos())
        index = self.table.indexAt(at) if viewport.rect().contains(at) else QModelIndex()
        if not index.isValid():
            return None
        row = self.model.row_at(self.proxy.mapToSource(index).row())
        return row.key, self.table.visualRect(index).top()

    def keep_under_pointer(self, pointed: tuple[tuple[str, str], int] | None) -> None:
        """Scroll the list so that the pair :meth:`pointed` found is under the pointer again
        (pairs put above it by a reload moved it down, and a click aimed at it landed on
        another pair); as close as the list allows, and not so far that the selected pair
        leaves the screen (the keys act on it)."""
        if pointed is None:
            return
        key, top = pointed
        index = self._listed(key)
        if not index.isValid():
            return
        moved = self.table.visualRect(index).top() - top
        bar = self.table.verticalScrollBar()
        if self.table.verticalScrollMode() is QAbstractItemView.ScrollMode.ScrollPerItem:
            moved = round(moved / max(1, self.table.rowHeight(index.row())))
        before = bar.value()
        bar.setValue(before + moved)
        selected = self.table.visualRect(self.table.currentIndex())
        if selected.isValid() and not self.table.viewport().rect().intersects(selected):
            bar.setValue(before)

    @Slot()
    def select_next(self) -> None:
        """Move to the next pair."""
        self.select_row(self.table.currentIndex().row() + 1)

    @Slot()
    def select_previous(self) -> None:
        """Move to the previous pair."""
        self.select_row(max(self.table.currentIndex().row() - 1, 0))

    @Slot()
    def focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.search.setFocus()
        self.search.selectAll()

    @Slot()
    def focus_queue(self) -> None:
        """Give the keyboard to the queue (after a sync and after every action)."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def clear_search(self) -> None:
        """Escape: empty the search box and go back to the queue."""
        if self.search.text():
            self.search.clear()
        self.focus_queue()

    @Slot()
    def _filter_chosen(self) -> None:
        """A filter was chosen from its list: the queue has the keyboard again. Stepped to
        with an arrow key on the closed box, the box keeps it (the next Up moved a pair)."""
        if self._stepping:
            self._stepping = False
            return
        self.focus_queue()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the search box, Escape clears it; Enter and Down go back to the queue. In the
        queue, a name typed goes to the search box."""
        if watched is self.table and isinstance(event, QKeyEvent) and self._typed_in_queue(event):
            return True
        if (
            watched in (self.band, self.status)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            # Alt+Down and Alt+Up open the list instead (a choice made there is no step).
            opens = event.modifiers() & Qt.KeyboardModifier.AltModifier
            self._stepping = event.key() in STEPPING_KEYS and not opens
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            key = event.key()
            if key in LEAVE_SEARCH_KEYS:
                if key == Qt.Key.Key_Escape:
                    self.clear_search()
                else:
                    self.focus_queue()
                return True
        return super().eventFilter(watched, event)

    def _typed_in_queue(self, event: QKeyEvent) -> bool:
        """Watch text keys pressed in the queue; True when the key was typing for the search.

        A key no queue shortcut takes starts a search with it ("B" of "Baran"), and the
        search box then has the keyboard for the rest of the name. A queue key still acts
        (J, N, ...), but when a key no shortcut takes follows it at typing speed, it was the
        first letter of a name ("Nelson"): it joins the search and its decision is undone.
        """
        kind = event.type()
        text = event.text()
        if (
            kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            or not text
            or not text.isprintable()
            or text.isspace()
            or event.modifiers() & COMMAND_MODIFIERS
        ):
            return False
        now = time.monotonic()
        if kind == QEvent.Type.ShortcutOverride:  # comes first for every key: note it
            if self._typed and now - self._typed[-1][0] > TYPING_GAP_S:
                self._typed, self._typed_decisions = [], 0
            self._typed.append((now, text))
            return False
        # No shortcut took this key (its own note is the last one): it is typing.
        earlier = "".join(letter for _, letter in self._typed[:-1])
        undo = self._typed_decisions
        self._typed, self._typed_decisions = [], 0
        if undo:
            self.typed_over.emit(undo)
        self.focus_search()
        self.search.insert(earlier + text)
        return True

    @Slot(QPoint)
    def show_context_menu(self, position: QPoint) -> None:
        """Right-click on a pair: select it and offer Merge, Not the same and Later."""
        index = self.table.indexAt(position)
        if index.isValid():
            self.select_row(index.row())
        if self.current() is None:
            return
        self.context_menu.popup(self.table.viewport().mapToGlobal(position))

    @Slot(QModelIndex, QModelIndex)
    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(self.current() if current.isValid() else None)

    # ----------------------------------------------------------------- decisions

    @Slot()
    def request_merge(self) -> None:
        """ "Same person": ask for the merge wizard."""
        row = self.current()
        if row is not None:
            self.merge_requested.emit(row)

    @Slot()
    def mark_not_same(self) -> None:
        """ "Not the same person"."""
        self._decide(Outcome.NOT_SAME)

    @Slot()
    def mark_later(self) -> None:
        """ "Later"."""
        self._decide(Outcome.LATER)

    def _decide(self, decision: str) -> None:
        row = self.current()
        if row is None:
            return
        why_not = why_not_decide(row.status, decision)
        if why_not:
            self.refused.emit(why_not)
            return
        if self._typed and time.monotonic() - self._typed[-1][0] < TYPING_GAP_S:
            self._typed_decisions += 1  # made by a key: typing may yet claim it
        position = self.table.currentIndex().row()
        self.decided.emit(row, decision)
        # The decision may have filtered the row out; then the next pair moved up into place.
        still = self.current()
        if still is not None and still.key == row.key:
            self.select_row(position + 1)
        else:
            self.select_row(position)
        self.focus_queue()

    # ----------------------------------------------------------------- filters

    @Slot(int)
    def _band_changed(self, _index: int) -> None:
        self._refilter(self.proxy.set_bands, self.band.currentData())

    @Slot(int)
    def _status_changed(self, _index: int) -> None:
        self._refilter(self.proxy.set_statuses, self.status.currentData())

    @Slot(str)
    def _search_changed(self, text: str) -> None:
        if text and not self._searched:
            current = self.current()
            self._before_search = current.key if current is not None else None
        self._searched = text
        self._refilter(self.proxy.set_search, text)
        if not text and self._before_search is not None:
            # The search cleared: back to the pair it began from, if still listed.
            self.select_key(self._before_search)
            self._before_search = None

    def _refilter(self, setter: Callable[[Any], None], value: Any) -> None:
        """Apply a filter, keeping the selected pair when it is still listed."""
        current = self.current()
        setter(value)
        if current is None or not self.select_key(current.key):
            self.select_row(0)
        self._update_count()

    def clear_filters(self) -> None:
        """Empty the search and show every pair to review, likely and possible (the filters'
        first choices)."""
        self.search.clear()
        self.band.setCurrentIndex(0)
        self.status.setCurrentIndex(0)

    def show_status(self, label: str) -> None:
        """Pick a status filter by its label (e.g. "Ready to apply")."""
        i = self.status.findText(label)
        if i >= 0:
            self.status.setCurrentIndex(i)

    @Slot()
    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.total()
        self.count_label.setText(f"{shown:,} of {total:,} pairs")
