"""What the merge wizard says before anything changes for good: the look-alike banner (shown
above every page of a flagged pair, with the confirmation that unlocks applying) and the
question before "Apply now" that lists what will change in Cliniko."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QFrame, QLabel, QMessageBox, QVBoxLayout, QWidget

from desktop.merge import MergeFlow
from desktop.merge.executor import CLINIKO_MERGE_LIMITS, display_name
from desktop.merge.plan import more_history
from desktop.ui import theme
from desktop.ui.merge_pages import change_lines


class LookalikeBanner(QFrame):
    """The red warning of a flagged pair, with "I checked: ... the same person, not twins".

    Signals:
        confirmed(): the person ticked the confirmation (the wizard records it).
    """

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Look-alike warning")
        c = theme.colours()
        self.setStyleSheet(
            f"QFrame {{ background: {c['warning_bg']}; border-radius: 4px; }} "
            f"QLabel, QCheckBox {{ color: {c['warning_fg']}; font-size: 11pt; }}"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.confirm_box = QCheckBox()
        self.confirm_box.setAccessibleName("Look-alike confirmation")
        self.confirm_box.toggled.connect(self._toggled)
        inner = QVBoxLayout(self)
        inner.setContentsMargins(10, 8, 10, 8)
        inner.addWidget(self.text)
        inner.addWidget(self.confirm_box)
        self.setVisible(False)

    def show_flow(self, flow: MergeFlow) -> None:
        """Show the flow's warnings and whether it is confirmed (hidden for a plain pair)."""
        flags, warnings = flow.lookalike()
        if not (flags or warnings):
            self.setVisible(False)
            return
        lines = list(warnings) or [f"Flagged: {', '.join(flags)}"]
        self.text.setText(
            "<b>⚠ These may be two different people who look alike.</b><br>"
            + "<br>".join(escape(w) for w in lines)
        )
        confirmed = flow.lookalike_confirmed
        self.confirm_box.blockSignals(True)
        self.confirm_box.setText(
            f"I checked: these records are the same person, not {flow.lookalike_risk()}"
            + (" (recorded in the audit trail)" if confirmed else "")
        )
        self.confirm_box.setChecked(confirmed)
        self.confirm_box.setEnabled(not confirmed and not flow.finished)
        self.confirm_box.blockSignals(False)
        self.setVisible(True)

    @Slot(bool)
    def _toggled(self, checked: bool) -> None:
        if checked:
            self.confirmed.emit()


def apply_question(parent: QWidget, flow: MergeFlow) -> tuple[QMessageBox, object]:
    """The question before "Apply now": the fields and new values of the record that stays,
    by label, and what backing out and Cliniko's merge mean. Returns the box (not yet open)
    and its "Apply these changes" button.

    Raises:
        MergeError: the pair's records are not in the cache.
    """
    changes = flow.changes()
    survivor = flow.records().get(flow.plan.survivor_id or "", {})
    name = escape(display_name(survivor))
    if changes:
        lines = change_lines(changes, flow.link_names, survivor)
        listed = "".join(f"<li>{line}</li>" for line in lines)
        what = (
            f"<p>MergeDesk will change these fields of <b>{name}</b> "
            f"(id {flow.plan.survivor_id}) in Cliniko:</p><ul>{listed}</ul>"
        )
    else:
        what = f"<p>No field of <b>{name}</b> needs to change in Cliniko.</p>"
    richer = flow.richer_record()
    if richer is not None:
        other_id, theirs, ours = richer
        other = escape(display_name(flow.records().get(other_id, {})))
        what += (
            f"<p><b>{other}</b> (id {other_id}), which will be merged away, has more clinical "
            f"history than the record that stays: {more_history(theirs, ours)}. Cliniko moves "
            "them; to keep that record instead, press Cancel, then Back to the choice of the "
            "record that stays.</p>"
        )
    box = QMessageBox(parent)
    box.setWindowTitle("Apply the changes in Cliniko?")
    box.setIcon(QMessageBox.Icon.Question)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        what + "<p>Nothing is merged yet. Until you press Merge in Cliniko you can back out "
        "(Back or “Not the same person”): MergeDesk then puts the previous values back.</p>"
        f"<p>{escape(CLINIKO_MERGE_LIMITS)}</p>"
    )
    yes = box.addButton("&Apply these changes", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(yes)
    return box, yes
