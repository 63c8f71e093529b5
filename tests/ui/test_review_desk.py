"""The review desk by keyboard and mouse: focus, undo, buttons, context menu, Help menu."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from desktop.store.queue import load_decisions
from desktop.store.time_log import sessions_started_between
from desktop.ui.time_tracking import SETTLE_MS


def _decision(window, key):
    return load_decisions(window.ctx.open_reader().db).get(key)


def _events(window) -> list[str]:
    db = window.ctx.open_reader().db
    return [p for (p,) in db.execute("SELECT path FROM audit_log WHERE method = 'EVENT'")]


def _key(qtbot, key) -> None:
    """Press a key where the keyboard focus is (as a person would)."""
    qtbot.keyClick(QApplication.focusWidget(), key)


def test_after_a_sync_the_letter_keys_act_on_the_queue_and_never_type(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    view.search.setFocus()  # where the old window left the keyboard after a sync
    qtbot.waitUntil(view.search.hasFocus)
    with qtbot.waitSignal(window.queue_loaded, timeout=60_000):
        qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_panel.sync_button.isEnabled(), timeout=30_000)
    first = view.current()
    _key(qtbot, Qt.Key.Key_J)
    assert view.search.text() == ""  # J did not type
    second = view.current()
    assert second.key != first.key
    assert view.table.hasFocus()
    _key(qtbot, Qt.Key.Key_K)
    assert view.current().key == first.key
    _key(qtbot, Qt.Key.Key_N)
    assert _decision(window, first.key)[0] == "not_same"
    _key(qtbot, Qt.Key.Key_L)
    assert window.queue_model.find(second.key).status == "later"
    _key(qtbot, Qt.Key.Key_S)
    assert window.wizard is not None
    window.wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)
    assert view.search.text() == ""
    assert view.table.hasFocus()


def test_escape_clears_the_search_and_returns_to_the_queue(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    total = view.proxy.rowCount()
    name = view.current().name_a.split()[-1]
    qtbot.keyClicks(view.search, name)  # typing in the search box on purpose is allowed
    assert view.search.text() == name
    assert view.proxy.rowCount() < total
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == ""
    assert view.proxy.rowCount() == total
    assert view.table.hasFocus()


def test_a_name_searched_without_its_accents_is_found(qtbot, desk, sim):
    """A copy of Isabel Martínez arrives; typing "MARTINEZ" in the search box finds the pair
    (it found nothing: the search only lower-cased what was typed)."""
    known = next(p for p in sim.patients_snapshot() if p["last_name"] == "Martínez")
    sim.add_patient({k: known[k] for k in ("first_name", "last_name", "date_of_birth")})
    window = desk.open()
    with qtbot.waitSignal(window.queue_loaded, timeout=60_000):
        qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    view, model = window.queue_view, window.queue_model
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(view.search, "MARTINEZ")
    shown = [model.row_at(i) for i in range(model.row_total())]
    assert any(known["id"] in (r.id_a, r.id_b) for r in shown), [r.name_a for r in shown]
    assert all("Martínez" in r.name_a + r.name_b for r in shown)


def test_a_message_and_the_decision_note_never_share_the_status_bar(qtbot, desk):
    """'Merged in Cliniko: 2 records are now one,Marked “Not the same person”…': an older
    message and a newer note ran into each other; the newest word is shown alone."""
    window = desk.open()
    view, bar = window.queue_view, window.statusBar()
    bar.showMessage("Merged in Cliniko: 2 records are now one, Oliver Kelly.")
    qtbot.keyClick(view.table, Qt.Key.Key_N)
    assert bar.currentMessage() == ""
    assert window.undo_bar.isVisible() and "Not the same person" in window.undo_bar.label.text()
    bar.showMessage("Offline: you can keep reviewing and planning merges.")
    assert not window.undo_bar.isVisible()
    bar.clearMessage()
    assert window.undo_bar.isVisible()  # its time is not over yet


def test_undo_of_not_the_same_by_ctrl_z_and_by_the_button(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    shown = view.proxy.rowCount()
    first = view.current()
    qtbot.keyClick(view.table, Qt.Key.Key_N)
    assert view.proxy.rowCount() == shown - 1
    assert window.undo_bar.isVisible() and "Not the same person" in window.undo_bar.label.text()

    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert view.proxy.rowCount() == shown
    assert view.current().key == first.key
    assert window.queue_model.find(first.key).status == "new"
    assert _decision(window, first.key) is None
    assert _events(window)[-2:] == [
        f"decided not_same: patients {first.id_a} {first.id_b}",
        f"undid not_same: patients {first.id_a} {first.id_b}",
    ]

    qtbot.keyClick(view.table, Qt.Key.Key_N)
    assert view.proxy.rowCount() == shown - 1
    qtbot.mouseClick(window.undo_bar.button, Qt.MouseButton.LeftButton)
    assert view.proxy.rowCount() == shown
    assert window.queue_model.find(first.key).status == "new"
    assert _events(window)[-1] == f"undid not_same: patients {first.id_a} {first.id_b}"
    assert view.table.hasFocus()
    assert not window.undo_action.isEnabled()


def test_undoing_later_says_the_pair_is_no_longer_put_off(qtbot, desk):
    """A pair put off "for later" stays in "To review": its undo does not claim it came back
    (a walk read "The pair is back in the queue" for a pair that never left)."""
    window = desk.open()
    view = window.queue_view
    shown = view.proxy.rowCount()
    first = view.current()
    qtbot.keyClick(view.table, Qt.Key.Key_L)
    assert view.proxy.rowCount() == shown
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    said = window.undo_bar.label.text()
    assert said == "Undone: “Later”. The pair is no longer put off.", said
    assert window.queue_model.find(first.key).status == "new"
    qtbot.keyClick(view.table, Qt.Key.Key_N)
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.undo_bar.label.text().endswith("The pair is back in the queue.")


def test_an_undone_not_the_same_is_not_counted_in_the_labor_summary(qtbot, desk):
    """N, Ctrl+Z, then N on the next pair: the summary counts one review ended "not the same
    person" (it counted two), and the undone pair's minutes stay, as a pair put off."""
    from desktop.config import Settings
    from desktop.labor.cost import Period
    from desktop.labor.summary import build_summary

    window = desk.open()
    view = window.queue_view
    first = view.current()
    qtbot.wait(SETTLE_MS + 100)  # the pair is looked at, so its session starts
    qtbot.keyClick(view.table, Qt.Key.Key_N)
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert view.current().key == first.key
    _key(qtbot, Qt.Key.Key_J)
    second = view.current()
    assert second.key != first.key
    qtbot.wait(SETTLE_MS + 100)
    _key(qtbot, Qt.Key.Key_N)
    assert window.queue_model.find(second.key).status == "not_same"

    summary = build_summary(window.ctx.open_reader(), Period.this_month(), Settings())
    assert summary.reviews_not_same == 1
    put_off = {tuple(c.patient_ids) for c in summary.cases if c.kind == "other"}
    assert tuple(sorted((first.id_a, first.id_b))) in put_off


def _assert_three_seconds_away_not_counted(desk, before: float) -> None:
    """The pair put off "later" lasted over three seconds, and under 1.5 of them are its."""
    [session] = [
        s
        for s in sessions_started_between(desk.cache.db, before, time.time(), include_open=True)
        if s["outcome"] == "later"
    ]
    assert session["ended_at"] - session["started_at"] > 3.0
    assert session["active_seconds"] < 1.5, session["active_seconds"]


def test_time_in_the_report_is_not_timed_as_work_on_the_open_pair(qtbot, desk):
    """A pair is open; the person opens the labor report (Ctrl+P) and works in it for a few
    seconds, closes it and puts the pair off (L). Those seconds are not the pair's: its
    session was costed with every key pressed in the report."""
    from desktop.ui.report_dialog import ReportDialog

    before = time.time()
    window = desk.open()
    view = window.queue_view
    first = view.current()
    qtbot.wait(SETTLE_MS + 100)  # the pair is looked at, so its session starts
    qtbot.keyClick(view.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), ReportDialog))
    report = QApplication.activeWindow()
    for _ in range(6):  # three seconds of reading and moving about the report
        qtbot.wait(500)
        _key(qtbot, Qt.Key.Key_Tab)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not report.isVisible())
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view.focus_queue()
    _key(qtbot, Qt.Key.Key_L)
    assert window.queue_model.find(first.key).status == "later"
    _assert_three_seconds_away_not_counted(desk, before)


def test_time_with_the_report_open_and_untouched_is_not_the_pairs(qtbot, desk):
    """The report open for a while with nothing pressed in it, closed from its title bar
    (no key), then a click back in the main window: the wait was costed to the open pair
    (a walk found 103 s of it), because a gap counts when the next input is on the pair."""
    from desktop.ui.report_dialog import ReportDialog

    before = time.time()
    window = desk.open()
    view = window.queue_view
    first = view.current()
    qtbot.wait(SETTLE_MS + 100)
    qtbot.keyClick(view.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), ReportDialog))
    report = QApplication.activeWindow()
    qtbot.wait(3000)  # reading the report, no key, no click
    report.close()  # the title bar's close button
    qtbot.waitUntil(lambda: not report.isVisible())
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.mouseClick(window.compare_view.table.viewport(), Qt.MouseButton.LeftButton)
    view.focus_queue()
    _key(qtbot, Qt.Key.Key_L)
    assert window.queue_model.find(first.key).status == "later"
    _assert_three_seconds_away_not_counted(desk, before)


def test_the_compare_view_buttons_decide(qtbot, desk):
    window = desk.open()
    view, compare = window.queue_view, window.compare_view
    first = view.current()
    assert compare.row == first
    qtbot.mouseClick(compare.buttons["later"], Qt.MouseButton.LeftButton)
    assert window.queue_model.find(first.key).status == "later"
    second = view.current()
    assert second.key != first.key and compare.row == second
    qtbot.mouseClick(compare.buttons["not_same"], Qt.MouseButton.LeftButton)
    assert _decision(window, second.key)[0] == "not_same"
    assert view.table.hasFocus()
    qtbot.mouseClick(compare.buttons["same"], Qt.MouseButton.LeftButton)
    assert window.wizard is not None
    window.wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)


def test_the_queue_context_menu_acts_on_the_pair_under_the_mouse(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    target = view.model.row_at(2)
    rect = view.table.visualRect(view.proxy.index(2, 2))
    view.table.customContextMenuRequested.emit(rect.center())
    menu = view.context_menu
    qtbot.waitExposed(menu)
    assert view.current().key == target.key
    action = view.actions_by_name["not_same"]
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    assert _decision(window, target.key)[0] == "not_same"
    view.table.customContextMenuRequested.emit(QPoint(5, 5))
    qtbot.waitExposed(menu)
    undo = window.undo_action
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(undo).center())
    assert _decision(window, target.key) is None


def test_the_help_menu_opens_shortcuts_data_folder_and_about(qtbot, desk):
    from desktop import __version__

    window = desk.open()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    texts = [a.text() for a in help_menu.actions()]
    assert texts == ["&Keyboard shortcuts", "&Where your data is…", "&About MergeDesk"]
    window.help_actions["shortcuts"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert "Not the same person" in window.help_dialog.text.text()
    window.help_dialog.reject()
    window.help_actions["data"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert str(desk.data_dir) in window.help_dialog.text.text()
    qtbot.mouseClick(window.help_dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == str(desk.data_dir)
    window.help_dialog.reject()
    window.help_actions["about"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert __version__ in window.help_dialog.text.text()
    window.help_dialog.reject()
    assert window.queue_view.table.hasFocus()


def test_the_title_names_the_clinic_and_a_long_error_wraps(qtbot, desk):
    window = desk.open()
    assert "Your clinic" not in window.windowTitle()
    assert window.ctx.title in window.windowTitle() and window.ctx.title
    screen = window.screen().availableGeometry().width()
    window.sync_panel.on_failed("Cliniko said no. " * 80, RuntimeError("x"))
    assert window.minimumSizeHint().width() < screen
    assert window.sync_panel.online_label.text() != "● Online"


def test_the_compare_view_shows_plain_values_and_ignores_formatting(qtbot):
    from desktop.ui.compare_model import CompareModel

    model = CompareModel()
    a = {
        "id": "1", "first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-03-07",
        "patient_phone_numbers": [{"number": "+61465581120", "phone_type": "Mobile"}],
        "pronouns": {"nominative": "she", "accusative": "her",
                     "predicative_possessive": "hers"},
        "address_1": "1 High St", "email": "ann@example.com",
    }  # fmt: skip
    b = dict(a, id="2", patient_phone_numbers=[{"number": "0465 581 120", "phone_type": "Mobile"}],
             pronouns=None, email="ANN@example.com", address_1=None)  # fmt: skip
    model.set_records([a, b], {})
    labels = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    assert "Address line 1" in labels and "address_1" not in labels
    cells = {
        labels[r]: [model.index(r, c).data() for c in range(2)] for r in range(model.rowCount())
    }
    assert cells["Pronouns"] == ["she/her/hers", ""]
    assert cells["Date of birth"] == ["7 Mar 1980", "7 Mar 1980"]
    assert cells["Address line 1"] == ["1 High St", ""]
    assert not any("None" in v or "{" in v for row in cells.values() for v in row)
    assert model.differing_fields() == ["Pronouns", "Address line 1"]


def test_the_match_column_tells_twins_from_parent_and_child():
    from desktop.ui.queue_model import QueueModel, QueueRow

    def row(i: int, flags: str) -> QueueRow:
        return QueueRow(f"{i}", f"{i + 9}", 0.99999, "possible", "new", flags, "[]", None,
                        "Ann Lee", "Anna Lee", "1980-01-01", "1980-01-01", "ann lee")  # fmt: skip

    model = QueueModel()
    model.set_rows([row(1, "twins"), row(2, "parent_child;household"), row(3, "")])
    shown = [model.index(r, 0).data() for r in range(3)]
    assert shown == ["> 99.9% · held: twins?", "> 99.9% · held: parent and child?", "> 99.9%"]


def test_the_match_column_says_every_rule_in_words():
    """Every look-alike rule reads as words in the Match column and its tooltip, never as the
    rule's internal name ("held: incomplete_record?")."""
    from desktop.matching.lookalike import LOOKALIKE_FLAGS
    from desktop.ui.queue_model import QueueModel, QueueRow

    def row(i: int, flag: str) -> QueueRow:
        return QueueRow(f"{i}", f"{i + 99}", 0.99999, "possible", "new", flag, "[]", None,
                        "Ann Lee", "Anna Lee", "1980-01-01", "1980-01-01", "ann lee")  # fmt: skip

    rows = [row(i, flag) for i, flag in enumerate(LOOKALIKE_FLAGS)]
    model = QueueModel()
    model.set_rows(rows)
    for r in range(model.rowCount()):
        shown = model.index(r, 0).data()
        tip = model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole)
        assert "held: " in shown and "_" not in shown and "_" not in tip, (shown, tip)
    shown = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert "> 99.9% · held: incomplete record?" in shown
    assert len(shown) == len(LOOKALIKE_FLAGS)  # no two rules read alike


def test_the_scan_line_stays_true_after_a_restart():
    from desktop.scan import ScanSummary
    from desktop.ui.sync_panel import scan_message

    nothing_new = ScanSummary("incremental", 300, 0, 0, 0, 0, 0, 0.1)
    assert scan_message(nothing_new) == "Scan done: no new pairs."
    full = ScanSummary("full", 300, 300, 900, 12, 30, 4, 1.0)
    assert scan_message(full) == "Scan done: 12 likely and 30 possible pairs."


def test_the_window_uses_the_accounts_words(qtbot, desk):
    from desktop.account import Account, remember_account, stored_account
    from desktop.store.cache import Cache

    with Cache.open(desk.path, desk.key) as cache:
        known = stored_account(cache.db)
        remember_account(cache, Account(name="Sunnyside Physio", patient_term="client",
                                        shard=known.shard if known else "au1"))  # fmt: skip
    window = desk.open()
    assert window.windowTitle() == "MergeDesk — Sunnyside Physio"
    assert "clients cached" in window.sync_panel.status_label.text()


def test_a_pair_shown_after_the_window_closed_starts_no_work_session(qtbot, desk):
    """A scan that ends as the window closes refreshes the queue late; the pair it shows must
    not start timing on a cache about to close (it once failed a later test with "Cannot
    operate on a closed database")."""
    window = desk.open()
    row = window.queue_view.current()
    assert row is not None
    window.close()
    before = time.time()
    window.queue_view.current_changed.emit(row)  # what the late refresh sends
    qtbot.wait(SETTLE_MS + 200)
    started = sessions_started_between(desk.cache.db, before, time.time() + 1, include_open=True)
    assert started == []


def test_not_the_same_on_a_pair_being_merged_or_merged_is_refused(qtbot, desk, sim):
    """N on a pair whose merge is ready to apply used to mark it "not the same" and leave its
    plan active, so "Apply all ready plans" still applied it; on a merged pair it marked the
    merged records "not the same". The queue now refuses and says how to stop a merge."""
    from ui_helpers import desk_cache, ready_plans

    from desktop.merge.batch import plans_to_apply
    from desktop.store import queue as queue_store
    from desktop.store.transaction import transaction

    with desk_cache(desk) as cache:
        ready, merged = ready_plans(cache, 2, sim)
        with transaction(cache) as db:
            queue_store.set_status(db, *merged.plan.patient_ids, "merged")
    window = desk.open()
    view = window.queue_view
    for label, flow, status, said in (
        ("Ready to apply", ready, "ready", "A merge is under way: to stop it, press S"),
        ("Merged", merged, "merged", "These records are already merged in Cliniko."),
    ):
        key = queue_store.ordered(*flow.plan.patient_ids)
        view.show_status(label)
        assert view.select_key(key)
        qtbot.keyClick(view.table, Qt.Key.Key_N)
        assert window.queue_model.find(key).status == status
        assert window.statusBar().currentMessage().startswith(said)
        assert view.current().key == key  # the selection stays on the pair
        assert not window.undo_bar.isVisible()
    assert ready.plan_id in plans_to_apply(window.ctx.open_reader())  # not closed by a key


def test_the_compare_view_says_the_day_a_record_was_made_at_the_clinic(qtbot, desk):
    """A record made in the clinic's morning is still the day before in UTC: the compare view
    said "Created" and "Last changed" as the UTC day."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from desktop.account import stored_account
    from desktop.store.patients import get_patient
    from desktop.timestamps import day_words, moment_words, parse_timestamp

    window = desk.open()
    db = window.ctx.open_reader().db
    zone = ZoneInfo(stored_account(db).time_zone)
    model, view = window.queue_model, window.queue_view

    def made(pid: str) -> datetime:
        moment = parse_timestamp(get_patient(db, pid)["created_at"])
        assert moment is not None
        return moment

    keys = [model.row_at(i).key for i in range(model.row_total())]
    key = next(k for k in keys if made(k[0]).astimezone(zone).date() != made(k[0]).date())
    assert view.select_key(key)
    compare = window.compare_view.model
    labels = [compare.headerData(r, Qt.Orientation.Vertical) for r in range(compare.rowCount())]
    created = compare.index(labels.index("Created"), 0).data()
    assert created == moment_words(made(key[0]).astimezone(zone))  # with its time of day
    assert not created.startswith(day_words(made(key[0])))


def test_hovering_a_menu_leaves_the_status_bar_message(qtbot, desk):
    """Opening a menu and moving over its items erased the status bar's message (a merge's
    "Merged in Cliniko: …", the plans that wait): an item with no tip sends an empty one."""
    from PySide6.QtGui import QStatusTipEvent

    window = desk.open()
    window.statusBar().showMessage("Merged in Cliniko: 2 records are now one, Jane Smith.")
    menu = next(a for a in window.menuBar().actions() if a.text() == "&Queue").menu()
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    menu.setActiveAction(menu.actions()[0])  # hovered: Qt sends the item's (empty) tip
    QApplication.sendEvent(window, QStatusTipEvent(""))
    menu.close()
    assert window.statusBar().currentMessage().startswith("Merged in Cliniko")
    QApplication.sendEvent(window, QStatusTipEvent("Show the pairs"))  # a real tip still shows
    assert window.statusBar().currentMessage() == "Show the pairs"


def test_the_labor_report_window_has_a_close_button(qtbot, desk):
    """A walk found no way to close the report but the title bar or Escape."""
    from desktop.ui.report_dialog import ReportDialog

    window = desk.open()
    qtbot.keyClick(window.queue_view.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), ReportDialog))
    report = QApplication.activeWindow()
    assert report.close_button.text().replace("&", "") == "Close"
    qtbot.mouseClick(report.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not report.isVisible())


def test_a_pair_shows_its_own_group_after_the_clusters_were_numbered_again(qtbot, desk):
    """After a merge a scan numbered the groups afresh while the list still held the old
    numbers: "Li Zhao and Li Zha (a group of 5 records)" showed three other people beside them,
    and S offered to merge all five."""
    from desktop.store.transaction import transaction

    window = desk.open()
    model = window.queue_model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    row = next(r for r in rows if r.cluster_id is not None)
    others = next(r for r in rows if r.cluster_id is None)  # two other people's records
    db = window.ctx.cache.db
    (stored,) = db.execute(
        "SELECT ids FROM match_clusters WHERE cluster_id = ?", [row.cluster_id]
    ).fetchone()
    own = json.loads(stored)
    assert len(own) > 2 and row.id_a in own and row.id_b in own
    with transaction(window.ctx.cache) as db:  # the next scan numbers the groups afresh
        db.execute("UPDATE match_clusters SET cluster_id = cluster_id + 1")
        db.execute("UPDATE match_pairs SET cluster_id = cluster_id + 1 WHERE cluster_id > 0")
        db.execute(
            "INSERT INTO match_clusters (cluster_id, ids, size, weakest_a, weakest_b, "
            "weakest_probability) VALUES (?, ?, 2, ?, ?, 0.99)",
            [row.cluster_id, json.dumps([others.id_a, others.id_b]), others.id_a, others.id_b],
        )
    assert window.queue_view.select_key(row.key)  # the list still holds the old number
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    assert sorted(window.compare_view.ids) == sorted(own)
    assert f"(a group of {len(own)} records)" in window.compare_view.title.text()
