"""The guided merge: pages driven by the Qt-free step machine :class:`desktop.merge.MergeFlow`.

The wizard only collects input and calls the flow. Offline steps run on the GUI thread (they
are small cache writes); online steps (apply, poll) run in a worker with their own audited
session. Closing the wizard at any step and opening the pair again resumes that step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.labor.timelog import WorkSession
from desktop.merge import MergeFlow, Step
from desktop.ui import theme
from desktop.ui.context import DeskContext
from desktop.ui.merge_pages import (
    ComparePage,
    DonePage,
    MergeInClinikoPage,
    Page,
    ReadyPage,
    ReconcilePage,
    ReviewPage,
    SurvivorPage,
)
from desktop.ui.workers import Job, Workers

log = logging.getLogger(__name__)

PRIMARY = {
    Step.COMPARE: "&Same person — continue",
    Step.CHOOSE_SURVIVOR: "&Next",
    Step.RECONCILE: "&Next",
    Step.REVIEW: "&Save — ready to apply",
    Step.READY: "&Apply now",
    Step.UPDATE_SURVIVOR: "&Try again",
    Step.MERGE_IN_CLINIKO: "&Check now",
    Step.WAIT_FOR_MERGE: "&Check now",
    Step.DONE: "&Finish",
}
STEP_TITLES = ["Compare", "Survivor", "Fields", "Review", "Ready", "Update", "Merge", "Done"]


class MergeWizard(QDialog):
    """One guided merge of a pair (or cluster)."""

    poll_interval_ms = 3000
    done_close_ms = 1500

    def __init__(
        self,
        ctx: DeskContext,
        ids: Sequence[str],
        timer: WorkSession | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ids = [str(i) for i in ids]
        self.setWindowTitle("Merge records")
        self.setAccessibleName("Merge wizard")
        self.resize(900, 620)
        self._workers = Workers(self)
        self._busy = False
        self.flow = MergeFlow.start(ctx.cache, self.ids, timer=timer)

        self.pages: dict[Step, Page] = {}
        self.stack = QStackedWidget()
        compare, survivor, reconcile = ComparePage(), SurvivorPage(), ReconcilePage()
        review, ready, merge, done = ReviewPage(), ReadyPage(), MergeInClinikoPage(), DonePage()
        for step, page in (
            (Step.COMPARE, compare), (Step.CHOOSE_SURVIVOR, survivor),
            (Step.RECONCILE, reconcile), (Step.REVIEW, review), (Step.READY, ready),
            (Step.UPDATE_SURVIVOR, ready), (Step.MERGE_IN_CLINIKO, merge),
            (Step.WAIT_FOR_MERGE, merge), (Step.DONE, done),
        ):  # fmt: skip
            self.pages[step] = page
            if self.stack.indexOf(page) < 0:
                self.stack.addWidget(page)
        self.survivor_page = survivor
        self.merge_page = merge
        reconcile.chosen.connect(self.on_choice)
        merge.open_requested.connect(self.open_merge_page)

        self.progress_label = QLabel()
        self.progress_label.setAccessibleName("Merge steps")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Merge status")
        self.back_button = QPushButton("&Back")
        self.back_button.setAccessibleName("Back")
        self.back_button.clicked.connect(self.go_back)
        self.not_same_button = QPushButton("&Not the same person")
        self.not_same_button.setAccessibleName("Not the same person")
        self.not_same_button.setToolTip("These are different people: close without merging")
        self.not_same_button.clicked.connect(self.not_same)
        self.close_button = QPushButton("C&lose")
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close; the merge is saved at this step and resumes later")
        self.close_button.clicked.connect(self.reject)
        self.primary = QPushButton()
        self.primary.setDefault(True)
        self.primary.clicked.connect(self.go_next)

        buttons = QHBoxLayout()
        buttons.addWidget(self.not_same_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.primary)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(self.poll_interval_ms)
        self.poll_timer.timeout.connect(self.poll)
        self.show_step()

    # ----------------------------------------------------------------- display

    @property
    def step(self) -> Step:
        """The flow's current step."""
        return self.flow.step

    def busy(self) -> bool:
        """True while an online step runs."""
        return self._busy

    def show_step(self) -> None:
        """Show the page of the flow's step and set the buttons."""
        step = self.flow.step
        self.shown_step = step
        page = self.pages[step]
        try:
            page.load(self.flow)
        except Exception as error:  # a missing record is explained, not fatal
            self.status.setText(getattr(error, "user_message", None) or str(error))
        self.stack.setCurrentWidget(page)
        index = list(Step).index(step)
        if step in (Step.WAIT_FOR_MERGE, Step.DONE):
            index -= 1  # "Merge" covers opening Cliniko and waiting for the merge
        self.progress_label.setText(
            "  ›  ".join(f"<b>{t}</b>" if i == index else t for i, t in enumerate(STEP_TITLES))
        )
        self.primary.setText(PRIMARY[step])
        self.primary.setAccessibleName(PRIMARY[step].replace("&", ""))
        self.primary.setEnabled(not self.busy())
        self.back_button.setEnabled(self.flow.can_go_back() and not self.busy())
        self.not_same_button.setEnabled(
            step in (Step.COMPARE, Step.CHOOSE_SURVIVOR, Step.RECONCILE, Step.REVIEW, Step.READY)
        )
        if self.flow.last_error and step not in (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE):
            self.show_problem(self.flow.last_error)
        if step in (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE):
            self.poll_timer.setInterval(self.poll_interval_ms)
            if not self.poll_timer.isActive():
                self.poll_timer.start()
        else:
            self.poll_timer.stop()
        if step is Step.DONE:
            self.status.setStyleSheet("")
            self.status.setText("Done.")
            QTimer.singleShot(self.done_close_ms, self.accept)

    def show_problem(self, message: str) -> None:
        """Show what went wrong, in plain words."""
        self.status.setStyleSheet(theme.error_style())
        self.status.setText(message)

    def _say(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)

    # ----------------------------------------------------------------- offline steps

    @Slot()
    def go_next(self) -> None:
        """Advance the flow from the current step."""
        step = self.flow.step
        if self.busy():
            return
        if step is Step.DONE:
            self.accept()
            return
        if step in (Step.READY, Step.UPDATE_SURVIVOR):
            self.apply()
            return
        if step in (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE):
            self.poll()
            return
        kwargs: dict[str, Any] = {}
        if step is Step.CHOOSE_SURVIVOR:
            kwargs["survivor_id"] = self.survivor_page.chosen()
        self._run_offline(lambda: self.flow.advance(**kwargs))
        if self.flow.step is Step.READY:
            self._say("Saved. The plan waits in “Ready to apply” until you apply it.")

    @Slot()
    def go_back(self) -> None:
        """One step back."""
        if not self.busy():
            self._run_offline(self.flow.back)

    @Slot(str, object)
    def on_choice(self, field: str, value: object) -> None:
        """Save one field choice at once."""
        self._run_offline(lambda: self.flow.choose(field, value), reload=False)

    @Slot()
    def not_same(self) -> None:
        """These are different people: close the plan without merging."""
        self._run_offline(lambda: self.flow.cancel("not_same"), reload=False)
        self.accept()

    def _run_offline(self, action: Any, reload: bool = True) -> None:
        try:
            action()
        except Exception as error:
            message = getattr(error, "user_message", None)
            if message is None:
                raise
            self.show_problem(message)
            return
        self._say("")
        if reload:
            self.show_step()

    # ----------------------------------------------------------------- online steps

    @Slot()
    def apply(self) -> None:
        """PATCH and verify the survivor in a worker (from READY or a failed update)."""
        flow, ctx = self.flow, self.ctx

        def work(job: Job) -> Step:
            with ctx.session(job.cancel_event) as session:
                while flow.step in (Step.READY, Step.UPDATE_SURVIVOR):
                    flow.advance(session)
            return flow.step

        self._say("Updating the record that stays in Cliniko and checking it…")
        self._start(Job("apply", work))

    @Slot()
    def poll(self) -> None:
        """Look once (in a worker) whether Cliniko shows the merge."""
        if self.busy() or self.flow.step not in (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE):
            return
        flow, ctx = self.flow, self.ctx

        def work(job: Job) -> Step:
            with ctx.session(job.cancel_event) as session:
                flow.poll_once(session)
            return flow.step

        self._start(Job("poll", work))

    def _start(self, job: Job) -> None:
        job.succeeded.connect(self._on_online_done)
        job.failed.connect(self._on_online_failed)
        self.primary.setEnabled(False)
        self.back_button.setEnabled(False)
        self._busy = True
        self._workers.start(job)

    @Slot(object)
    def _on_online_done(self, _step: Step) -> None:
        self._busy = False
        self.ctx.connectivity.set_online(True)
        self._say("")
        self.show_step()

    @Slot(str, object)
    def _on_online_failed(self, message: str, error: object) -> None:
        self._busy = False
        self.ctx.connectivity.note_error(error)
        self.show_step()
        self.show_problem(message)

    @Slot()
    def open_merge_page(self) -> None:
        """Open the survivor's merge page in the browser and start waiting for the merge."""
        url = self.flow.merge_url
        if not url:
            return
        QDesktopServices.openUrl(QUrl(url))
        if self.flow.step is Step.MERGE_IN_CLINIKO and not self.busy():
            self._run_offline(self.flow.advance)

    # ----------------------------------------------------------------- closing

    def outcome(self) -> str:
        """The time log's outcome for this stretch of work."""
        if self.flow.finished:
            return self.flow.outcome or "skipped"
        return "skipped" if self.flow.step is Step.COMPARE else "planned"

    def done(self, result: int) -> None:
        """Stop polling and any online step before closing (the step is saved)."""
        self.poll_timer.stop()
        self._workers.stop_all()
        super().done(result)
