"""Sync from the main window: progress, then a scan fills the queue; cancel keeps what came."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from ui_helpers import closed_port_url

from desktop.reconcile import LAST_AT
from desktop.simulator import FaultConfig
from desktop.store.patients import count_patients, get_patient
from desktop.store.sync_state import set_state


def test_a_sync_shows_progress_then_scans_and_fills_the_queue(qtbot, empty_desk):
    window = empty_desk.open()
    panel = window.sync_panel
    seen: list[int] = []
    panel.progress.valueChanged.connect(seen.append)
    titles: list[str] = []  # the window's title as each page of the first download arrives
    panel.progress.valueChanged.connect(lambda _value: titles.append(window.windowTitle()))
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert not result.cancelled and result.patients_written == 300
    assert seen and max(seen) == 300
    # The clinic's name from the first page on ("Your clinic" stood there till the end).
    assert len(titles) >= 3 and "Your clinic" not in titles[2], titles
    assert "patients/s" in panel.rate_label.text() or "Scanning" in panel.rate_label.text()
    qtbot.waitUntil(lambda: window.queue_model.rowCount() > 0, timeout=30_000)
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "300 patients cached" in panel.status_label.text()
    assert panel.online_label.text() == "● Online"
    assert window.queue_view.current() is not None


def test_a_sync_can_be_cancelled_and_keeps_what_was_downloaded(qtbot, empty_desk, sim):
    sim.faults = FaultConfig(latency_ms=300)
    window = empty_desk.open()
    panel = window.sync_panel
    panel.start_sync()
    qtbot.waitUntil(lambda: panel.progress.value() >= 100, timeout=30_000)
    assert panel.cancel_button.isVisible()
    # The bar is as wide as its words: a 100k clinic's "14% (14,000 of 100,001)" was cut into
    # two half lines in a real window.
    bar = panel.progress
    assert "of 300" in bar.text()
    assert panel.status_label.text() == "Syncing with Cliniko…"  # not "0 patients cached"
    assert bar.width() >= bar.fontMetrics().horizontalAdvance(bar.text()) + 16
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].cancelled
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=10_000)
    assert "cancelled" in panel.rate_label.text()
    assert "patients cached" in panel.status_label.text()
    kept = count_patients(window.ctx.open_reader().db)
    assert 100 <= kept < 300


def test_cliniko_failing_is_not_shown_as_this_computer_being_offline(qtbot, desk, sim):
    """A spell of server errors (Cliniko down for maintenance) showed "● Offline", as if this
    computer's connection had gone (a walk on a hostile server)."""
    from desktop.simulator import FaultConfig

    window = desk.open()
    panel = window.sync_panel
    sim.faults = FaultConfig(error_rate=1.0)  # every answer a server error
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.online_label.text() == "● Cliniko not answering", timeout=30_000)
    assert "keep reviewing and planning merges" in panel.online_label.toolTip()
    assert window.statusBar().currentMessage().startswith("Cliniko is not answering: ")
    qtbot.waitUntil(panel.sync_button.isEnabled, timeout=30_000)
    window.ctx.base_url = closed_port_url()  # and now this computer's connection goes
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.online_label.text() == "● Offline", timeout=30_000)
    assert window.statusBar().currentMessage().startswith("Offline: ")


def test_offline_is_shown_in_plain_words(qtbot, empty_desk):
    window = empty_desk.open(base_url=closed_port_url())
    panel = window.sync_panel
    panel.start_sync()
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "Can't reach Cliniko" in panel.rate_label.text()
    assert panel.online_label.text() == "● Offline"


def test_a_first_download_stopped_by_a_lost_connection_goes_on_by_itself(qtbot, empty_desk, sim):
    """The first download stopped offline: the window said "last sync: never" beside an
    empty queue, nothing said the download was unfinished, and it waited for Sync."""
    window = empty_desk.open(base_url=closed_port_url())
    panel = window.sync_panel
    panel.start_sync()
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "is not finished: it goes on by itself" in panel.rate_label.text()
    assert panel.resume_timer.isActive()
    # Cliniko seems back (another call answered): the download goes on at once; failing
    # again, it waits its minute again (not a loop of attempts).
    with qtbot.waitSignal(panel.work_finished, timeout=30_000):
        window.ctx.connectivity.set_online(True)
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert panel.resume_timer.remainingTime() > 30_000
    window.ctx.base_url = sim.base_url  # the connection is back
    panel.resume_timer.start(50)
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000) as blocker:
        pass
    assert blocker.args[0].mode == "full" and not blocker.args[0].cancelled
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "300 patients cached · last sync: " in panel.status_label.text()
    assert "never" not in panel.status_label.text()


def test_records_kept_aside_by_a_sync_are_shown_by_id(qtbot, empty_desk):
    from hostile_server import HostileServer, patient

    records = [patient(i) for i in range(1, 6)]
    records.insert(1, patient(902, patient_phone_numbers=5))
    with HostileServer(records) as server:
        window = empty_desk.open(base_url=server.base_url)
        panel = window.sync_panel
        with qtbot.waitSignal(panel.sync_finished, timeout=30_000) as blocker:
            qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0].patients_written == 5
        qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "5 patients cached" in panel.status_label.text()
    assert "1 kept aside" in panel.status_label.text()
    assert "kept aside: patient 902" in panel.status_label.toolTip()


def test_a_list_that_ends_before_its_count_is_said_after_the_scan(qtbot, empty_desk):
    """The window said the sync and scan were done with a fifth of the patients missing."""
    from hostile_server import HostileServer

    with HostileServer() as server:
        server.trick = "ends_early"
        window = empty_desk.open(base_url=server.base_url)
        panel = window.sync_panel
        with qtbot.waitSignal(panel.work_finished, timeout=30_000):
            qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
        qtbot.waitUntil(lambda: "may be missing" in panel.rate_label.text(), timeout=30_000)
    assert panel.rate_label.text().startswith(
        "Cliniko said it holds 10 patients, but its list ended after 8"
    )


def test_a_refused_key_is_a_problem_not_online(qtbot, empty_desk):
    empty_desk.api_key = "MS0xLWRlbW8tc2ltdWxhdG9yWRONG-au1"
    window = empty_desk.open()
    panel = window.sync_panel
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "did not accept this API key" in panel.rate_label.text()
    assert panel.online_label.text() == "● Problem"
    assert "did not accept" in panel.online_label.toolTip()


def _sync_by_button(qtbot, panel):
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    return blocker.args[0]


def test_the_sync_button_compares_with_cliniko_as_often_as_the_setting_says(qtbot, empty_desk, sim):
    window = empty_desk.open()
    panel = window.sync_panel
    _sync_by_button(qtbot, panel)  # the first, full sync: the cache matches Cliniko
    target = sim.patients_snapshot()[3]["id"]
    sim.drift_patient(target, first_name="Quietly")  # Cliniko's updated_at stays the same
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with window.ctx.cache.lock:  # as a transaction would, between the workers' writes
        set_state(window.ctx.cache.db, LAST_AT, two_days_ago.strftime("%Y-%m-%dT%H:%M:%SZ"))

    window.ctx.settings = replace(window.ctx.settings, reconcile_every_days=0)  # off
    assert _sync_by_button(qtbot, panel).reconciliation is None
    window.ctx.settings = replace(window.ctx.settings, reconcile_every_days=1)
    result = _sync_by_button(qtbot, panel)

    assert result.reconciliation is not None, "two days old: due by a one-day setting"
    assert result.reconciliation.drifted == [target]
    assert get_patient(window.ctx.open_reader().db, target)["first_name"] == "Quietly"


def test_sync_pressed_the_moment_a_scan_ends_starts_a_sync(qtbot, empty_desk, sim):
    """The Sync button comes back when the scan's result arrives; pressed at once, it syncs
    (it did nothing while the scan's thread was still ending)."""
    window = empty_desk.open()
    panel = window.sync_panel
    pressed: list[bool] = []

    def press_when_idle() -> None:
        if not pressed:
            pressed.append(panel.sync_button.isEnabled())
            qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)

    synced: list[object] = []
    panel.sync_finished.connect(synced.append)
    panel.work_finished.connect(press_when_idle)
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)  # a sync, then its scan
    qtbot.waitUntil(lambda: len(synced) == 2, timeout=30_000)  # the press made the second
    assert pressed == [True]


def test_the_lost_connection_message_goes_when_cliniko_answers_again(qtbot, desk, sim):
    """A walk saw "Can't reach Cliniko…" in red beside "● Online" while the history, the
    update and the merge all worked; only a manual Sync cleared it."""
    window = desk.open(base_url=closed_port_url())
    panel = window.sync_panel
    panel.start_sync()
    qtbot.waitUntil(lambda: panel.sync_button.isEnabled(), timeout=30_000)
    assert "Can't reach Cliniko" in panel.rate_label.text()
    window.ctx.base_url = sim.base_url  # the connection is back
    action = next(a for a in window.findChildren(QAction) if "new duplicates now" in a.text())
    with qtbot.waitSignal(window.watch_desk.interval_done, timeout=30_000):
        action.trigger()
    assert panel.online_label.text() == "● Online"
    assert "Can't reach Cliniko" not in panel.rate_label.text()


def test_a_connection_lost_mid_download_is_said_while_the_client_retries(qtbot, empty_desk, sim):
    """The dot said "● Online" beside "Syncing…" for the 20-35 s of the client's retries
    after the connection dropped; it says so at the first failed request now."""
    sim.faults = FaultConfig(latency_ms=200)
    window = empty_desk.open()
    panel = window.sync_panel
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.value() >= 100, timeout=30_000)
    sim.faults = FaultConfig(drop_rate=1.0)  # every request dropped, no answer
    qtbot.waitUntil(lambda: panel.online_label.text() == "● Reconnecting…", timeout=5_000)
    assert panel.rate_label.text().startswith("Cliniko stopped answering: trying again…")
    assert panel.cancel_button.isVisible()  # the sync goes on
    sim.faults = FaultConfig()  # back
    with qtbot.waitSignal(panel.sync_finished, timeout=60_000) as blocker:
        pass
    assert not blocker.args[0].cancelled
    assert panel.online_label.text() == "● Online"
    assert count_patients(window.ctx.open_reader().db) == 300
