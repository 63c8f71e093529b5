""" "Apply all ready plans": update every planned survivor in one run, then walk through the
Cliniko merge pages one after another.

The run is :func:`desktop.merge.batch.apply_ready_plans` in a worker; this dialog shows its
progress and one line per plan, then opens the merge wizard of each applied plan in turn
(each resumes at "Merge in Cliniko"). Each plan's update is timed into the labor time log,
attributed to its pair, as the merge wizard times it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import cast

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.display import field_label
from desktop.labor.timelog import TimeLog
from desktop.merge import MergeFlow
from desktop.merge.batch import (
    RUN_STOPPERS,
    BatchResult,
    apply_ready_plans,
    left_alone,
    plans_to_apply,
    plans_waiting_for_cliniko,
    waiting_words,
)
from desktop.merge.executor import MergeError, display_name
from desktop.ui.context import DeskContext
from desktop.ui.screen_room import resize_within_screen
from desktop.ui.workers import Job, Workers


class ApplyAllDialog(QDialog):
    """Applies every ready plan, reports each, and offers the Cliniko merges one by one.

    Signals:
        walk_requested(list): plan ids to merge in Cliniko, in order.
        applied(): the run ended (the plans and their pairs changed).
    """

    walk_requested = Signal(list)
    applied = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Apply all ready plans")
        self.setAccessibleName("Apply all ready plans")
        resize_within_screen(self, 640, 420)
        self._workers = Workers(self)
        self.results: list[BatchResult] = []
        planned = plans_to_apply(ctx.cache)
        self.total = len(planned)
        flows = [MergeFlow.load(ctx.cache, plan_id) for plan_id in planned]
        # Known before anything is written: the plans the run will leave as they are.
        reasons = [left_alone(flow) for flow in flows]
        self.to_apply = reasons.count(None)
        waiting = len(plans_waiting_for_cliniko(ctx.cache))
        intro = _intro(self.to_apply, self.total - self.to_apply)
        if waiting:
            more = "more already" if self.to_apply else "already"
            intro += f" {waiting_words(waiting, more)}."
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, max(self.total, 1))
        self.progress.setValue(0)
        self.progress.setAccessibleName("Progress")
        self.list = QListWidget()
        self.list.setAccessibleName("Result per plan")
        self.list.setWordWrap(True)
        for flow, reason in zip(flows, reasons, strict=True):
            self.list.addItem(self._planned_line(flow, reason))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # Not the default button: Return closes, and writing to Cliniko takes Alt+A or a click.
        self.start_button = QPushButton("&Apply all")
        self.start_button.setAutoDefault(False)
        self.start_button.setEnabled(self.to_apply > 0)
        self.start_button.clicked.connect(self.start)
        self.walk_button = QPushButton("&Merge them in Cliniko, one by one")
        self.walk_button.setEnabled(self.to_apply == 0 and waiting > 0)
        self.walk_button.clicked.connect(self.walk)
        self.close_button = QPushButton("C&lose")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.close_button, self.walk_button, self.start_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        for w in (self.intro, self.progress, self.list, self.summary):
            layout.addWidget(w)
        layout.addLayout(buttons)

    def _names(self, patient_ids: Sequence[str]) -> str:
        names = [display_name(self.ctx.patient(pid)) or f"id {pid}" for pid in patient_ids]
        return " and ".join(names)

    def _planned_line(self, flow: MergeFlow, left: str | None) -> str:
        """One plan before it is applied: its records, and the fields of the record that
        stays that applying changes in Cliniko, or why the run leaves it (``left``)."""
        names = self._names(flow.plan.patient_ids)
        if left is not None:
            return f"{names}: {left}"
        try:
            changes = flow.changes()
        except MergeError:  # a record missing from this computer's copy: applying says why
            return f"{names}: its records are not all in this computer's copy."
        stays = display_name(self.ctx.patient(str(flow.plan.survivor_id)))
        fields = ", ".join(field_label(name) for name in changes)
        return f"{names}: {stays}'s record stays" + (
            f"; applying it changes these fields: {fields}."
            if fields
            else "; no field needs to change."
        )

    @Slot()
    def start(self) -> None:
        """Run the batch in a worker."""
        ctx = self.ctx
        timers = TimeLog.from_settings(ctx.cache, ctx.settings)

        def work(job: Job) -> list[BatchResult]:
            with ctx.session(job.cancel_event) as session:
                return apply_ready_plans(
                    ctx.cache, session,
                    progress=lambda done, total: job.report((done, total)),
                    cancel=job.cancel_event, timers=timers,
                )  # fmt: skip

        self.start_button.setEnabled(False)
        self.summary.setText("Applying… you can keep this window open; it reports each plan.")
        job = Job("apply-all", work)
        job.progressed.connect(self._progressed)
        job.succeeded.connect(self._finished)
        job.failed.connect(self._failed)
        self._workers.start(job)

    @Slot(object)
    def _progressed(self, value: object) -> None:
        done, total = cast(tuple[int, int], value)
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))

    @Slot(object)
    def _finished(self, results: list[BatchResult]) -> None:
        self.results = results
        stopped = next((r.error for r in results if isinstance(r.error, RUN_STOPPERS)), None)
        if stopped is not None:  # offline, or the key refused: the dot says so
            self.ctx.connectivity.note_error(stopped)
        else:
            self.ctx.connectivity.set_online(True)
        self.list.clear()
        for r in results:
            mark = "✓" if r.applied else "✗"
            self.list.addItem(f"{mark} {self._names(r.patient_ids)}: {r.message}")
        applied = sum(r.applied for r in results)
        failed = len(results) - applied
        to_merge = len(self.applied_plan_ids())
        self.summary.setText(
            f"<b>{applied} applied</b>"
            + (f", <b>{failed} not applied</b> (see above; they stay ready)" if failed else "")
            + ". "
            + (
                escape(f"Next: {to_merge} to merge in Cliniko, one after another.")
                if to_merge
                else "Nothing to merge in Cliniko yet."
            )
        )
        self.walk_button.setEnabled(to_merge > 0)
        self.walk_button.setDefault(to_merge > 0)
        self.close_button.setText("C&lose")
        self.applied.emit()

    @Slot(str, object)
    def _failed(self, message: str, error: object) -> None:
        self.ctx.connectivity.note_error(error)
        self.summary.setText(message)
        self.start_button.setEnabled(True)

    def applied_plan_ids(self) -> list[str]:
        """Plans to merge in Cliniko: those updated in this run first, then any others that
        were already waiting for their merge there."""
        ids = [r.plan_id for r in self.results if r.applied]
        return ids + [p for p in plans_waiting_for_cliniko(self.ctx.cache) if p not in ids]

    @Slot()
    def walk(self) -> None:
        """Hand the applied plans to the window, which opens their merge steps one by one."""
        self.walk_requested.emit(self.applied_plan_ids())
        self.accept()

    def done(self, result: int) -> None:
        """Stop the run (it stops before the next plan) when the dialog closes."""
        self._workers.stop_all()
        super().done(result)


def _intro(to_apply: int, left: int) -> str:
    """The dialog's first words: how many plans the run applies, and how many it leaves."""
    if to_apply:
        intro = (
            f"{to_apply} planned merge{'s wait' if to_apply != 1 else ' waits'} to be applied. "
            "Applying updates each record that stays in Cliniko and checks that the change "
            "stuck. Nothing is merged yet: after this, MergeDesk takes you through Cliniko's "
            "merge page of each one."
        )
        if left:
            intro += f" {left} more {'is' if left == 1 else 'are'} left as listed below."
        return intro
    if left:
        return (
            f"No planned merge can be applied from here: {left} wait{'s' if left == 1 else ''} "
            f"for you to open {'it' if left == 1 else 'them'} first, as listed below."
        )
    return (
        "No planned merge waits to be applied: a merge saved as “Ready to apply” in the merge "
        "window comes here."
    )
