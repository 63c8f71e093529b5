"""The main window: composes the sync bar, the queue, the compare view and the dialogs."""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QStatusTipEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.account import Account, stored_account
from desktop.display import shortened
from desktop.intake import account_time_zone
from desktop.labor.cost import stored_currency
from desktop.labor.timelog import TimeLog
from desktop.merge.batch import (
    forget_refused_key,
    plans_apply_all_leaves,
    plans_to_apply,
    plans_waiting_for_cliniko,
    waiting_words,
)
from desktop.merge.executor import display_name
from desktop.merge_states import KEPT_STATUSES, WAIT_STEPS, Outcome, PairStatus
from desktop.review import (
    ALREADY_MERGED,
    ReviewDecision,
    record_review_decision,
    undecided,
    undo_review_decision,
)
from desktop.store.cache import Cache
from desktop.ui.compare_view import CompareView
from desktop.ui.connect_dialog import ConnectDialog, ConnectionInfo
from desktop.ui.context import ConnectivityWatcher, DeskContext
from desktop.ui.held_keys import guard_held_keys
from desktop.ui.queue_model import QueueData, QueueModel, QueueRow, load_queue, load_rows
from desktop.ui.queue_view import QueueView
from desktop.ui.screen_room import resize_within_screen
from desktop.ui.sync_panel import SyncPanel
from desktop.ui.time_tracking import ReviewTimer
from desktop.ui.undo_bar import UNDO_SHOWN_MS, UndoBar
from desktop.ui.watch_desk import WatchDesk
from desktop.ui.window_state import WindowState
from desktop.ui.workers import Job

if TYPE_CHECKING:
    from desktop.merge.executor import RestoreResult
    from desktop.ui.merge_wizard import MergeWizard

PROBE_INTERVAL_MS = 30_000  # while offline, ask Cliniko this often whether it answers again
SAMPLE_NOTE = " (sample data)"
DECISION_WORDS: dict[str, str] = {
    Outcome.NOT_SAME: "Not the same person",
    Outcome.LATER: "Later",
    Outcome.SKIPPED: "Skipped",
}


def _names_of(wizard: MergeWizard) -> str:
    """The merge window's records by name: "A and B", "A, B and C"."""
    names = [shortened(display_name(r)) for r in wizard.flow.records().values()]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1] if names else ""]))


def _not_same_words(wizard: MergeWizard) -> str:
    """What "Not the same person" did, for the status bar (it shares its width with the
    intake): nothing merged, and the old values back when MergeDesk had changed them."""
    said = f"“{DECISION_WORDS[Outcome.NOT_SAME]}”: {_names_of(wizard)}. "
    result: RestoreResult | None = wizard.flow.last_restore if wizard.restored else None
    if result is None:
        return said + "Nothing was merged."
    if result.survivor.get("merged_at"):  # ticked on a third patient's page
        return said + "Nothing put back: Cliniko merged the record to stay into another patient."
    left = len(result.left_fields)
    if not left:
        return said + "Nothing was merged; the old values are back in Cliniko (checked)."
    return said + (
        f"Nothing was merged; the old values are back in Cliniko but for {left} field(s) "
        "changed there since."
    )


def running_app() -> QCoreApplication:
    """The application the windows live in (a widget cannot exist before it)."""
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("no QApplication is running")
    return app


def clinic_title(label: str, account: Account | None, *, sample: bool = False) -> str:
    """The clinic's name from Cliniko (with a "(sample data)" note for the sample clinic),
    else ``label``."""
    if account is None or not account.name:
        return label
    return account.name + (SAMPLE_NOTE if sample else "")


class MainWindow(QMainWindow):
    """The review desk of one clinic.

    Signals:
        queue_loaded(): the queue was (re)read and is shown.
    """

    queue_loaded = Signal()

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.queue_ready = False
        self._reload_again = False
        # The pair the queue selected by itself when it loaded (the first one), until the
        # administrator picks another: a reload then starts again at the top.
        self._auto_key: tuple[str, str] | None = None
        self.merge_walk: list[list[str]] = []  # Apply all's merges still to open, in turn
        self.setAccessibleName(f"{APP_NAME} main window")
        # In every window of the app, a held Enter or Space presses one button, not each in turn.
        guard_held_keys(QCoreApplication.instance())
        resize_within_screen(self, 1280, 800)
        self.wizard: MergeWizard | None = None  # the open merge wizard, if any
        self.undo_stack: list[ReviewDecision] = []
        self._undo_if_not_same: ReviewDecision | None = None  # the open merge window's pair
        self.help_dialog: QDialog | None = None

        self.sync_panel = SyncPanel(ctx)
        self.queue_model = QueueModel(self)
        self.queue_view = QueueView(self.queue_model)
        self.compare_view = CompareView(ctx)
        self.watcher = ConnectivityWatcher(ctx, self)
        self.review_timer = ReviewTimer(
            TimeLog.from_settings(ctx.cache, ctx.settings), self, on_pair=self.works_on_pair
        )
        self.review_timer.log.close_abandoned()
        running_app().installEventFilter(self.review_timer)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.queue_view)
        splitter.addWidget(self.compare_view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([790, 570])
        self.splitter = splitter
        self.window_state = WindowState(ctx.data_dir)
        self.window_state.restore(self, splitter, self.queue_view.table.horizontalHeader())
        # Where the person left off: the filters now, the pair once the queue has loaded.
        view = self.queue_view
        self._left_at = self.window_state.restore_queue(view.band, view.status)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.sync_panel)
        self.watch_desk = WatchDesk(self)  # started by the app (desktop.ui.app)
        layout.addWidget(splitter, 1)
        # Below the queue: above it, its coming pushed every row down under the pointer.
        layout.addWidget(self.watch_desk.banner)
        self.setCentralWidget(body)
        self.undo_bar = UndoBar(self.statusBar())
        # In the status bar's message place: a newer message hides the note (they ran into
        # each other side by side), and a newer decision clears the message (UndoBar.offer).
        self.statusBar().addWidget(self.undo_bar, 1)
        self._menus()
        self._connect_views()
        self.show_account()
        self.reload_queue()
        self.probe_timer = QTimer(self)
        self.probe_timer.setInterval(PROBE_INTERVAL_MS)
        self.probe_timer.timeout.connect(self.probe_if_offline)
        self.probe_timer.start()
        self._been_offline = False  # this run has been offline (coming online is "back")
        self._plans_said: tuple[str, str] | None = None  # (opening, message) of open plans
        self._new_key_said: str | None = None  # "Syncing ... using the new key…", until done
        ctx.connectivity.changed.connect(self.on_connectivity)
        ctx.connectivity.reason_changed.connect(self.say_connection_again)
        ctx.connectivity.key_refused_changed.connect(self.say_connection_again)
        gc.freeze()  # modules and widgets live as long as the window

    def _connect_views(self) -> None:
        self.queue_view.current_changed.connect(self.on_current_changed)
        self.queue_view.decided.connect(self.on_decided)
        self.queue_view.refused.connect(self.say_refused)
        self.queue_view.typed_over.connect(self.undo_typed_decisions)
        self.queue_view.merge_requested.connect(self.open_merge)
        self.compare_view.action_requested.connect(self.on_compare_action)
        self.sync_panel.queue_changed.connect(self.reload_queue)
        self.sync_panel.sync_finished.connect(self.show_account)
        self.sync_panel.sync_paging.connect(self._name_the_clinic)
        self.sync_panel.work_finished.connect(self.queue_view.focus_queue)
        self.sync_panel.work_finished.connect(self._new_key_sync_ended)
        self.undo_bar.button.clicked.connect(self.undo_last_decision)

    def _menus(self) -> None:
        self._file_menu()
        self._edit_menu()
        self._queue_menu()
        self._sync_menu()
        self._reports_menu()
        self._help_menu()

    def _file_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        settings = QAction("&Settings…", self)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        if not self.ctx.sample:
            change_key = QAction("Change Cliniko API &key…", self)
            change_key.triggered.connect(self.change_api_key)
            file_menu.addAction(change_key)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

    def _edit_menu(self) -> None:
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self.undo_last_decision)
        edit_menu.addAction(self.undo_action)
        self.queue_view.context_menu.addSeparator()
        self.queue_view.context_menu.addAction(self.undo_action)

    def _queue_menu(self) -> None:
        queue_menu = self.menuBar().addMenu("&Queue")
        for action in self.queue_view.actions_by_name.values():
            queue_menu.addAction(action)
        ready = QAction("Show merges &ready to apply", self)
        ready.triggered.connect(self.show_ready)
        queue_menu.addAction(ready)
        waiting = QAction("Show merges &waiting in Cliniko", self)
        waiting.triggered.connect(self.show_waiting)
        queue_menu.addAction(waiting)
        apply_all = QAction("&Apply all ready plans…", self)
        apply_all.triggered.connect(self.open_apply_all)
        queue_menu.addAction(apply_all)

    def _sync_menu(self) -> None:
        sync_menu = self.menuBar().addMenu("S&ync")
        # The Sync button holds Ctrl+R; the menu says so (a second holder would make it
        # ambiguous, and neither would fire).
        sync = QAction("&Sync now\tCtrl+R", self)
        sync.triggered.connect(self.sync_panel.start_sync)
        sync_menu.addAction(sync)
        rescan = QAction("&Rescan everything", self)
        rescan.triggered.connect(self.full_scan)
        sync_menu.addAction(rescan)

    def _reports_menu(self) -> None:
        reports_menu = self.menuBar().addMenu("&Reports")
        report = QAction("&Labor-cost summary…", self)
        report.setShortcut(QKeySequence("Ctrl+P"))
        report.triggered.connect(self.open_report)
        reports_menu.addAction(report)
        audit = QAction("&Audit trail…", self)
        audit.triggered.connect(self.open_audit)
        reports_menu.addAction(audit)
        self.watch_desk.add_menu(self.menuBar())

    def _help_menu(self) -> None:
        help_menu = self.menuBar().addMenu("&Help")
        self.help_actions: dict[str, QAction] = {}
        for name, text, slot in (
            ("shortcuts", "&Keyboard shortcuts", self.show_shortcuts),
            ("data", "&Where your data is…", self.show_data_folder),
            ("about", f"&About {APP_NAME}", self.show_about),
        ):
            action = QAction(text, self)
            action.triggered.connect(slot)
            help_menu.addAction(action)
            self.help_actions[name] = action
        self.help_actions["shortcuts"].setShortcut(QKeySequence.StandardKey.HelpContents)

    # ----------------------------------------------------------------- account

    @Slot()
    def _name_the_clinic(self) -> None:
        """The clinic's name in the title from a sync's first page, not after the whole first
        download ("MergeDesk — Your clinic" stood there for minutes)."""
        self._show_title(stored_account(self.ctx.open_reader().db))

    def _show_title(self, account: Account | None) -> None:
        self.ctx.title = clinic_title(self.ctx.title, account, sample=self.ctx.sample)
        self.setWindowTitle(f"{APP_NAME} — {self.ctx.title}")

    @Slot()
    def show_account(self) -> None:
        """The clinic's name in the title and the account's word for patients (after a sync,
        Cliniko may have told us both)."""
        account = stored_account(self.ctx.open_reader().db)
        self._show_title(account)
        if account is not None and account.country_code:
            self.compare_view.model.country = account.country_code
        self.compare_view.model.tz = account_time_zone(self.ctx.open_reader().db)
        self.sync_panel.refresh_status()

    # ----------------------------------------------------------------- queue

    @Slot()
    def reload_queue(self) -> None:
        """Read the queue again in a worker (after a scan); keeps the selected pair."""
        if self.ctx.workers.is_running("queue"):
            self._reload_again = True
            return
        self._reload_again = False
        path, key = self.ctx.cache.path, self.ctx.cache_key

        def work(_job: Job) -> QueueData:
            with Cache.open(path, key, readonly=True) as reader:
                return load_queue(reader.db)

        job = Job("queue", work)
        job.succeeded.connect(self._queue_loaded)
        job.failed.connect(self._queue_failed)
        self.ctx.workers.start(job)

    @Slot(object)
    def _queue_loaded(self, rows: QueueData) -> None:
        """Show the queue read again; the selected pair stays selected once it has been on
        screen (:attr:`ReviewTimer.opened`: the person may be reading it, and a key would act
        on another pair than the one read) or was chosen. Only a pair the queue selected by
        itself a moment ago gives way to the new first pair; otherwise, when pairs in clinical
        use move above it, the status bar says so. The pair under the pointer stays under it."""
        current = self.queue_view.current()
        timer = self.review_timer
        kept = current is not None and (
            current.key != self._auto_key or timer.opened or timer.touched
        )
        chosen = current.key if current is not None and kept else None
        if chosen is None and self._left_at is not None:  # the pair selected at the last close
            chosen, self._auto_key = self._left_at, None
        self._left_at = None
        pointed = self.queue_view.pointed()
        self.queue_model.set_rows(rows)
        if chosen is None or not self.queue_view.select_key(chosen):
            self.queue_view.select_row(0)
            first = self.queue_view.current()
            self._auto_key = first.key if first is not None else None
        elif chosen == self._auto_key and self.queue_model.row_total():
            top = self.queue_model.row_at(0)
            # Said unless the status bar says something else (the plans that wait, say).
            if top.key != chosen and top.triage and not self.statusBar().currentMessage():
                self.statusBar().showMessage(
                    "Pairs in clinical use moved to the top of the queue, above this one "
                    "(Ctrl+Home goes to them).",
                    UNDO_SHOWN_MS,
                )
        self.queue_view.keep_under_pointer(pointed)
        self.queue_ready = True
        self._update_open_plans()
        self.queue_view.focus_queue()
        # The queue is long-lived: keep the cyclic garbage collector from walking it again and
        # again (a full collection holds every thread for 100+ ms with a 20k-row queue).
        gc.freeze()
        self.queue_loaded.emit()
        if self._reload_again:
            self.reload_queue()

    @Slot(str, object)
    def _queue_failed(self, message: str, _error: object) -> None:
        self.statusBar().showMessage(message)

    @Slot()
    def probe_if_offline(self) -> None:
        """While offline, check now and then whether Cliniko answers again."""
        if self.ctx.connectivity.online is False:
            self.watcher.probe()

    @Slot(bool)
    def on_connectivity(self, online: bool) -> None:
        """Say what going offline or coming back means for the work."""
        back = self._been_offline
        self._been_offline |= not online
        if not online:
            self._plans_said = None
            why = "Cliniko is not answering" if self.ctx.connectivity.reached else "Offline"
            self.statusBar().showMessage(
                f"{why}: you can keep reviewing and planning merges; they wait in “Ready to apply”."
            )
            return
        # The first connection of a start is not a return: "Online." then.
        if self.ctx.connectivity.key_refused:
            self._say_open_plans("Cliniko does not accept the API key. ")
        else:
            self._say_open_plans("Back online. " if back else "Online. ")

    @Slot()
    def say_connection_again(self) -> None:
        """Still as reachable as before, for another reason (offline or Cliniko not answering;
        the key refused or accepted again): say what that means now."""
        self.on_connectivity(bool(self.ctx.connectivity.online))

    def _say_open_plans(self, opening: str) -> None:
        """Recall the plans that wait on the person, after ``opening``; while the message
        shows, each queue reload (a merge done, plans applied) says it again, or clears it."""
        # From the plans' own steps, which also count a group of records as one plan.
        reader = self.ctx.open_reader()
        planned, waiting = plans_to_apply(reader), len(plans_waiting_for_cliniko(reader))
        # Those Apply all leaves (a look-alike nobody confirmed, ...) are not "ready" there.
        held = len(plans_apply_all_leaves(reader, planned))
        ready = len(planned) - held
        to_apply = f"{ready} planned merge{'s' if ready != 1 else ''} ready to apply"
        # Applying a plan and checking Cliniko for a merge both need a key Cliniko accepts.
        refused = self.ctx.connectivity.key_refused
        new_key = "once a new key is in (File > Change Cliniko API key…)"
        if ready and waiting:  # one pointer for both: two ran past the intake rate, cut off
            where = "both wait for a new key" if refused else "both in the Queue menu"
            said = f"{to_apply}; {waiting_words(waiting)} ({where})"
        elif ready:
            where = new_key if refused else "(Queue > Apply all ready plans)"
            said = f"{to_apply} {where}"
        elif waiting:
            where = (
                f", checked {new_key}" if refused else " (Queue > Show merges waiting in Cliniko)"
            )
            said = f"{waiting_words(waiting)}{where}"
        elif held:
            them = "it" if held == 1 else "them"
            said = (
                f"{held} planned merge{'s wait' if held != 1 else ' waits'} for you to open "
                f"{them} (Queue > Show merges ready to apply)"
            )
        else:
            said = ""
        if said:
            self._plans_said = (opening, f"{opening}{said}.")
            self.statusBar().showMessage(self._plans_said[1])
        else:
            self._plans_said = None
            self.statusBar().clearMessage()

    def _update_open_plans(self) -> None:
        """After the queue changed: the plans message, if it still shows, counts again."""
        if self._plans_said and self.statusBar().currentMessage() == self._plans_said[1]:
            self._say_open_plans(self._plans_said[0])

    @Slot()
    def full_scan(self) -> None:
        """Rescan every patient (refits the model)."""
        self.sync_panel.start_scan(True)

    @Slot()
    def show_ready(self) -> None:
        """List the merges planned offline that wait for a connection."""
        self.queue_view.show_status("Ready to apply")
        self.queue_view.table.setFocus()

    def show_waiting(self) -> None:
        """List the merges whose record that stays is updated and that wait for Cliniko's."""
        self.queue_view.show_status("To merge in Cliniko")
        self.queue_view.table.setFocus()

    def works_on_pair(self, widget: QWidget) -> bool:
        """Input in this window, or in the merge window and the questions it asks, is work on
        the open pair; in the report, the settings or another dialog of this window it is
        not (it was timed as the pair's)."""
        window: QWidget | None = widget.window()
        if window is self:
            return True
        while window is not None:
            if window is self.wizard:
                return True
            window = window.parentWidget()
        return False

    @Slot(object)
    def on_current_changed(self, row: QueueRow | None) -> None:
        """Show the pair and start timing the work on it."""
        self.compare_view.show_pair(row)
        ids = None if row is None else (self.compare_view.ids or [row.id_a, row.id_b])
        self.review_timer.show_pair(ids)

    @Slot(object, str)
    def on_decided(self, row: QueueRow, decision: str) -> None:
        """Write the decision (and the time spent) before the queue moves on."""
        self.review_timer.open_pair(self.compare_view.ids or [row.id_a, row.id_b])
        decided = record_review_decision(self.ctx.cache, row.id_a, row.id_b, decision)
        ended = self.review_timer.finish(decision)
        if ended is not None:  # an undo takes the decision back from the time log too
            decided = replace(decided, work_session=ended.session_id)
        self.queue_model.set_status(row.key, decision)
        self._offer_undo(
            decided,
            f"Marked “{DECISION_WORDS.get(decision, decision)}”: {shortened(row.name_a)} and "
            f"{shortened(row.name_b)}.",
        )

    def _offer_undo(self, decided: ReviewDecision, said: str) -> None:
        """Say what was decided, beside Undo (Ctrl+Z and Edit > Undo take it back too)."""
        self.undo_stack.append(decided)
        self.undo_action.setEnabled(True)
        self.undo_action.setText(
            f"&Undo “{DECISION_WORDS.get(decided.decision, decided.decision)}”"
        )
        self.undo_bar.offer(said)

    @Slot(str)
    def say_refused(self, why_not: str) -> None:
        """A decision the queue would not take: say why, for as long as the undo note stays."""
        self.statusBar().showMessage(why_not, UNDO_SHOWN_MS)

    @Slot()
    def undo_last_decision(self) -> None:
        """Ctrl+Z: put the last decided pair back as it was and select it."""
        decided = self._undo_one()
        if decided is not None:
            words = DECISION_WORDS.get(decided.decision, decided.decision)
            back = (  # a pair put off stays in "To review"; the others come back to it
                "The pair is no longer put off."
                if decided.decision == Outcome.LATER
                else "The pair is back in the queue."
            )
            self.undo_bar.note(f"Undone: “{words}”. {back}")

    @Slot(int)
    def undo_typed_decisions(self, count: int) -> None:
        """The first letters of a name typed into the queue made decisions: undo them."""
        undone = [d for d in (self._undo_one() for _ in range(count)) if d is not None]
        if undone:
            words = " and ".join(
                dict.fromkeys(f"“{DECISION_WORDS.get(d.decision, d.decision)}”" for d in undone)
            )
            self.undo_bar.note(f"That was typing, so it went to the search box: {words} undone.")

    def _undo_one(self) -> ReviewDecision | None:
        """Put the last decided pair back as it was and select it; the decision undone."""
        if not self.undo_stack:
            return None
        decided = self.undo_stack.pop()
        undo_review_decision(self.ctx.cache, decided)
        self.queue_model.set_status(decided.key, decided.previous_status)
        if not self.queue_view.select_key(decided.key):
            self.queue_view.show_status("All")
            self.queue_view.select_key(decided.key)
        self.queue_view.focus_queue()
        self.undo_action.setEnabled(bool(self.undo_stack))
        self.undo_action.setText("&Undo")
        return decided

    @Slot(str)
    def on_compare_action(self, name: str) -> None:
        """A decision button under the records: the same as its key in the queue."""
        self.queue_view.actions_by_name[name].trigger()
        self.queue_view.focus_queue()

    def refresh_statuses(self, ids: list[str]) -> None:
        """Re-read every pair among ``ids`` (after a merge step): its status, and the names
        a step's new values gave its records."""
        self.queue_model.refresh_rows(load_rows(self.ctx.open_reader().db, ids))
        self._update_open_plans()

    # ----------------------------------------------------------------- merge and dialogs

    @Slot(object)
    def open_merge(self, row: QueueRow) -> None:
        """ "Same person": open the guided merge for the pair (resuming a saved plan)."""
        if self.wizard is not None:
            self.wizard.raise_()
            return
        if row.status == PairStatus.MERGED:
            self.statusBar().showMessage(ALREADY_MERGED)
            return
        if row.key == self._auto_key:
            self._auto_key = None  # acted on: it stays selected when the queue is read again
        ids = self.compare_view.ids if self.compare_view.row == row else [row.id_a, row.id_b]
        self._open_wizard(ids)

    def _open_wizard(self, ids: list[str]) -> None:
        from desktop.merge import MergeError
        from desktop.ui.merge_wizard import MergeWizard

        work = self.review_timer.open_pair(ids)
        # A pair's "Not the same person" in the merge window is undone as the queue's is (one
        # with a plan under way before it opened keeps that plan's word: it has no undo).
        before = (
            undecided(self.ctx.cache, ids[0], ids[1], Outcome.NOT_SAME) if len(ids) == 2 else None
        )
        self._undo_if_not_same = (
            replace(before, work_session=work.session_id)
            if before is not None and before.previous_status not in KEPT_STATUSES
            else None
        )
        try:
            self.wizard = MergeWizard(self.ctx, ids, work, self)
        except MergeError as error:  # e.g. a record is no longer in the cache
            self.statusBar().showMessage(error.user_message)
            return
        self.wizard.finished.connect(self._wizard_closed)
        # Its keys, Quit's too (the merge window held them: Ctrl+Q did nothing there). This
        # window then closes the merge window first, waiting for a write to Cliniko.
        self.wizard.addAction(self.quit_action)
        # The list and the plans line follow the merge, the pair held in place meanwhile.
        self.queue_model.pin(self.wizard.ids)
        self.wizard.step_shown.connect(lambda: self.refresh_statuses(ids))
        self.wizard.open()

    @Slot(int)
    def _wizard_closed(self, _result: int) -> None:
        wizard, self.wizard = self.wizard, None
        if wizard is None:
            return
        self.queue_model.pin(())
        outcome = wizard.outcome()
        self.review_timer.finish(outcome)
        if outcome is Outcome.MERGED:  # the Done page closes by itself: say it here, lasting
            survivor = wizard.flow.records().get(str(wizard.flow.plan.survivor_id)) or {}
            self.statusBar().showMessage(
                f"Merged in Cliniko: {len(wizard.ids)} records are now one, "
                f"{display_name(survivor) or 'the record that stayed'}."
            )
        elif outcome is Outcome.NOT_SAME:  # the window closed at once: say what it did
            said = _not_same_words(wizard)
            if self._undo_if_not_same is not None:
                self._offer_undo(self._undo_if_not_same, said)
            else:
                self.statusBar().showMessage(said)
        elif wizard.flow.step in WAIT_STEPS:  # closed with the record that stays updated
            self.statusBar().showMessage(
                f"{_names_of(wizard)}: the merge waits for you in Cliniko (Queue > Show "
                "merges waiting in Cliniko)."
            )
        self.refresh_statuses(wizard.ids)
        self.compare_view.show_pair(self.queue_view.current())
        self.queue_view.focus_queue()
        wizard.deleteLater()
        walk = self.merge_walk
        if walk and outcome is not Outcome.MERGED:  # closed (Esc, Close): the walk stops here
            self.merge_walk = []
            self.statusBar().showMessage(
                f"Stopped the merges one by one: {len(walk) + 1} still "
                f"{'waits' if not walk else 'wait'} for Cliniko's merge "
                "(Queue > Show merges waiting in Cliniko)."
            )
            return
        QTimer.singleShot(0, self._next_in_walk)

    @Slot()
    def open_apply_all(self) -> None:
        """Apply every ready plan in one run, then walk through their Cliniko merge pages."""
        from desktop.ui.apply_all import ApplyAllDialog

        self.review_timer.finish(Outcome.SKIPPED)  # the person moved on from the pair shown
        self.apply_all_dialog = ApplyAllDialog(self.ctx, self)
        self.apply_all_dialog.walk_requested.connect(self.walk_merges)
        # The window behind shows the plans applied while the dialog reports them.
        self.apply_all_dialog.applied.connect(self.reload_queue)
        self.apply_all_dialog.finished.connect(self.reload_queue)
        self.apply_all_dialog.open()

    @Slot(list)
    def walk_merges(self, plan_ids: list[str]) -> None:
        """Open the merge step of each plan in turn (the next when the wizard closes)."""
        from desktop.merge import MergeFlow

        self.merge_walk = [list(MergeFlow.load(self.ctx.cache, p).plan.patient_ids)
                           for p in plan_ids]  # fmt: skip
        self._next_in_walk()

    @Slot()
    def _next_in_walk(self) -> None:
        if self.wizard is None and self.merge_walk:
            self._open_wizard(self.merge_walk.pop(0))
            left = len(self.merge_walk)
            if self.wizard is not None and left:
                self.wizard.setWindowTitle(f"Merge records ({left} more after this one)")

    @Slot()
    def open_settings(self) -> None:
        """Open the settings dialog."""
        from desktop.ui.settings_dialog import SettingsDialog

        currency = stored_currency(self.ctx.open_reader())
        dialog = SettingsDialog(self.ctx.data_dir, self, currency=currency)
        dialog.accepted.connect(self._settings_saved)
        self.settings_dialog = dialog
        dialog.open()

    @Slot()
    def change_api_key(self) -> None:
        """Paste a new key in place of one Cliniko no longer accepts (checked, this clinic's)."""
        dialog = ConnectDialog(
            base_url=self.ctx.base_url,
            parent=self,
            data_dir=self.ctx.data_dir,
            clinic=stored_account(self.ctx.open_reader().db) or Account(name=self.ctx.title),
        )
        dialog.connected.connect(self._use_key)
        dialog.finished.connect(self._sync_with_new_key)
        self.key_dialog = dialog
        dialog.open()

    @Slot(object)
    def _use_key(self, info: ConnectionInfo) -> None:
        """The new key is checked and in the keychain: every request uses it from now on, and
        no plan says any more that the old one was refused."""
        self.ctx.api_key = info.api_key
        forget_refused_key(self.ctx.cache)
        self.watch_desk.key_changed()

    @Slot()
    def _sync_with_new_key(self) -> None:
        """The key dialog closed: with a new key, sync at once (the old key's problem is said
        until then)."""
        info = self.key_dialog.info
        if info is not None:
            self._new_key_said = f"Syncing with {info.account_name} using the new key…"
            self.statusBar().showMessage(self._new_key_said)
            self.sync_panel.start_sync()

    @Slot()
    def _new_key_sync_ended(self) -> None:
        """The work the new key started has ended: its words go (the sync panel says how it
        went)."""
        if self._new_key_said and self.statusBar().currentMessage() == self._new_key_said:
            self.statusBar().clearMessage()
        self._new_key_said = None

    @Slot()
    def open_report(self) -> None:
        """Open the labor-cost summary (period picker, figures, chart, print, PDF, CSV)."""
        from desktop.ui.report_dialog import ReportDialog

        self.report_dialog = ReportDialog(self.ctx, self)
        self.report_dialog.open()

    @Slot()
    def open_audit(self) -> None:
        """Open the audit trail screen (verify status, entries of a date range, CSV export)."""
        from desktop.ui.audit_dialog import AuditDialog

        self.audit_dialog = AuditDialog(self.ctx, self)
        self.audit_dialog.open()

    @Slot()
    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts (F1)."""
        from desktop.ui.help_dialogs import shortcuts_dialog

        self._open_help(shortcuts_dialog(self))

    @Slot()
    def show_data_folder(self) -> None:
        """Help > Where your data is."""
        from desktop.ui.help_dialogs import DataFolderDialog

        self._open_help(DataFolderDialog(self.ctx.data_dir, self))

    @Slot()
    def show_about(self) -> None:
        """Help > About (the version)."""
        from desktop.ui.help_dialogs import about_dialog

        self._open_help(about_dialog(self))

    def _open_help(self, dialog: QDialog) -> None:
        if self.help_dialog is not None:
            self.help_dialog.close()
            self.help_dialog.deleteLater()
        self.help_dialog = dialog
        dialog.finished.connect(self.queue_view.focus_queue)
        dialog.open()

    @Slot()
    def _settings_saved(self) -> None:
        self.ctx.settings = self.settings_dialog.chosen()
        self.review_timer.log.idle_threshold = float(self.ctx.settings.idle_threshold_seconds)
        self.review_timer.log.wait_cap = float(self.ctx.settings.merge_wait_cap_minutes * 60)
        self.watch_desk.apply_settings()

    def event(self, event: QEvent) -> bool:
        """An empty status tip (a menu item without one, hovered) leaves the status bar's
        message: opening a menu erased "Merged in Cliniko: …" and the plans that wait."""
        if isinstance(event, QStatusTipEvent) and not event.tip():
            return True
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep the layout; stop the workers, end the open work session, close the reader.
        Not while the merge window writes to Cliniko: it closes when Cliniko has answered."""
        if self.wizard is not None and self.wizard.writing():
            self.wizard.close()  # asks the merge window to close once the write has ended
            event.ignore()
            return
        current = self.queue_view.current()
        self.window_state.save_queue(
            self.queue_view.band, self.queue_view.status, current.key if current else None
        )
        self.window_state.save(self, self.splitter, self.queue_view.table.horizontalHeader())
        if self.watch_desk.hide_to_tray():  # the administrator chose to keep watching
            event.ignore()
            return
        self.watch_desk.stop()
        if self.wizard is not None:
            self.wizard.close()
        self.probe_timer.stop()
        self.compare_view.stop()
        self.review_timer.close()
        running_app().removeEventFilter(self.review_timer)
        self.ctx.close()
        super().closeEvent(event)
