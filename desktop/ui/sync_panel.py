"""The top bar: connection, last sync, and a sync (then an incremental scan) with progress."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from desktop.account import stored_account
from desktop.cliniko.records import RequestRecord
from desktop.digest import since_label
from desktop.intake import account_time_zone
from desktop.labor.timelog import TimeLog
from desktop.matching import MatchSettings
from desktop.merge.batch import finish_merged_plans
from desktop.merge.executor import display_name
from desktop.scan import ScanSummary, run_scan
from desktop.session import Session
from desktop.store.patients import count_patients, get_patient
from desktop.store.quarantine import quarantined_records, set_aside_summary
from desktop.store.sync_state import get_state
from desktop.sync import (
    LAST_SYNC_AT,
    ConnectionTrouble,
    SyncProgress,
    SyncResult,
    connection_trouble,
    merged_outside_words,
    needs_full_sync,
    run_sync,
    short_listing_note,
)
from desktop.timestamps import moment_words, parse_timestamp
from desktop.ui import theme
from desktop.ui.context import DeskContext
from desktop.ui.workers import Job


@dataclass(frozen=True)
class ScanProgress:
    """Where a scan is."""

    stage: str
    done: int
    total: int


WATCH_WORD = "The watch found"  # how the watch's word on the pairs it found begins
# How soon a download stopped by a lost connection is tried again, by itself.
RESUME_DOWNLOAD_MS = 60_000


def _clinic_time(stamp: str | None, tz: tzinfo) -> str:
    """``5 Dec 2026 20:59`` on the clinic's clock, as the watch's banner says its times
    ("never" before the first sync)."""
    moment = parse_timestamp(stamp)
    if moment is None:
        return stamp or "never"
    return moment_words(moment.astimezone(tz))


class SyncPanel(QWidget):
    """Sync status and controls; runs sync and scan in workers.

    Signals:
        queue_changed(): a scan finished; reload the queue.
        sync_finished(object): the :class:`~desktop.sync.SyncResult` of a sync.
        sync_paging(): a sync stored its first page (the account is known by then).
        work_finished(): a sync or scan ended (done, cancelled or failed).
    """

    queue_changed = Signal()
    sync_finished = Signal(object)
    sync_paging = Signal()
    work_finished = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.status_label = QLabel()
        self.status_label.setAccessibleName("Cache status")
        self.online_label = QLabel("● Not checked yet")
        self.online_label.setAccessibleName("Connection to Cliniko")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setVisible(False)
        self.progress.setMaximumWidth(260)
        self.rate_label = QLabel()
        self.rate_label.setAccessibleName("Sync rate")
        # A long error wraps inside the bar instead of widening the window past the screen.
        self.rate_label.setWordWrap(True)
        self.rate_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.rate_label.setMinimumWidth(160)
        # Room for two lines from the start: a message that wrapped made the bar taller and
        # moved the queue under the pointer.
        self.rate_label.setMinimumHeight(2 * self.rate_label.fontMetrics().lineSpacing())
        self._watch_word: str | None = None  # the watch's message the label shows, if any
        self._scan_word = ""  # the last scan's (or watch interval's) word on the pairs found
        self._offline_word: str | None = None  # a lost connection's message the label shows
        # What the last sync found to act on (its list cut short, a patient merged by mistake).
        self._sync_note: str | None = None
        self._paging = False  # the running sync has stored a page
        # A download of every patient stopped by a lost connection goes on by itself.
        self.resume_timer = QTimer(self)
        self.resume_timer.setSingleShot(True)
        self.resume_timer.setInterval(RESUME_DOWNLOAD_MS)
        self.resume_timer.timeout.connect(self.start_sync)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.sync_button = QPushButton("&Sync")
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setShortcut(QKeySequence("Ctrl+R"))
        self.sync_button.setToolTip("Download new and changed patients, then rescan (Ctrl+R)")
        self.sync_button.clicked.connect(self.start_sync)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel sync")
        self.cancel_button.setToolTip("Stop the sync; what was downloaded is kept (Esc)")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_sync)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.online_label)
        layout.addWidget(self.status_label, 2)
        layout.addWidget(self.progress)
        layout.addWidget(self.rate_label, 3)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.sync_button)
        ctx.connectivity.changed.connect(self.on_connectivity)
        ctx.connectivity.reason_changed.connect(self.show_why_offline)
        self.refresh_status()

    # ----------------------------------------------------------------- status

    @Slot()
    def refresh_status(self) -> None:
        """Show how many patients are cached and when the last sync finished."""
        db = self._ctx.open_reader().db
        patients = count_patients(db)
        last = _clinic_time(get_state(db, LAST_SYNC_AT), account_time_zone(db))
        aside = quarantined_records(db)
        note = f" · {len(aside):,} kept aside (see tooltip)" if aside else ""
        account = stored_account(db)
        term = account.patients_term if account else "patients"
        said = f"last sync: {last}"
        if needs_full_sync(self._ctx.open_reader()) and patients:
            said = "download not finished"  # the next sync goes on with it
        self.status_label.setText(f"{patients:,} {term} cached · {said}{note}")
        self.status_label.setToolTip(
            textwrap.fill(set_aside_summary(aside), 80) if aside else self.status_label.text()
        )

    @Slot(bool)
    def show_online(self, online: bool) -> None:
        """Show the offline indicator."""
        if online:
            self.online_label.setText("● Online")
            self.online_label.setStyleSheet(f"color: {theme.colours()['for']}")
            self.online_label.setToolTip("Cliniko answered")
        elif online is None:
            self.online_label.setText("● Not checked yet")
            self.online_label.setStyleSheet("")
        elif self._ctx.connectivity.reached:  # not this computer's connection
            self.online_label.setText("● Cliniko not answering")
            self.online_label.setStyleSheet(theme.error_style())
            self.online_label.setToolTip(
                "Cliniko is reached, but answers with server errors or not in time (trouble "
                "on its side, or an unsteady connection). You can keep reviewing and planning "
                "merges; they are applied when it answers again."
            )
        else:
            self.online_label.setText("● Offline")
            self.online_label.setStyleSheet(theme.error_style())
            self.online_label.setToolTip(
                "Cliniko can't be reached. You can keep reviewing and planning merges; "
                "they are applied when you are back online."
            )

    @Slot()
    def show_why_offline(self) -> None:
        """Still unreachable, now for the other reason: the dot says which."""
        self.show_online(False)

    @Slot(bool)
    def on_connectivity(self, online: bool) -> None:
        """Cliniko answered again (any call: a history, a merge step) or stopped answering:
        the dot says so, and a lost connection's message goes once the connection is back."""
        self.show_online(online)
        if online and self.resume_timer.isActive():  # back: the download goes on now
            self.resume_timer.stop()
            QTimer.singleShot(0, self.start_sync)
        if online and self._offline_word is not None:
            if self.rate_label.text() == self._offline_word:
                self.rate_label.setText("")
                self.rate_label.setStyleSheet("")
                self.rate_label.setToolTip("")
            self._offline_word = None

    def show_problem(self, message: str) -> None:
        """Cliniko answered, but not with success: the dot must not say "Online"."""
        self.online_label.setText("● Problem")
        self.online_label.setStyleSheet(theme.error_style())
        self.online_label.setToolTip(message)

    def note_watch(self, message: str | None, error: object = None) -> None:
        """The watch's word on its last interval: why it waits or stopped, in red where a
        long message wraps; None once an interval went well (its own word is cleared, a
        sync's is left)."""
        if message is not None:
            self._watch_word = message
            self.on_failed(message, error)
            return
        if self._ctx.connectivity.online:
            self.show_online(True)  # Cliniko answered the whole interval: no "Problem" now
        if self._watch_word is not None and self.rate_label.text() == self._watch_word:
            self._idle("")
        self._watch_word = None

    def note_interval(self, found: int, at: datetime) -> None:
        """A watch interval (started ``at``) went well: the count of cached patients and the
        last sync are its now, and the pairs it found are the latest word on the queue (the
        last scan's counts stood beside a queue the watch had grown). The word says when: "The
        watch found 2 new pairs" stood on through later looks that found none."""
        if self.is_busy():
            return
        self.refresh_status()
        said_by_watch = self._scan_word.startswith(WATCH_WORD)
        if self.rate_label.text() not in ("", self._scan_word) or not (found or said_by_watch):
            return
        when = since_label(at, account_time_zone(self._ctx.open_reader().db))
        pairs = f"{found:,} new pair{'s' if found != 1 else ''}" if found else "no new pairs"
        self._scan_word = f"{WATCH_WORD} {pairs} at {when}."
        self.rate_label.setText(self._scan_word)

    def is_busy(self) -> bool:
        """True while a sync or scan runs."""
        return self._ctx.workers.is_running("sync") or self._ctx.workers.is_running("scan")

    # ----------------------------------------------------------------- sync

    @Slot()
    def start_sync(self) -> None:
        """Start a sync in a worker (then a scan)."""
        if self.is_busy():
            return
        self.resume_timer.stop()
        self._paging = False
        ctx = self._ctx
        reconcile_every = ctx.settings.reconcile_interval

        def work(job: Job) -> SyncResult:
            with ctx.session(job.cancel_event, retries=0) as probe:
                probe.client.get_user()  # audited; fails fast when offline

            def tell(record: RequestRecord) -> None:
                trouble = connection_trouble(record)
                if trouble is not None:  # said now, not when the client gives up
                    job.report(trouble)

            with Session(
                ctx.cache,
                ctx.api_key,
                base_url=ctx.base_url,
                cancel=job.cancel_event,
                max_requests_per_minute=ctx.requests_per_minute,
                on_attempt=tell,
            ) as s:
                s.identify_user()
                result = run_sync(s, progress=job.report, reconcile_every=reconcile_every)
                if not result.cancelled:  # merges done in Cliniko with no merge window open
                    finish_merged_plans(
                        ctx.cache, s, TimeLog.from_settings(ctx.cache, ctx.settings)
                    )
                return result

        job = Job("sync", work)
        job.progressed.connect(self.on_sync_progress)
        job.succeeded.connect(self.on_sync_done)
        job.failed.connect(self.on_failed)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.sync_button.setEnabled(False)
        self.rate_label.setText("Connecting to Cliniko…")
        self.rate_label.setStyleSheet("")  # the last failure's red is not this sync's
        self.rate_label.setToolTip("")
        # The count of cached patients is read again when the sync ends (the bar counts till
        # then): "0 patients cached" beside "8% (8,600 of 100,001)" read as if nothing came.
        self.status_label.setText("Syncing with Cliniko…")
        ctx.workers.start(job)

    @Slot()
    def cancel_sync(self) -> None:
        """Ask the running sync to stop after the current page."""
        for job in self._ctx.workers.running("sync"):
            job.cancel()
        self.cancel_button.setEnabled(False)
        self.rate_label.setText("Cancelling…")

    @Slot(object)
    def on_sync_progress(self, progress: SyncProgress | ConnectionTrouble) -> None:
        """Update the bar and the rate; or say that Cliniko stopped answering while the
        client waits to ask again (the dot said "Online" for the half minute of retries)."""
        if isinstance(progress, ConnectionTrouble):
            if not progress.slowed_down:  # Cliniko asking for fewer requests is still online
                self.online_label.setText("● Reconnecting…")
                self.online_label.setStyleSheet(theme.error_style())
                self.online_label.setToolTip(progress.words())
            self.rate_label.setText(progress.words() + " What was downloaded is kept.")
            return
        total = max(progress.total, progress.done, 1)
        self.progress.setRange(0, total)
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"%p% ({progress.done:,} of {total:,})")
        # The bar grows to its words ("14% (14,000 of 100,001)"), never cutting them off.
        needed = self.progress.fontMetrics().horizontalAdvance(self.progress.text()) + 32
        if self.progress.minimumWidth() < needed:
            self.progress.setMinimumWidth(needed)
            self.progress.setMaximumWidth(max(needed, self.progress.maximumWidth()))
        self.rate_label.setText(f"{progress.rate:,.0f} {self._term()}/s")
        self._ctx.connectivity.set_online(True)
        self.show_online(True)
        if not self._paging:
            self._paging = True
            self.sync_paging.emit()

    @Slot(object)
    def on_sync_done(self, result: SyncResult) -> None:
        """Report the sync; scan when it completed."""
        self._ctx.connectivity.set_online(True)
        self.show_online(True)
        self.refresh_status()
        self.sync_finished.emit(result)
        if result.cancelled:
            self._idle("Sync cancelled. What was downloaded is kept.")
            return
        notes = [short_listing_note(result) or "", self.merged_outside_note(result.merged_outside)]
        self._sync_note = " ".join(filter(None, notes)) or None
        self.rate_label.setText(
            f"{result.patients_written:,} {self._term()} new or changed in {result.seconds:.0f} s. "
            "Scanning…"
        )
        self.start_scan()

    @Slot(str, object)
    def on_failed(self, message: str, error: object) -> None:
        """Say in plain words why the work stopped."""
        self._ctx.connectivity.note_error(error)
        if self._ctx.connectivity.online is not False:
            self.show_problem(message)
        offline = self._ctx.connectivity.online is False
        if offline and needs_full_sync(self._ctx.open_reader()):
            message = (
                f"{message} The download of your patients is not finished: it goes on by "
                "itself when Cliniko can be reached."
            )
            self.resume_timer.start(RESUME_DOWNLOAD_MS)
        self._offline_word = message if offline else None
        self._idle(message)
        self.warn(message)

    # ----------------------------------------------------------------- scan

    @Slot()
    def start_scan(self, full: bool | None = None) -> None:
        """Score new and changed patients in a worker and refresh the queue."""
        if self._ctx.workers.is_running("scan"):
            return
        ctx = self._ctx
        settings = replace(
            MatchSettings(),
            likely_threshold=ctx.settings.likely_threshold,
            possible_threshold=ctx.settings.possible_threshold,
        )

        def work(job: Job) -> ScanSummary:
            def report(stage: str, done: int, total: int) -> None:
                job.report(ScanProgress(stage, done, total))

            return run_scan(ctx.cache, full=full, progress=report, settings=settings)

        job = Job("scan", work)
        job.progressed.connect(self.on_scan_progress)
        job.succeeded.connect(self.on_scan_done)
        job.failed.connect(self.on_failed)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_button.setVisible(False)
        self.sync_button.setEnabled(False)
        ctx.workers.start(job)

    @Slot(object)
    def on_scan_progress(self, progress: ScanProgress) -> None:
        """Show the scan's stage."""
        if progress.total > 0:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        self.rate_label.setText(f"Scanning: {progress.stage}…")

    @Slot(object)
    def on_scan_done(self, summary: ScanSummary) -> None:
        """Report what the scan found and reload the queue."""
        self._scan_word = scan_message(summary)
        self._idle(self._scan_word)
        if self._sync_note:  # patients missing or merged by mistake: said where it stays
            self.warn(self._sync_note)
            self._sync_note = None
        self.queue_changed.emit()

    def warn(self, text: str) -> None:
        """Say something the administrator must act on, in red, where it stays in sight."""
        self.rate_label.setText(text)
        self.rate_label.setStyleSheet(theme.error_style())
        self.rate_label.setToolTip(text)

    def merged_outside_note(self, merged_outside: list[tuple[str, str]]) -> str:
        """What to say of patients merged into a MergeDesk merge's record that stays though
        its plan did not name them (a sync's or the watch's), by name ("" when none)."""
        return " ".join(merged_outside_words(*pair, self._named) for pair in merged_outside)

    def _named(self, patient_id: str) -> str:
        """``Karim Khoury (id 904…)``, from the cache."""
        record = get_patient(self._ctx.open_reader().db, patient_id) or {}
        return f"{display_name(record) or 'a patient'} (id {patient_id})"

    def _idle(self, message: str) -> None:
        self.rate_label.setStyleSheet("")
        self.rate_label.setText(message)
        self.rate_label.setToolTip("")
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.sync_button.setEnabled(True)
        self.refresh_status()
        self.work_finished.emit()

    def _term(self) -> str:
        account = stored_account(self._ctx.open_reader().db)
        return account.patients_term if account else "patients"


def scan_message(summary: ScanSummary) -> str:
    """What a scan found, in words that stay true after a restart (an incremental scan only
    counts the pairs of changed records, not the queue)."""
    found = summary.likely + summary.possible
    if summary.kind == "full":
        return f"Scan done: {summary.likely:,} likely and {summary.possible:,} possible pairs."
    if found == 0:
        return "Scan done: no new pairs."
    return (
        f"Scan done: {found:,} new or changed pair{'s' if found != 1 else ''} "
        f"({summary.likely:,} likely)."
    )
