"""The pages of the merge wizard. Pages only show the flow's state and collect input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.account import stored_account
from desktop.cliniko.errors import KeyRejected
from desktop.display import display_value, field_label, full_name
from desktop.intake import account_time_zone
from desktop.merge import MergeFlow, Step
from desktop.merge.executor import CLINIKO_MERGE_LIMITS, CLINIKO_MERGE_MOVES
from desktop.merge.plan import (
    LINK_FIELDS,
    clinical_history,
    field_value,
    history_items,
    is_blank,
)
from desktop.ui import theme
from desktop.ui.compare_model import FETCHING, CompareModel

# ------------------------------------------------------------------ how values read
# Every field name and value the wizard shows goes through the shared formatter.


def show_value(
    name: str, value: Any, link_names: Mapping[tuple[str, str], str] | None = None
) -> str:
    """A field value in words (Yes/No, pronouns as words, phones "; "-joined, "(blank)"); a
    link field's id as the name of what it points at, when ``link_names`` has it (else said to
    be an id)."""
    known = (link_names or {}).get((name, str(value)))
    if known:
        return known
    if name in LINK_FIELDS and not is_blank(value):
        return f"Cliniko id {value} (name not read from Cliniko)"
    return display_value(name, value).replace("\n", "; ") or "(blank)"


def change_lines(
    changes: dict[str, Any],
    link_names: Mapping[tuple[str, str], str] | None = None,
    before: Mapping[str, Any] | None = None,
) -> list[str]:
    """ "Label: new value" for each field a PATCH sets, in words (HTML-escaped); given the
    record as it is (``before``), "Label: old value → new value"."""
    return [
        f"{escape(field_label(k))}: "
        + (f"{escape(show_value(k, field_value(before, k), link_names))} → " if before else "")
        + escape(show_value(k, v, link_names))
        for k, v in changes.items()
    ]


class Page(QWidget):
    """A wizard page: a heading, an explanation and a body; :meth:`load` reads the flow."""

    def __init__(self, heading: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(f"<h2>{escape(heading)}</h2>")
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.heading)
        self.body.addWidget(self.text)

    def load(self, flow: MergeFlow) -> None:
        """Show the flow's current state."""

    def first_control(self) -> QWidget | None:
        """Where the keyboard starts on this page (None: the wizard's main button)."""
        return None


class ComparePage(Page):
    """Step 1: the records side by side once more, lettered A, B, C… in ``order`` (the
    queue's order for the pair, so its "C" is the queue's "C"), then any other in the plan."""

    def __init__(self, order: Sequence[str] = ()) -> None:
        super().__init__("Compare", "Check once more that these records belong to the same person.")
        self.order = [str(i) for i in order]
        # What a history not read yet says, set by the wizard: why it cannot be read now.
        self.unknown = FETCHING
        self.model = CompareModel(self)
        table = QTableView()
        table.setModel(self.model)
        table.setAccessibleName("Records side by side")
        table.setTabKeyNavigation(False)  # Tab moves on to the buttons, not cell by cell
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # A record's name longer than its column ends in "…" (it was cut at both ends).
        table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.body.addWidget(table, 1)

    def load(self, flow: MergeFlow) -> None:
        """Show the cached records and history (a count not read yet is being read, or says
        why it cannot be: see :attr:`unknown`)."""
        records = flow.records()
        history = {k: (v if v is not None else self.unknown) for k, v in flow.history().items()}
        account = stored_account(flow.cache.db)
        if account is not None and account.country_code:
            self.model.country = account.country_code
        self.model.tz = account_time_zone(flow.cache.db)
        planned = flow.plan.patient_ids
        ids = [i for i in self.order if i in planned] + [i for i in planned if i not in self.order]
        self.model.set_records([records[i] for i in ids if i in records], history)


def survivor_words(records: int) -> str:
    """The choice's explanation for a pair, or a group of ``records`` (a group of three read
    "the other record's appointments")."""
    if records > 2:
        return (
            "Cliniko moves the other records' appointments, notes and invoices to the one that "
            "stays. The suggestion is the record with the most clinical history, then the "
            "oldest."
        )
    return (
        "Cliniko moves the other record's appointments, notes and invoices to the one that "
        "stays. The suggestion is the record with more clinical history, then the older one."
    )


class SurvivorPage(Page):
    """Step 2: choose the record that stays.

    Signals:
        picked(str): the person checked this record's button (the wizard saves it at once).
    """

    picked = Signal(str)

    def __init__(self) -> None:
        super().__init__("Choose the record that stays", survivor_words(2))
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        self.holder = QVBoxLayout()
        self.body.addLayout(self.holder)
        self.body.addStretch(1)

    def load(self, flow: MergeFlow) -> None:
        """One radio button per record, the plan's survivor (or the suggestion) checked."""
        for button in self.buttons.values():
            self.group.removeButton(button)
            button.deleteLater()
        self.buttons = {}
        records, history = flow.records(), flow.history()
        self.text.setText(survivor_words(len(flow.plan.patient_ids)))
        tz = account_time_zone(flow.cache.db)
        suggested = flow.suggested_survivor()
        chosen = flow.plan.survivor_id or suggested
        for pid in flow.plan.patient_ids:
            record = records.get(pid, {})
            counts = history.get(pid)
            size = "history unknown" if counts is None else history_items(clinical_history(counts))
            born = display_value("date_of_birth", record.get("date_of_birth")) or "not recorded"
            made = (
                display_value("created_at", record.get("created_at"), tz) or "at a time not known"
            )
            label = f"{full_name(record)} — born {born}, created {made}, {size} (id {pid})"
            if pid == suggested:
                label += "   ★ suggested"
            button = QRadioButton(label)
            button.setAccessibleName(f"Keep record {pid}")
            self.group.addButton(button)
            self.holder.addWidget(button)
            self.buttons[pid] = button
            button.setChecked(pid == chosen)
            button.toggled.connect(
                lambda on, pid=pid: self.picked.emit(pid) if on else None  # type: ignore[misc]
            )

    def first_control(self) -> QWidget | None:
        """The checked record: the arrow keys pick another."""
        return self.group.checkedButton()

    def chosen(self) -> str | None:
        """The id of the checked record."""
        for pid, button in self.buttons.items():
            if button.isChecked():
                return pid
        return None


class ReconcilePage(Page):
    """Step 3: for every differing field, the value the record that stays ends with.

    Signals:
        chosen(str, object): a field and its new value (the wizard saves it at once).
    """

    chosen = Signal(str, object)

    def __init__(self) -> None:
        super().__init__(
            "Reconcile the differences",
            "Cliniko never overwrites the fields of the record that stays, so pick here what it "
            "should end with. Defaults: keep its value, fill its blanks, keep every phone number, "
            "keep a marketing consent's No from any record.",
        )
        # First and last name swapped between the records: the default keeps the survivor's.
        self.names_note = QLabel()
        self.names_note.setWordWrap(True)
        self.names_note.setAccessibleName("Check the name")
        self.names_note.setVisible(False)
        self.body.addWidget(self.names_note)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            ["Field", "Record that stays", "Other record", "Ends with"]
        )
        self.table.setAccessibleName("Field choices")
        self.table.setTabKeyNavigation(False)  # Tab goes from one "Ends with" choice to the next
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.body.addWidget(self.table, 1)
        self.combos: dict[str, QComboBox] = {}

    def load(self, flow: MergeFlow) -> None:
        """One row per differing field with a choice of values."""
        choices = flow.reconciliation()
        self._note_swapped_names(flow)
        group = len(flow.plan.duplicate_ids) > 1
        self.table.setHorizontalHeaderItem(
            2, QTableWidgetItem("Other records" if group else "Other record")
        )
        self.table.setRowCount(len(choices))
        self.combos = {}
        names = flow.link_names
        for row, c in enumerate(choices):
            # In a group, every other record's value: "(blank) / Subiaco", not only the first.
            others = " / ".join(show_value(c.field, v, names) for v in c.other_values)
            for column, text in enumerate(
                (field_label(c.field), show_value(c.field, c.survivor_value, names), others)
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
            combo = QComboBox()
            combo.setAccessibleName(f"Value for {field_label(c.field)}")
            options = list(c.options)
            if not any(o == c.chosen for o in options):
                options.insert(0, c.chosen)
            for option in options:
                combo.addItem(show_value(c.field, option, names), option)
            combo.setCurrentIndex(next(i for i, o in enumerate(options) if o == c.chosen))
            combo.setToolTip(c.reason)
            combo.setProperty("field", c.field)
            combo.currentIndexChanged.connect(self._changed)
            self.table.setCellWidget(row, 3, combo)
            self.combos[c.field] = combo
        previous: QWidget = self.table
        for combo in self.combos.values():  # Tab: the table, each choice in turn, the buttons
            QWidget.setTabOrder(previous, combo)
            previous = combo
        if not choices:
            self.text.setText("The records agree on every field Cliniko lets us change.")

    def _note_swapped_names(self, flow: MergeFlow) -> None:
        """Say when the records name the person first and last the other way round."""
        other = flow.swapped_names()
        self.names_note.setVisible(other is not None)
        if other is None:
            return
        stays = full_name(flow.records()[flow.plan.survivor_id or ""])
        self.names_note.setText(
            f"<b>Check the name:</b> “{escape(stays)}” (the record that stays) and "
            f"“{escape(full_name(other))}” have first and last name the other way round. By "
            "default the record that stays keeps its own order; if the other is right, pick it "
            "in both name rows below."
        )

    def first_control(self) -> QWidget | None:
        """The first field's "Ends with" choice."""
        return next(iter(self.combos.values()), None)

    @Slot(int)
    def _changed(self, _index: int) -> None:
        combo = self.sender()
        if isinstance(combo, QComboBox):
            self.chosen.emit(str(combo.property("field")), combo.currentData())


class ReviewPage(Page):
    """Step 4: what will be written and merged."""

    def __init__(self) -> None:
        super().__init__("Review", "")
        self.body.addStretch(1)

    def load(self, flow: MergeFlow) -> None:
        """Summarise the PATCH and the merge."""
        records = flow.records()
        plan = flow.plan
        survivor = records.get(plan.survivor_id or "", {})
        changes = flow.changes()
        lines = [
            f"<p><b>Stays:</b> {escape(full_name(survivor))} (id {plan.survivor_id})</p>",
            "<p><b>Merged into it in Cliniko:</b> "
            + ", ".join(
                f"{escape(full_name(records.get(d, {})))} (id {d})" for d in plan.duplicate_ids
            )
            + "</p>",
        ]
        if changes:
            lines.append("<p><b>Changes to the record that stays:</b></p><ul>")
            listed = change_lines(changes, flow.link_names, survivor)
            lines += [f"<li>{line}</li>" for line in listed]
            lines.append("</ul>")
        else:
            lines.append("<p>No field of the record that stays needs to change.</p>")
        lines.append(f"<p><b>Then, in Cliniko:</b> {escape(CLINIKO_MERGE_MOVES)} "
                     f"{escape(CLINIKO_MERGE_LIMITS)}</p>")  # fmt: skip
        lines.append(
            "<p>Saving puts the plan in <b>Ready to apply</b>. It works offline; apply it when "
            "you are connected.</p>"
        )
        self.text.setText("".join(lines))


# The ready page's heading at each step it serves.
READY_HEADINGS = {
    Step.READY: "Ready to apply",
    Step.UPDATE_SURVIVOR: "Update the record that stays",
}
# What each of those steps says, and what Cliniko's merge does (after it).
ABOUT_CLINIKO_MERGE = f"\n\nAbout Cliniko's merge: {CLINIKO_MERGE_MOVES} {CLINIKO_MERGE_LIMITS}"
READY_TEXTS = {
    Step.READY: (
        "The plan is saved. Applying it updates the record that stays in Cliniko, checks "
        "that the change stuck, and then guides you through Cliniko's own Merge. Until you "
        "press Merge in Cliniko you can still back out: MergeDesk puts the previous values "
        "back."
    ),
    Step.UPDATE_SURVIVOR: (
        "The record that stays does not have all the values you chose yet (the line below "
        "says why). “Try again” writes them and checks them; then Cliniko's own Merge "
        "follows. Nothing is merged yet, and Back puts the previous values back."
    ),
}
# The update step after MergeDesk stopped during it (closed, killed, cut off): no problem line.
UPDATE_INTERRUPTED = (
    "An update of the record that stays was started and did not finish (MergeDesk closed or "
    "lost Cliniko during it), so Cliniko may have some of the values you chose, or none. "
    "“Try again” reads the record, writes what is missing and checks it; then Cliniko's own "
    "Merge follows. Nothing is merged yet, and Back puts the previous values back."
)

# The update step once Cliniko merged the records the other way round (from the other record's
# page): the problem line names the record that stays now and what it lacks.
UPDATE_AFTER_MERGE = (
    "Cliniko has merged these records already, so this merge can no longer be backed out. "
    "“Try again” writes the values you chose to the record that stays now and checks them; "
    "then MergeDesk finishes."
)


class ReadyPage(Page):
    """Step 5: the plan waits; apply it when online. Also the page of the update that applying
    starts (a failed one waits here to be tried again), under that step's own heading."""

    def __init__(self) -> None:
        super().__init__(READY_HEADINGS[Step.READY], READY_TEXTS[Step.READY] + ABOUT_CLINIKO_MERGE)
        self.body.addStretch(1)

    def load(self, flow: MergeFlow) -> None:
        """Show the step's heading and words (a failed update's problem is the wizard's status
        line)."""
        step = flow.step if flow.step in READY_TEXTS else Step.READY
        self.heading.setText(f"<h2>{escape(READY_HEADINGS[step])}</h2>")
        words = READY_TEXTS[step] + ABOUT_CLINIKO_MERGE
        if step is Step.UPDATE_SURVIVOR and flow.merged_in_cliniko:
            words = UPDATE_AFTER_MERGE
        elif step is Step.UPDATE_SURVIVOR and not flow.last_error:
            words = UPDATE_INTERRUPTED + ABOUT_CLINIKO_MERGE  # no line below to say why
        self.text.setText(words)


# A refused key is changed in the main window's File menu, which the merge window keeps from use.
KEY_REFUSED_HERE = (
    "Close this window first: the merge keeps its place and goes on from there with the new key."
)


def problem_words(message: str) -> str:
    """A failed step's words as the merge window says them: a refused key's say to close the
    window first (however the words reached it: just now, or saved by an earlier try)."""
    if message.startswith(KeyRejected.refused):
        return f"{message} {KEY_REFUSED_HERE}"
    return message


WAITING = (
    "Waiting for Cliniko to show the merge… MergeDesk checks every few seconds and finishes by "
    "itself."
)


class MergeInClinikoPage(Page):
    """Step 6: open Cliniko's merge page and tick exactly the named record.

    Signals:
        open_requested(): the person wants the page opened in the browser.
        copy_requested(): the person wants the link on the clipboard.
    """

    open_requested = Signal()
    copy_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Merge in Cliniko", "")
        self.open_button = QPushButton("&Open the merge page in Cliniko")
        self.open_button.setAccessibleName("Open the merge page in Cliniko")
        self.open_button.clicked.connect(self.open_requested)
        self.copy_button = QPushButton("Cop&y link")
        self.copy_button.setAccessibleName("Copy link")
        self.copy_button.setToolTip("Copy the address of the page, to paste into your browser")
        self.copy_button.clicked.connect(self.copy_requested)
        for button in (self.open_button, self.copy_button):
            button.setAutoDefault(False)  # Enter stays "Check now"
        self.link = QLabel()
        self.link.setAccessibleName("Link to the merge page")
        self.link.setWordWrap(True)
        self.link.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("Browser notice")
        self.notice.setVisible(False)
        self.waiting = QLabel()
        self.waiting.setWordWrap(True)
        self.waiting.setAccessibleName("Merge status")
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.link)
        self.body.addWidget(self.notice)
        self.body.addWidget(self.waiting)
        self.body.addStretch(1)

    def load(self, flow: MergeFlow) -> None:
        """Show the numbered actions, the link, and the waiting state."""
        instructions = flow.instructions()
        items = "".join(
            "<li style='margin-bottom: 6px'>"
            + escape(step, quote=False).replace("\n", "<br>")
            + "</li>"
            for step in instructions.steps
        )
        self.text.setText(f"<div style='font-size: 11pt'><ol>{items}</ol></div>")
        self.link.setText(f"Link: {instructions.url}")
        self.notice.setVisible(False)
        self.waiting.setText(problem_words(flow.last_error) if flow.last_error else WAITING)

    def say_waiting(self) -> None:
        """Say only that MergeDesk waits (the window's problem line says what went wrong)."""
        self.waiting.setText(WAITING)

    def say_no_browser(self, url: str) -> None:
        """No browser opened: say so, and how to get there anyway."""
        self.notice.setText(
            "No web browser opened on this computer. Press “Copy link” and paste it into your "
            f"browser's address bar, or select the link below:\n{url}"
        )
        self.notice.setStyleSheet(theme.error_style())
        self.notice.setVisible(True)


class DonePage(Page):
    """Step 7: merged."""

    def __init__(self) -> None:
        super().__init__(
            "Merged", "Cliniko shows the records merged. The queue and the time log are updated."
        )
        self.body.addStretch(1)
