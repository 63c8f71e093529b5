"""The guided merge: pages driven by the Qt-free step machine :class:`desktop.merge.MergeFlow`.

The wizard only collects input and calls the flow. Offline steps run on the GUI thread (they
are small cache writes); online steps (apply, poll) run in a worker with their own audited
session. Closing the wizard at any step and opening the pair again resumes that step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.labor.timelog import WorkSession
from desktop.merge import MergeFlow, Step
from desktop.merge.batch import NEW_KEY_IN_USE
from desktop.merge.executor import RestoreResult
from desktop.merge.link_names import fetch_link_names
from desktop.merge_states import APPLY_FROM, ORDER, WRITTEN_STEPS, Outcome
from desktop.ui import theme
from desktop.ui.compare_model import FETCHING, UNKNOWN_OFFLINE, unknown_history
from desktop.ui.context import DeskContext
from desktop.ui.history import fetch_history
from desktop.ui.merge_pages import (
    ComparePage,
    DonePage,
    MergeInClinikoPage,
    Page,
    ReadyPage,
    ReconcilePage,
    ReviewPage,
    SurvivorPage,
    field_label,
    problem_words,
)
from desktop.ui.merge_safety import LookalikeBanner, apply_question
from desktop.ui.screen_room import resize_within_screen, screen_area
from desktop.ui.workers import Job, Workers

log = logging.getLogger(__name__)

# Online steps that write to Cliniko (by their job's name): a close waits for them to end.
WRITE_JOBS = ("apply", "restore-")
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
# The progress line's word for each step; steps sharing a word share a place on the line.
STEP_TITLES = {
    Step.COMPARE: "Compare",
    Step.CHOOSE_SURVIVOR: "Survivor",
    Step.RECONCILE: "Fields",
    Step.REVIEW: "Review",
    Step.READY: "Ready",
    Step.UPDATE_SURVIVOR: "Update",
    Step.MERGE_IN_CLINIKO: "Merge",  # opening Cliniko's merge page and waiting for the merge
    Step.WAIT_FOR_MERGE: "Merge",
    Step.DONE: "Done",
}


def progress_text(step: Step) -> str:
    """The steps in the core's order, one word each, the current one in bold."""
    titles = dict.fromkeys(STEP_TITLES[s] for s in ORDER)
    current = STEP_TITLES[step]
    return "  ›  ".join(f"<b>{t}</b>" if t == current else t for t in titles)


class MergeWizard(QDialog):
    """One guided merge of a pair (or cluster).

    Signals:
        step_shown(): the page of a step was shown (the plan may have moved on).
    """

    step_shown = Signal()

    poll_interval_ms = 3000
    done_close_ms = 1500
    # A request out this long is said: a Wi-Fi that drops packets takes minutes to fail.
    slow_after_s = 15.0

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
        resize_within_screen(self, 900, 620)
        self._workers = Workers(self)
        self._busy = False
        self._writing = False  # the online step under way writes to Cliniko (see done)
        self._polling = False  # ... or is the merge step's look at Cliniko (see go_back)
        self._after_job: Callable[[], None] | None = None  # an answer given while busy
        self._close_after_job: int | None = None  # a close asked for while writing
        self._link_names_asked = False
        self.restored = False  # a back-out put the survivor's previous values back
        self.shown_step: Step | None = None  # the step whose page shows
        self._closed = False
        self.flow = MergeFlow.start(ctx.cache, self.ids, timer=timer)

        self.stack = QStackedWidget()
        compare, survivor, reconcile = ComparePage(self.ids), SurvivorPage(), ReconcilePage()
        review, ready, merge, done = ReviewPage(), ReadyPage(), MergeInClinikoPage(), DonePage()
        self.pages: dict[Step, Page] = {
            Step.COMPARE: compare, Step.CHOOSE_SURVIVOR: survivor, Step.RECONCILE: reconcile,
            Step.REVIEW: review, Step.READY: ready, Step.UPDATE_SURVIVOR: ready,
            Step.MERGE_IN_CLINIKO: merge, Step.WAIT_FOR_MERGE: merge, Step.DONE: done,
        }  # fmt: skip
        for page in self.pages.values():
            if self.stack.indexOf(page) < 0:
                self.stack.addWidget(page)
        self.survivor_page = survivor
        self.merge_page = merge
        reconcile.chosen.connect(self.on_choice)
        survivor.picked.connect(self.on_survivor_picked)
        merge.open_requested.connect(self.open_merge_page)
        merge.copy_requested.connect(self.copy_merge_link)
        self.apply_box: QMessageBox | None = None
        self._placed_beside_browser = False
        self._centred_geometry = self.geometry()

        self.banner = LookalikeBanner()
        self.banner.confirmed.connect(self.on_confirmed)
        self.progress_label = QLabel()
        self.progress_label.setAccessibleName("Merge steps")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Merge status")
        self.back_button = QPushButton("&Back")
        self.back_button.setAccessibleName("Back")
        self.back_button.clicked.connect(self.go_back)
        self.not_same_button = QPushButton("Not the same &person")  # N is for Next
        self.not_same_button.setAccessibleName("Not the same person")
        self.not_same_button.setToolTip("These are different people: close without merging")
        self.not_same_button.clicked.connect(self.not_same)
        self.close_button = QPushButton("C&lose")
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close; the merge is saved at this step and resumes later")
        self.close_button.clicked.connect(self.reject)
        for button in (self.back_button, self.not_same_button, self.close_button):
            button.setAutoDefault(False)  # Enter is always the step's own action, never Close
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
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(self.poll_interval_ms)
        self.poll_timer.timeout.connect(self.poll)
        self.slow_timer = QTimer(self)
        self.slow_timer.setInterval(1000)
        self.slow_timer.timeout.connect(self._say_slow)
        self._job_started = 0.0
        ctx.connectivity.changed.connect(self._on_connectivity)
        self.show_step()
        if self.flow.waits_for_cliniko:  # reopened on the merge step: look at once, not in
            QTimer.singleShot(0, self.poll)  # a few seconds (the record may have changed)

    # ----------------------------------------------------------------- display

    @property
    def step(self) -> Step:
        """The flow's current step."""
        return self.flow.step

    def busy(self) -> bool:
        """True while an online step runs."""
        return self._busy

    def writing(self) -> bool:
        """True while an online step writes to Cliniko (an update or a back-out)."""
        return self._writing

    def show_step(self) -> None:
        """Show the page of the flow's step and set the buttons."""
        step = self.flow.step
        arrived = step is not self.shown_step
        self.shown_step = step
        page = self.pages[step]
        if step is Step.COMPARE:
            self._read_unknown_history()
        elif step is Step.CHOOSE_SURVIVOR and arrived:
            # Reopened at the choice: the history may have been read since it was shown.
            self._run_offline(self.flow.follow_suggestion, reload=False)
        try:
            page.load(self.flow)
        except Exception as error:  # a missing record is explained, not fatal
            self.status.setText(getattr(error, "user_message", None) or str(error))
        self.stack.setCurrentWidget(page)
        # Only the page on show sets the window's smallest size: the merge step's narrow page
        # fits beside the browser, where the fields' wide table would not.
        for other in self.pages.values():
            shown = QSizePolicy.Policy.Preferred if other is page else QSizePolicy.Policy.Ignored
            other.setSizePolicy(shown, shown)
        self.step_shown.emit()
        if step is Step.RECONCILE:
            self._ask_link_names()
        self.progress_label.setText(progress_text(step))
        self.primary.setText(PRIMARY[step])
        self.primary.setAccessibleName(PRIMARY[step].replace("&", ""))
        held = self._held_for_confirmation()
        self.primary.setEnabled(not self.busy() and not held)
        self._enable_back()
        self.not_same_button.setEnabled(
            not self.flow.finished and step is not Step.DONE and not self.flow.merged_in_cliniko
        )
        self.banner.show_flow(self.flow)
        waiting = self.flow.waits_for_cliniko
        if self.flow.problem == NEW_KEY_IN_USE and not waiting:  # news, not a problem
            self._say(self.flow.problem)
        elif self.flow.problem and not waiting:
            self.show_problem(self.flow.problem)
        elif held:
            self._say(self.flow.lookalike_hold() or "")
        if waiting:
            self.place_beside_browser()
            self._fit_beside_browser()
        elif step is not Step.DONE:
            self.place_back()
        if waiting:
            self.poll_timer.setInterval(self.poll_interval_ms)
            if not self.poll_timer.isActive():
                self.poll_timer.start()
        else:
            self.poll_timer.stop()
        if arrived:  # a new page: the keyboard starts on its first choice, else the button
            start = page.first_control()
            # Fusion draws the focus frame only once the window has seen the keyboard move
            # (Tab), so the keyboard's place was not shown until a key was pressed: say so
            # now (after setFocus, which would clear it). Only this window's focus moves.
            (start if start is not None else self.primary).setFocus(Qt.FocusReason.TabFocusReason)
            self.setAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange)
        if step is Step.DONE:
            self.status.setStyleSheet("")
            self.status.setText("Done.")
            QTimer.singleShot(self.done_close_ms, self.accept)

    def _ask_link_names(self) -> None:
        """Ask Cliniko (in a worker, once per wizard) what the records' link fields point at,
        so the choices read "Health Care Card", not an id; offline they stay ids."""
        if self._link_names_asked:
            return
        try:
            wanted = self.flow.link_addresses()
        except Exception:  # records missing from the cache: the page says so already
            return
        if not wanted:
            return
        self._link_names_asked = True
        ctx = self.ctx

        def work(job: Job) -> dict[tuple[str, str], str]:
            with ctx.session(job.cancel_event) as session:  # its close writes the audit
                return fetch_link_names(session.client, wanted)

        job = Job("link-names", work)
        job.succeeded.connect(self._on_link_names)
        job.failed.connect(self._on_link_names_failed)
        self._workers.start(job)

    @Slot(str, object)
    def _on_link_names_failed(self, message: str, _error: object) -> None:
        log.info("Names of linked records not fetched (they show as ids): %s", message)

    @Slot(object)
    def _on_link_names(self, names: dict[tuple[str, str], str]) -> None:
        if self._closed or not names:
            return
        self.flow.link_names.update(names)
        if self.shown_step in (Step.RECONCILE, Step.REVIEW):
            self.pages[self.shown_step].load(self.flow)

    def show_problem(self, message: str) -> None:
        """Show what went wrong, in plain words."""
        self.status.setStyleSheet(theme.error_style())
        self.status.setText(problem_words(message))
        self._fit_beside_browser()

    def _say(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)
        self._fit_beside_browser()

    # ----------------------------------------------------------------- look-alikes

    def _held_for_confirmation(self) -> bool:
        """True when the current step needs the look-alike confirmation that is not given."""
        return self.flow.lookalike_hold() is not None

    @Slot()
    def on_confirmed(self) -> None:
        """The person ticked the confirmation: record it (audited) and unlock applying."""
        self._run_offline(self.flow.confirm_lookalike)

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
        if self.flow.waits_for_cliniko:
            self.poll()  # "Check now"
            return
        if step is Step.READY:
            self.confirm_apply()  # say what will change in Cliniko first
            return
        if self.flow.needs_connection:
            self.apply()  # "Try again" after a failed update
            return
        kwargs: dict[str, Any] = {}
        if step is Step.CHOOSE_SURVIVOR:
            kwargs["survivor_id"] = self.survivor_page.chosen()
        self._run_offline(lambda: self.flow.advance(**kwargs))
        if self.flow.step is Step.READY:
            hold = self.flow.lookalike_hold()
            self._say(
                "Saved. The plan waits in “Ready to apply” until you apply it."
                + (f" {hold}" if hold else "")
            )

    @Slot()
    def go_back(self) -> None:
        """One step back; from the online steps back to "Ready", restoring the survivor in
        Cliniko first when MergeDesk changed it (in a worker)."""
        if self.busy():
            if self._polling:  # a look at Cliniko: Back is acted on as soon as it ends
                self._after_job = self.go_back
                self.flow.restore_decided("back")  # said on reopening if MergeDesk stops first
                self._say("Back: MergeDesk goes back as soon as the check under way ends…")
            return
        if self.flow.step in WRITTEN_STEPS and self.flow.needs_restore():
            self._restore_then(lambda flow, session: flow.back(session), "back")
            return
        self._run_offline(self.flow.back)

    @Slot(str, object)
    def on_choice(self, field: str, value: object) -> None:
        """Save one field choice at once."""
        self._run_offline(lambda: self.flow.choose(field, value), reload=False)

    @Slot(str)
    def on_survivor_picked(self, survivor_id: str) -> None:
        """Save the record chosen to stay at once (before Next)."""
        if self.flow.step is Step.CHOOSE_SURVIVOR and not self.busy():
            self._run_offline(lambda: self.flow.pick_survivor(survivor_id), reload=False)

    @Slot()
    def not_same(self) -> None:
        """These are different people: close the plan without merging (restoring the survivor
        in Cliniko first when MergeDesk changed it)."""
        if self.busy():
            # A check or an update is out: the answer is kept and acted on when it ends (a
            # walk's clicks were dropped while the merge step checked Cliniko), and noted at
            # once: MergeDesk stopped before then, it is said on reopening, not lost.
            self._after_job = self.not_same
            self.flow.restore_decided(Outcome.NOT_SAME)
            self._say(
                "Not the same person: MergeDesk puts the previous values back in Cliniko as "
                "soon as the request under way ends…"
            )
            return
        if self.flow.needs_restore():
            self._restore_then(
                lambda flow, session: flow.cancel(Outcome.NOT_SAME, session), Outcome.NOT_SAME
            )
            return
        self._run_offline(lambda: self.flow.cancel(Outcome.NOT_SAME), reload=False)
        if self.flow.finished:
            self.accept()

    def _restore_then(self, action: Any, name: str) -> None:
        """Run a back-out that restores the survivor through the API, in a worker."""
        flow, ctx = self.flow, self.ctx

        def work(job: Job) -> Step:
            with ctx.session(job.cancel_event) as session:
                action(flow, session)
            return flow.step

        self.restored = True
        self._say("Putting the previous values back in Cliniko and checking them…")
        self._start(Job(f"restore-{name}", work))

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

    def _read_unknown_history(self) -> None:
        """At the compare step, read in a worker the history counts not cached yet and show
        them (the step said "unknown (offline)" beside "● Online")."""
        compare = self.pages[Step.COMPARE]
        assert isinstance(compare, ComparePage)
        offline = self.ctx.connectivity.online is False
        compare.unknown = UNKNOWN_OFFLINE if offline else FETCHING
        unknown = [pid for pid, counts in self.flow.history().items() if counts is None]
        if not unknown or offline or self._workers.is_running("history-compare"):
            return
        ctx = self.ctx
        job = Job("history-compare", lambda job: fetch_history(ctx, unknown, job.cancel_event))
        # Slots of this window, so that the pages are loaded in the GUI thread (the bare
        # functions this used ran in the worker's thread, widgets and all).
        job.succeeded.connect(self._history_read)
        job.failed.connect(self._history_not_read)
        self._workers.start(job)

    @Slot(bool)
    def _on_connectivity(self, online: bool) -> None:
        """Cliniko answers again: read the history said "unknown (offline)" on the step shown
        (it stood beside "● Online" until the window was opened again)."""
        if self._closed or not self.isVisible():  # its cache may be closed already
            return
        if online and self.flow.step in (Step.COMPARE, Step.CHOOSE_SURVIVOR):
            self._read_unknown_history()

    @Slot(object)
    def _history_read(self, _counts: object = None) -> None:
        """The records' history arrived: show it on the step on show."""
        if not self.isVisible():
            return
        if self.flow.step is Step.COMPARE:
            compare = self.pages[Step.COMPARE]
            assert isinstance(compare, ComparePage)
            compare.load(self.flow)
        elif self.flow.step is Step.CHOOSE_SURVIVOR:
            self._survivors_with_history()

    @Slot(str, object)
    def _history_not_read(self, _message: str, error: object) -> None:
        self.ctx.connectivity.note_error(error)
        compare = self.pages[Step.COMPARE]
        assert isinstance(compare, ComparePage)
        compare.unknown = unknown_history(error)  # said, not "fetching…" for ever
        self._history_read()

    def _survivors_with_history(self) -> None:
        """The records' history arrived after the person moved on to choosing the record that
        stays: show it, and the suggestion it makes. A record the person picked stays picked;
        the keyboard focus stays on the list."""
        page = self.survivor_page
        focused = page.isAncestorOf(self.focusWidget())  # this window's, active or not
        changed = False

        def follow() -> None:
            nonlocal changed
            changed = self.flow.follow_suggestion()

        self._run_offline(follow, reload=False)  # a cache error is said, as for a pick
        page.load(self.flow)
        control = page.first_control()
        if focused and control is not None:
            control.show()  # a layout shows a new child later, and a hidden one takes no focus
            control.setFocus()
        if changed:
            self._say(
                "Each record's history has been read from Cliniko: the suggestion is now the "
                "record with more clinical history."
            )

    @Slot()
    def confirm_apply(self) -> None:
        """Say in plain words what will change in Cliniko, and apply only when confirmed."""
        if self._held_for_confirmation():
            self.show_step()
            return
        unknown = [pid for pid, counts in self.flow.history().items() if counts is None]
        if unknown and self.ctx.connectivity.online is not False and not self.busy():
            # The record that stays was chosen without its history (offline): read it first,
            # so the question can say when the record merged away has more.
            self._say("Reading each record's history in Cliniko…")
            ctx = self.ctx
            job = Job(
                "history-before-apply", lambda job: fetch_history(ctx, unknown, job.cancel_event)
            )
            job.succeeded.connect(self._ask_apply)
            job.failed.connect(self._ask_apply)
            self.primary.setEnabled(False)
            ctx.workers.start(job)
            return
        self._ask_apply()

    @Slot()
    def _ask_apply(self) -> None:
        self._say("")
        self.primary.setEnabled(True)
        if not self.isVisible():  # closed while the history was read
            return
        try:
            box, self.apply_yes = apply_question(self, self.flow)
        except Exception as error:  # a record missing from the cache is explained
            self.show_problem(getattr(error, "user_message", None) or str(error))
            return
        box.finished.connect(self._apply_box_closed)
        self.apply_box = box
        box.open()

    @Slot(int)
    def _apply_box_closed(self, _result: int) -> None:
        box, self.apply_box = self.apply_box, None
        if box is not None and box.clickedButton() is self.apply_yes:
            self.apply()
        elif box is not None:
            self._say("Nothing was changed in Cliniko.")

    @Slot()
    def apply(self) -> None:
        """PATCH and verify the survivor in a worker (from READY or a failed update)."""
        flow, ctx = self.flow, self.ctx

        def work(job: Job) -> Step:
            with ctx.session(job.cancel_event) as session:
                while flow.step in APPLY_FROM:
                    flow.advance(session)
            return flow.step

        self._say("Updating the record that stays in Cliniko and checking it…")
        self._start(Job("apply", work))

    @Slot()
    def poll(self) -> None:
        """Look once (in a worker) whether Cliniko shows the merge."""
        if self.busy() or not self.flow.waits_for_cliniko:
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
        self._busy = True
        self._writing = job.name.startswith(WRITE_JOBS)
        self._polling = job.name == "poll"
        self._enable_back()
        self._job_started = time.monotonic()
        self.slow_timer.start()
        self._workers.start(job)

    def _job_ended(self) -> None:
        self._busy = self._writing = self._polling = False
        self.slow_timer.stop()

    @Slot()
    def _say_slow(self) -> None:
        """Say that Cliniko is slow to answer once a request has been out a while (each try
        waits up to half a minute, and MergeDesk tries several times before it gives up)."""
        if not self._busy:
            self.slow_timer.stop()
            return
        waited = time.monotonic() - self._job_started
        if waited >= self.slow_after_s:
            self._say(
                f"Cliniko has not answered for {waited:.0f} seconds. MergeDesk keeps asking for "
                "a few minutes; your work is saved."
            )

    def _enable_back(self) -> None:
        """Back works when the flow can go back and nothing runs but the merge step's look at
        Cliniko (every few seconds, and for seconds when Cliniko is slow: it was greyed out
        most of the time); pressed during the look, it acts when the look ends (go_back)."""
        self.back_button.setEnabled(self.flow.can_go_back() and (self._polling or not self.busy()))

    @Slot(object)
    def _on_online_done(self, _step: Step) -> None:
        self._job_ended()
        if self._closed:
            return
        self.ctx.connectivity.set_online(True)
        if self.flow.finished and self.flow.step is not Step.DONE:
            self.accept()  # "Not the same person" after the survivor was put back
            return
        self._say("")
        self.show_step()
        if self.restored and self.flow.step is Step.READY:
            self._say(restore_message(self.flow.last_restore))
        self._after_online()

    @Slot(str, object)
    def _on_online_failed(self, message: str, error: object) -> None:
        self._job_ended()
        if self._closed:  # a poll stopped by closing: the step is saved, nothing to show
            return
        self.ctx.connectivity.note_error(error)
        self.show_step()
        if self.flow.waits_for_cliniko:  # its page said the same words, not as a problem
            self.merge_page.say_waiting()
        self.show_problem(message)
        self._after_online()

    def _after_online(self) -> None:
        """What waited for the request that just ended: a close, or an answer given meanwhile."""
        if self._close_after_job is not None:
            self.done(self._close_after_job)
        elif self._after_job is not None:
            action, self._after_job = self._after_job, None
            if not self.flow.finished:  # Cliniko showed the merge meanwhile: it stands
                action()

    @Slot()
    def open_merge_page(self) -> None:
        """Open the survivor's merge page in the browser and start waiting for the merge.

        When no browser opens, the page says so and offers the link to copy.
        """
        url = self.flow.merge_url
        if not url:
            return
        opened = QDesktopServices.openUrl(QUrl(url))
        # A poll may be running in a worker (it starts every few seconds at this step): the
        # move to "waiting for the merge" is still made now, not dropped; the flow orders it
        # with the poll's own move (see MergeFlow.merge_page_opened).
        self._run_offline(self.flow.merge_page_opened)
        if opened is False:
            log.info("no browser opened for the merge page")
            self.merge_page.say_no_browser(url)

    @Slot()
    def copy_merge_link(self) -> None:
        """Put the merge page's link on the clipboard."""
        url = self.flow.merge_url
        if url:
            QGuiApplication.clipboard().setText(url)
            self._say("Link copied. Paste it into your browser's address bar.")

    def place_beside_browser(self) -> None:
        """At the merge step, move to the top right of the screen (a third of its width, as
        tall as the step's words need) and stay on top, so the numbered actions stay readable
        next to the browser that opens Cliniko (a browser window usually opens large and would
        cover a centred dialog). Leaving the merge step puts the wizard back where it was, no
        longer on top."""
        if self._placed_beside_browser or not self.isVisible():
            return
        area = screen_area(self)
        if area is None:
            return
        self._placed_beside_browser = True
        self._centred_geometry = self.geometry()
        width = max(420, area.width() // 3, self.minimumSizeHint().width())
        # As tall as its words need, not the screen's height: a browser window that opens
        # beside it stays in sight (a walk's browser opened wholly behind it).
        height = min(area.height() - 60, max(480, self._words_height(width)))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setGeometry(area.right() - width + 1, area.top() + 30, width, height)
        self.show()

    def _fit_beside_browser(self) -> None:
        """Beside the browser, grow to show words that came since (a merge half done in
        Cliniko, say), up to the screen's foot: the window was as tall as the step's first
        words, and a longer message cut its numbered actions off mid-line."""
        if not self._placed_beside_browser:
            return
        area = screen_area(self)
        if area is None:
            return
        layout = self.layout()
        if layout is not None:
            layout.activate()
        room = area.bottom() - self.geometry().top()
        needed = min(room, self._words_height(self.width()))
        if needed > self.height():
            self.resize(self.width(), needed)

    def _words_height(self, width: int) -> int:
        """The height the window's words need at ``width``."""
        return max(self.heightForWidth(width), self.sizeHint().height())

    def showEvent(self, event: QShowEvent) -> None:
        """A wizard that opens at the merge step (resumed) goes beside the browser at once."""
        super().showEvent(event)
        if self.flow.waits_for_cliniko:
            QTimer.singleShot(0, self.place_beside_browser)

    def place_back(self) -> None:
        """Undo :meth:`place_beside_browser` (after going back from the merge step)."""
        if not self._placed_beside_browser:
            return
        self._placed_beside_browser = False
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, False)
        self.setGeometry(self._centred_geometry)
        self.show()

    # ----------------------------------------------------------------- closing

    def outcome(self) -> Outcome:
        """The time log's outcome for this stretch of work."""
        if self.flow.finished:
            return self.flow.outcome or Outcome.SKIPPED
        if self.restored and not self.flow.needs_restore():
            return Outcome.RESTORED  # backed out after the survivor was updated, and put it back
        return Outcome.SKIPPED if self.flow.step is Step.COMPARE else Outcome.PLANNED

    def done(self, result: int) -> None:
        """Stop polling and any online step before closing (the step is saved). While an
        update or a back-out is writing to Cliniko the window closes when it ends: stopped
        half-way it left the merge's values in Cliniko and lost "Not the same person"."""
        if self._writing:
            self._close_after_job = result
            self._say("Closing as soon as Cliniko has answered the request under way…")
            return
        self._closed = True
        self.poll_timer.stop()
        self._workers.stop_all()
        super().done(result)


def restore_message(result: RestoreResult | None) -> str:
    """What a back-out did to the record that stays, in plain words."""
    done = "The record that stays has its previous values again in Cliniko (checked)."
    if result is None or not result.left_fields:
        return done
    names = ", ".join(field_label(f) for f in result.left_fields)
    return (
        f"{done} These fields were changed in Cliniko by someone else after MergeDesk's "
        f"update, so MergeDesk left them as they are: {names}."
    )
