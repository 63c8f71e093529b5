"""The watch in the window: intervals in a worker, a notification, "New since...", the intake
rate, the daily digest, and the tray after the window closes.

Each interval is one background :class:`~desktop.ui.workers.Job` running
:meth:`desktop.watch.Watch.run_once` (never on the GUI thread); a timer on the GUI thread
starts the next one after the interval (or the back-off when Cliniko could not be reached).
It waits while a sync or scan of the window runs, and until the first sync is done.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenuBar,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.account import Account
from desktop.config import load_settings, save_settings
from desktop.digest import daily_digest, notification_text, since_label
from desktop.intake import INTAKE_DAYS, IntakeReport, account_time_zone
from desktop.matching import MatchSettings
from desktop.merge.batch import finished_words
from desktop.store.queue import has_model
from desktop.store.watch import found_pair_keys
from desktop.sync import needs_full_sync
from desktop.timestamps import utc_stamp
from desktop.ui import theme
from desktop.ui import tray as tray_icon
from desktop.ui.context import NETWORK_ERRORS
from desktop.ui.dates import DateField, wall_datetime, wall_qdatetime
from desktop.ui.workers import Job
from desktop.watch import (
    IntervalReport,
    NewPair,
    Watch,
    WatchEvent,
    WatchSettings,
    live_intake,
)

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

WAIT_MS = 5_000  # while a sync or scan runs, or before the first sync, look again this soon
NOT_MEASURED = "Intake: not measured yet"
# The rate's tooltip and the digest say what the alarm suggests.
ALARM_WORD = "Intake alarm: see the red rate (or Watch > Today's digest)."
BUSY_JOBS = ("sync", "scan", "watch")
TRAY_CHOICE = "Keep watching from the &tray after closing"


class NewPairsBanner(QFrame):
    """A line below the queue: what the watch found, with a button that shows just those.

    Signals:
        show_requested(): "Show them" was pressed.
        show_all_requested(): "Show all" was pressed (leaves the "New since" filter).
    """

    show_requested = Signal()
    show_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("New duplicates found by the watch")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.show_button = QPushButton("Sh&ow them")
        self.show_button.setAccessibleName("Show the new pairs")
        self.show_button.clicked.connect(self.show_requested)
        self.all_button = QPushButton("Show a&ll")
        self.all_button.setAccessibleName("Show the whole queue")
        self.all_button.clicked.connect(self.show_all_requested)
        self.close_button = QPushButton("D&ismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        for button in (self.show_button, self.all_button, self.close_button):
            layout.addWidget(button)
        self.queue_filtered = False  # the queue shows only the pairs found since a time
        self.hide()

    def announce(self, message: str) -> None:
        """New pairs: say so and offer to show them, and the whole queue back while it is
        filtered (new pairs announced over "Showing the pairs found since ..." took its "Show
        all" away: Dismiss then left the queue filtered, with nothing on screen saying so)."""
        self.text.setText(message)
        self.show_button.setVisible(True)
        self.all_button.setVisible(self.queue_filtered)
        self.show()

    def filtering(self, message: str) -> None:
        """The queue shows only new pairs: say which, and offer the whole queue back."""
        self.queue_filtered = True
        self.text.setText(message)
        self.show_button.setVisible(False)
        self.all_button.setVisible(True)
        self.show()

    def unfiltered(self) -> None:
        """The whole queue is back: put the line away."""
        self.queue_filtered = False
        self.hide()

    @Slot()
    def dismiss(self) -> None:
        """Put the line away; while the queue is filtered, give the whole queue back too (the
        queue stayed filtered, with nothing left on screen to undo it)."""
        if self.queue_filtered:
            self.show_all_requested.emit()
        self.hide()


class NewSinceDialog(QDialog):
    """Pick the moment from which found pairs are listed (from midnight, up to ``now``), on
    the clock of ``now``'s zone (the clinic's, as the banner then says it)."""

    def __init__(self, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New since…")
        self.zone = now.tzinfo
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # chosen() reads the wall-clock time on the clinic's clock. No later than now: an
        # arrow key pressed once too often showed "the 0 pairs found since Tue 0:00", tomorrow.
        # The day first, not the weekday: Qt steps a weekday within its week, so Down did
        # nothing on a Monday.
        self.when = DateField(wall_qdatetime(midnight), "d MMM yyyy HH:mm")
        self.when.setMaximumDateTime(wall_qdatetime(now))
        self.when.setAccessibleName("Show pairs found since")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Show")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("&Cancel")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        label = QLabel("Show the pairs the watch found s&ince:")
        label.setBuddy(self.when)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.when)
        layout.addWidget(buttons)

    def chosen(self) -> datetime:
        """The chosen moment, aware, on the clinic's clock."""
        return wall_datetime(self.when.dateTime(), self.zone)


class WatchDesk(QObject):
    """Runs the watch for a :class:`MainWindow` and shows what it finds.

    Signals:
        interval_done(object): the :class:`~desktop.watch.IntervalReport` of an interval.
    """

    interval_done = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.failures = 0
        self.account: Account | None = None  # the key's clinic, once an interval checked it
        self.unseen: list[NewPair] = []  # found since the last time someone looked
        self.unseen_since: datetime | None = None
        self.quitting = False
        self.banner = NewPairsBanner()
        self.banner.show_requested.connect(self.show_unseen)
        self.banner.show_all_requested.connect(self.show_all)
        self.intake_label = QLabel(NOT_MEASURED)
        self.intake_label.setAccessibleName("Intake exception rate")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.run_interval)
        self._asked = False  # the running interval is a "Check now": its outcome is said
        self.ctx.connectivity.changed.connect(self.on_connectivity)
        self.tray: tray_icon.WatchTray | None = None
        # The clinic's day at the first look: its time zone is known once a sync has read
        # the account (a first start has none yet).
        self.digest_day: date | None = None

    # ----------------------------------------------------------------- set-up

    def add_menu(self, bar: QMenuBar) -> None:
        """The Watch menu: check now, New since..., digest, incomplete records, tray."""
        menu = bar.addMenu("&Watch")
        check = QAction("&Check for new duplicates now", self)
        check.triggered.connect(self.check_now)
        since = QAction("&New since…", self)
        since.triggered.connect(self.ask_new_since)
        digest = QAction("Today's &digest", self)
        digest.triggered.connect(self.show_digest)
        incomplete = QAction("&Incomplete records…", self)
        incomplete.triggered.connect(self.open_incomplete)
        menu.setToolTipsVisible(True)  # the tray choice says why it is greyed out
        self.tray_action = QAction(TRAY_CHOICE, self)
        self.tray_action.setCheckable(True)
        self.tray_action.toggled.connect(self.set_tray_choice)
        self.offer_tray()
        menu.aboutToShow.connect(self.offer_tray)  # a tray may have started since
        for action in (check, since, digest, incomplete):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.tray_action)
        self.window.statusBar().addPermanentWidget(self.intake_label)

    def start(self, first_in_ms: int = 2_000) -> None:
        """Begin watching (the first interval soon)."""
        self.timer.start(first_in_ms)

    def stop(self) -> None:
        """Stop starting intervals (a running one is cancelled with the other workers)."""
        self.timer.stop()

    def key_changed(self) -> None:
        """A new API key: the watch (stopped by a refused key) looks again soon, and checks
        the new key's clinic at that first look."""
        self.account = None
        self.failures = 0
        if not self.ctx.workers.is_running("watch"):
            self.timer.start(WAIT_MS)

    # ----------------------------------------------------------------- intervals

    def _settings(self) -> tuple[WatchSettings, MatchSettings]:
        settings = self.ctx.settings
        match = replace(
            MatchSettings(),
            likely_threshold=settings.likely_threshold,
            possible_threshold=settings.possible_threshold,
        )
        return WatchSettings.from_settings(settings), match

    def _ready(self) -> bool:
        workers = self.ctx.workers
        if any(workers.is_running(name) for name in BUSY_JOBS):
            return False
        db = self.ctx.open_reader().db
        return not needs_full_sync(self.ctx.open_reader()) and has_model(db)

    @Slot()
    def check_now(self) -> None:
        """Watch > Check now: one interval at once, its outcome said in the status bar. A look
        that finds Cliniko unreachable leaves the next one a minute away, not a doubled wait
        (three presses while offline had put it 16 minutes off, with nothing said)."""
        if self.ctx.workers.is_running("watch"):
            return
        self.failures = 0
        self._asked = True
        self.run_interval()

    @Slot(bool)
    def on_connectivity(self, online: bool) -> None:
        """Cliniko answered again (a probe, a sync, a merge step) while the watch waited out a
        lost connection: look now, not when the wait runs out (up to 30 minutes later)."""
        if online and self.failures and not self.ctx.workers.is_running("watch"):
            self.failures = 0
            self.timer.start(0)

    @Slot()
    def run_interval(self) -> None:
        """Start one interval in a worker (or look again soon when the window is busy)."""
        if not self._ready():
            if self._asked:
                self._asked = False
                self.window.statusBar().showMessage(
                    "The watch looks once the sync or scan under way is done."
                )
            self.timer.start(WAIT_MS)
            return
        ctx, failures, account = self.ctx, self.failures, self.account
        watch_settings, match = self._settings()

        def work(job: Job) -> tuple[IntervalReport, int, Account | None]:
            with ctx.session(job.cancel_event) as session:
                # The key's clinic was checked at the first interval (again after a new key:
                # key_changed), so a quiet interval stays one request.
                session.account = account
                watch = Watch(
                    session,
                    settings=watch_settings,
                    match_settings=match,
                    on_event=job.report,
                    failures=failures,
                )
                return watch.run_once(), watch.failures, session.account

        job = Job("watch", work)
        job.progressed.connect(self.on_event)
        job.succeeded.connect(self.on_interval_done)
        job.failed.connect(self.on_failed)
        ctx.workers.start(job)

    @Slot(object)
    def on_event(self, event: WatchEvent) -> None:
        """An event from the running interval."""
        if event.kind == "alarm":  # the whole text is the rate's tooltip: it ran under it here
            self.window.statusBar().showMessage(ALARM_WORD)
        elif event.kind == "offline":
            if isinstance(event.error, NETWORK_ERRORS):
                self.ctx.connectivity.note_error(event.error)
            else:
                # Cliniko limiting requests, or answering what the watch cannot use, is no
                # lost connection: say why the watch waits, in full (the status bar cuts a
                # long message at the intake figure); the sync panel notes the error too.
                minutes = max(1, round(event.report.next_in / 60))
                self.window.sync_panel.note_watch(
                    f"The watch tries again in {minutes} min: {event.message}", event.error
                )

    @Slot(object)
    def on_interval_done(self, result: tuple[IntervalReport, int, Account | None]) -> None:
        """Schedule the next interval; announce new pairs; show the intake rate."""
        report, self.failures, self.account = result
        self.timer.start(int(report.next_in * 1000))
        if self._asked:
            self._asked = False
            alarm = report.intake is not None and report.intake.alarm
            self.window.statusBar().showMessage(
                report.checked_words() + (f" {ALARM_WORD}" if alarm else "")
            )
        if not report.offline:
            self.ctx.connectivity.set_online(True)
            self.window.sync_panel.note_watch(None)
            self.window.sync_panel.note_interval(len(report.new_pairs), report.started_at)
        if report.merged_outside:  # a record ticked by mistake on Cliniko's merge page?
            panel = self.window.sync_panel
            panel.warn(panel.merged_outside_note(report.merged_outside))
        if report.intake is not None:
            self.show_intake(report.intake)
        if report.new_pairs:
            if not self.unseen:
                self.unseen_since = report.started_at
            self.unseen.extend(report.new_pairs)
            self.notify()
        if report.merges_finished:  # made on Cliniko's page with no merge window open
            self.window.statusBar().showMessage(finished_words(len(report.merges_finished)))
        if report.new_pairs or report.appointments_fetched or report.merges_finished:
            self.window.reload_queue()
        self._digest_on_new_day()
        self.interval_done.emit(report)

    @Slot(str, object)
    def on_failed(self, message: str, error: object) -> None:
        """An interval failed in a way the watch does not retry by itself (e.g. the key)."""
        self.window.sync_panel.note_watch(f"The watch stopped: {message}", error)

    # ----------------------------------------------------------------- what people see

    def notify(self) -> None:
        """The banner, and a desktop notification from the tray icon where there is one."""
        assert self.unseen_since is not None
        tz = account_time_zone(self.ctx.open_reader().db)
        message = notification_text(self.unseen, since_label(self.unseen_since, tz))
        self.banner.announce(message)
        tray = self._tray()
        if tray is not None:
            tray.notify(message)

    @Slot()
    def show_unseen(self) -> None:
        """Open the queue filtered to the pairs found since the notification's time."""
        if self.unseen_since is not None:
            self.show_new_since(self.unseen_since)
        self.unseen, self.unseen_since = [], None

    def show_new_since(self, since: datetime) -> None:
        """List only the pairs the watch found at or after ``since``."""
        keys = found_pair_keys(self.ctx.open_reader().db, utc_stamp(since))
        view = self.window.queue_view
        view.clear_filters()  # a search left in the box hid them: "Showing the 0 pairs"
        view.model.set_only(frozenset(keys))
        view.select_row(0)
        tz = account_time_zone(self.ctx.open_reader().db)
        count = view.model.row_total()
        self.banner.filtering(
            f"Showing the {count} pair{'s' if count != 1 else ''} found since "
            f"{since_label(since, tz)}."
        )
        self.reopen()

    @Slot()
    def show_all(self) -> None:
        """Leave the "New since" filter, the pair being looked at still selected (the whole
        list came back with none, and J went to its first pair), else the first pair (the
        filter had shown none: "Nothing selected. The queue is empty" beside 248 pairs)."""
        view = self.window.queue_view
        current = view.current()
        view.model.set_only(None)
        if current is not None:
            view.select_key(current.key)
        else:
            view.select_row(0)
        self.banner.unfiltered()

    @Slot()
    def ask_new_since(self) -> None:
        """Ask from when (from midnight on the clinic's clock, as the banner says times),
        then filter."""
        tz = account_time_zone(self.ctx.open_reader().db)
        dialog = NewSinceDialog(datetime.now(tz), self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.show_new_since(dialog.chosen())

    def show_intake(self, report: IntakeReport) -> None:
        """The live intake exception rate, red with the explanation when the alarm sounds."""
        self.intake_label.setText(report.status_text(INTAKE_DAYS, brief=True))
        self.intake_label.setStyleSheet(theme.error_style() if report.alarm else "")
        self.intake_label.setToolTip(
            report.alarm_text()
            or "Share of new patients that arrived as a likely duplicate of an existing record"
            f" (judged from {report.minimum} new patients on)."
        )

    def clinic_today(self) -> date:
        """Today on the clinic's clock, the day the digest and the banner speak of."""
        return datetime.now(account_time_zone(self.ctx.open_reader().db)).date()

    def digest_text(self, day_offset: int = 0) -> str:
        """The digest of today (or ``day_offset`` days before), on the clinic's clock."""
        db = self.ctx.open_reader().db
        tz = account_time_zone(db)
        day = self.clinic_today() - timedelta(days=day_offset)
        settings = self.ctx.settings
        return daily_digest(
            db,
            day,
            tz,
            threshold=settings.intake_alarm_threshold,
            minimum=settings.intake_alarm_minimum,
        ).text()

    @Slot()
    def show_digest(self) -> None:
        """Today's digest in a message box."""
        QMessageBox.information(self.window, "Today's digest", self.digest_text())

    def _digest_on_new_day(self) -> None:
        """At the first interval of a new day on the clinic's clock, yesterday's digest goes
        to the status bar."""
        today = self.clinic_today()
        if self.digest_day is None:
            self.digest_day = today
        elif today != self.digest_day:
            self.digest_day = today
            self.window.statusBar().showMessage(self.digest_text(day_offset=1))

    @Slot()
    def open_incomplete(self) -> None:
        """The list of records too thin to identify a person."""
        from desktop.ui.incomplete_dialog import IncompleteDialog

        self.incomplete_dialog = IncompleteDialog(self.ctx, self.window)
        self.incomplete_dialog.open()

    # ----------------------------------------------------------------- tray

    def _tray(self) -> tray_icon.WatchTray | None:
        """The tray icon, made the first time it is needed (None: the desktop has no tray)."""
        if self.tray is None and tray_icon.tray_available():
            self.tray = tray_icon.WatchTray(self)
            self.tray.open_requested.connect(self.reopen)
            self.tray.quit_requested.connect(self.quit)
            self.tray.message_clicked.connect(self.show_unseen)
        return self.tray

    @Slot()
    def offer_tray(self) -> None:
        """Offer "keep watching from the tray" only where the desktop has a tray; say why not."""
        available = tray_icon.tray_available()
        self.tray_action.setText(TRAY_CHOICE if available else f"{TRAY_CHOICE} (no tray here)")
        self.tray_action.setEnabled(available)
        self.tray_action.setChecked(available and self.ctx.settings.watch_in_tray)
        self.tray_action.setToolTip("" if available else tray_icon.NO_TRAY)
        self.tray_action.setStatusTip("" if available else tray_icon.NO_TRAY)

    @Slot(bool)
    def set_tray_choice(self, keep: bool) -> None:
        """Remember whether the watch goes on from the tray after the window closes."""
        if keep == self.ctx.settings.watch_in_tray or not self.tray_action.isEnabled():
            return
        self.ctx.settings.watch_in_tray = keep
        saved = load_settings(self.ctx.data_dir)  # only this choice (not e.g. the demo's pace)
        saved.watch_in_tray = keep
        save_settings(self.ctx.data_dir, saved)

    def apply_settings(self) -> None:
        """The settings dialog saved: the tray choice, the new interval from now on, and the
        intake rate judged by the new threshold and minimum at once (not at the next look,
        up to 15 minutes later)."""
        self.offer_tray()
        every_ms = int(self.ctx.settings.watch_every_minutes * 60_000)
        if self.timer.isActive() and self.timer.remainingTime() > every_ms:
            self.timer.start(every_ms)
        if self.intake_label.text() != NOT_MEASURED:  # a look measured it before
            db = self.ctx.open_reader().db
            watch = WatchSettings.from_settings(self.ctx.settings)
            self.show_intake(live_intake(db, watch, datetime.now(UTC), account_time_zone(db)))

    def hide_to_tray(self) -> bool:
        """On close: hide to the tray and keep watching, when chosen and possible."""
        if self.quitting or not self.ctx.settings.watch_in_tray:
            return False
        tray = self._tray()
        if tray is None:
            return False
        QApplication.setQuitOnLastWindowClosed(False)
        self.window.hide()
        tray.notify("MergeDesk keeps watching for new duplicates. Quit from this icon's menu.")
        return True

    @Slot()
    def reopen(self) -> None:
        """Show the window again (from the tray, minimised or behind others), maximised if it
        was (``showNormal`` made a maximised window small)."""
        minimised = Qt.WindowState.WindowMinimized
        self.window.setWindowState(self.window.windowState() & ~minimised)
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    @Slot()
    def quit(self) -> None:
        """Quit from the tray: close the window for good, and the application."""
        self.quitting = True
        if self.tray is not None:
            self.tray.remove()
        QApplication.setQuitOnLastWindowClosed(True)
        self.window.close()
        QApplication.quit()
