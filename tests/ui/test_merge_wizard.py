"""The guided merge against the simulator: full run, offline plan, resume, silent write drop."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QDesktopServices, QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QStyle, QStyleOption
from ui_helpers import (
    apply_all_one_update_dropped,
    assert_status_fits_beside_intake,
    clipped_labels,
    closed_port_url,
    desk_cache,
    drive_to_ready,
    menu_action,
    open_apply_all,
    open_wizard,
    pick_pair,
    ready_plans,
)

from desktop.display import field_label
from desktop.merge import Step
from desktop.merge.batch import NEW_KEY_IN_USE
from desktop.merge.plan import clinical_history, field_value, same_value
from desktop.merge_states import ORDER
from desktop.simulator import FaultConfig
from desktop.simulator.linked import FIRST_DOCTOR_ID
from desktop.store.patients import get_patient, upsert_patients
from desktop.store.transaction import transaction
from desktop.ui.held_keys import HeldKeyGuard
from desktop.ui.merge_wizard import PRIMARY, STEP_TITLES, MergeWizard, progress_text


@pytest.fixture(autouse=True)
def fast_wizard(monkeypatch, sim):
    """Poll every 100 ms and close right after DONE; record opened URLs instead of a browser.

    A 100 ms poll is up to 600 requests a minute, three times Cliniko's limit: a test that
    waits on something else while the merge step polls (a watch check on a slow machine) met
    a 49 s "slow down" pause. The app polls every 3 s; the simulator's limit is lifted here."""
    monkeypatch.setattr(MergeWizard, "poll_interval_ms", 100)
    sim.rate_limit_per_minute = 100_000
    monkeypatch.setattr(MergeWizard, "done_close_ms", 50)
    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True
    )
    return opened


def apply_now_question(qtbot, wizard) -> str:
    """Press "Apply now" at READY; return the text of the confirmation that lists the changes
    (left open)."""
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # Apply now
    # An unknown history is read first: the question comes when it is.
    qtbot.waitUntil(lambda: wizard.apply_box is not None, timeout=10_000)
    assert wizard.apply_box.isVisible(), wizard.status.text()
    return wizard.apply_box.text()


def apply_now(qtbot, wizard) -> str:
    """Press "Apply now" and, in the confirmation that lists the changes, "Apply these
    changes"; return the confirmation's text."""
    if wizard.step is not Step.READY:  # "Try again" after a failed update asks no more
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
        return ""
    text = apply_now_question(qtbot, wizard)
    qtbot.mouseClick(wizard.apply_yes, Qt.MouseButton.LeftButton)
    return text


def _apply_and_merge(qtbot, window, wizard, sim, opened):
    """From READY: apply, open the merge page, merge in the simulator as a person would."""
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    plan = wizard.flow.plan
    page_text = wizard.merge_page.text.text()
    for dup in plan.duplicate_ids:
        assert f"id {dup}" in page_text
    qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
    assert opened and opened[-1].endswith(f"/patients/{plan.survivor_id}/merge")
    assert wizard.step is Step.WAIT_FOR_MERGE
    sim.merge(plan.survivor_id, list(plan.duplicate_ids))  # the person ticks and merges
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)  # finishes by itself
    return plan


def _steps_of_last_session(db, ids):
    sid, outcome, active = db.execute(
        "SELECT session_id, outcome, active_seconds FROM time_sessions "
        "WHERE pair_key = ? ORDER BY started_at DESC LIMIT 1",
        [":".join(sorted(ids))],
    ).fetchone()
    steps = dict(
        db.execute(
            "SELECT step, wall_seconds FROM time_steps WHERE session_id = ?", [sid]
        ).fetchall()
    )
    return outcome, steps, active


def test_a_full_guided_merge_ends_merged_in_cliniko_and_timed(qtbot, desk, sim, fast_wizard):
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    field, value = drive_to_ready(qtbot, wizard)
    plan = _apply_and_merge(qtbot, window, wizard, sim, fast_wizard)

    for dup in plan.duplicate_ids:
        merged = sim.patient(dup)
        assert merged["merged_at"]
        assert merged["merged_with_patient"]["links"]["self"].endswith(f"/{plan.survivor_id}")
    survivor = sim.patient(plan.survivor_id)
    for name, wanted in plan.decisions.items():
        assert same_value(name, field_value(survivor, name), wanted), name
    if field is not None:
        assert same_value(field, field_value(survivor, field), value)

    db = window.ctx.open_reader().db
    outcome, steps, _active = _steps_of_last_session(db, plan.patient_ids)
    assert outcome == "merged"
    for step in ("compare", "choose_survivor", "reconcile", "review", "ready",
                 "update_survivor", "merge_in_cliniko", "wait_for_merge"):  # fmt: skip
        assert step in steps, steps
    assert window.queue_model.find(row.key).status == "merged"
    # The Done page closed by itself; the window says what happened, and keeps saying it.
    said = window.statusBar().currentMessage()
    survivor_name = survivor["first_name"]
    assert said.startswith("Merged in Cliniko: 2 records are now one") and survivor_name in said


def test_a_merge_done_from_the_other_records_page_ends_with_the_choices_on_the_one_that_stays(
    qtbot, desk, sim, fast_wizard
):
    """On Cliniko's page of the other record the person ticked the record chosen to stay: the
    wizard waited for ever at "Merge in Cliniko", and the record that stayed in Cliniko lacked
    the values chosen for it. Now the wizard says what happened, turns to that record, writes
    the choices to it at "Try again", and finishes."""
    window, _row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    chosen = dict(plan.decisions)
    gone, stays = plan.survivor_id, plan.duplicate_ids[0]
    qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
    sim.merge(stays, [gone])  # from the other record's page
    qtbot.waitUntil(lambda: wizard.shown_step is Step.UPDATE_SURVIVOR, timeout=20_000)
    said = wizard.status.text()
    assert "merged these records the other way round" in said, said
    assert f"(id {gone}) was merged into" in said and f"(id {stays})" in said
    assert "It lacks values you chose" in said
    assert not wizard.not_same_button.isEnabled()  # merged in Cliniko: too late for that
    assert not wizard.back_button.isEnabled()
    assert "can no longer be backed out" in wizard.pages[Step.UPDATE_SURVIVOR].text.text()
    assert any(not same_value(f, field_value(sim.patient(stays), f), v) for f, v in chosen.items())
    assert wizard.primary.text() == "&Try again"
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)  # finishes by itself
    for name, wanted in chosen.items():
        assert same_value(name, field_value(sim.patient(stays), name), wanted), name
    assert window.statusBar().currentMessage().startswith("Merged in Cliniko")


def wizard_at_the_merge_step(qtbot, window):
    """The wizard on the first pair, applied and showing the "Merge in Cliniko" step."""
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    return wizard


def test_every_step_s_buttons_have_keys_of_their_own(qtbot, desk):
    """Alt and a letter presses one button: two buttons underlining the same letter (Next and
    Not the same person) made Alt+N only move the focus between them."""
    from ui_helpers import clashing_keys

    from desktop.merge import Step

    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    for expected in (Step.COMPARE, Step.CHOOSE_SURVIVOR, Step.RECONCILE, Step.REVIEW, Step.READY):
        assert wizard.step is expected, wizard.status.text()
        assert clashing_keys(wizard) == [], expected
        if expected is not Step.READY:
            qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    wizard.reject()


def test_back_online_counts_plans_to_apply_apart_from_those_waiting_for_cliniko(qtbot, desk, sim):
    """Two plans, one applied (it waits for its merge in Cliniko), one whose update did not
    stick: coming back online says 1 to apply and 1 waiting, not 2 to apply."""
    window, dialog = apply_all_one_update_dropped(qtbot, desk, sim)
    assert "1 applied" in dialog.summary.text() and "1 not applied" in dialog.summary.text()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    online = window.ctx.base_url
    window.ctx.base_url = closed_port_url()  # the network goes
    qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_panel.online_label.text() == "● Offline", timeout=30_000)
    window.ctx.base_url = online  # and comes back
    qtbot.waitUntil(lambda: window.sync_panel.sync_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_panel.online_label.text() == "● Online", timeout=30_000)
    said = window.statusBar().currentMessage()
    assert said == (
        "Back online. 1 planned merge ready to apply; 1 waits for its merge in Cliniko "
        "(both in the Queue menu)."
    )
    # Beside the intake rate, the whole message shows: it ran past it, cut off at "wai".
    assert_status_fits_beside_intake(qtbot, window, said)


def test_the_first_connection_of_a_start_is_online_not_back_online(qtbot, desk, sim):
    """Plans made offline in an earlier run are recalled at the first connection, without
    the "Back" of a connection that was lost in this run; the recall keeps count."""
    with desk_cache(desk) as cache:
        ready_plans(cache, 1, sim)
    window = desk.open()
    qtbot.waitUntil(lambda: window.sync_panel.sync_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_panel.online_label.text() == "● Online", timeout=30_000)
    said = window.statusBar().currentMessage()
    assert said.startswith("Online. 1 planned merge ready to apply"), said
    # Applied from the Queue menu: the message, still showing, counts again.
    dialog = open_apply_all(qtbot, window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.statusBar().currentMessage()
            == "Online. 1 waits for its merge in Cliniko (Queue > Show merges waiting in Cliniko)."
        ),
        timeout=10_000,
    )
    # The message says where they are: the Queue menu lists them.
    menu_action(window, "&Queue", "waiting in Cliniko").trigger()
    assert window.queue_view.status.currentText() == "To merge in Cliniko"
    qtbot.waitUntil(lambda: window.queue_view.proxy.rowCount() == 1, timeout=10_000)


def test_apply_all_with_nothing_to_apply_says_so(qtbot, desk):
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    assert dialog.intro.text().startswith("No planned merge waits to be applied:")
    assert not dialog.start_button.isEnabled()
    dialog.reject()


def test_one_ready_plan_is_said_in_the_singular(qtbot, desk, sim):
    with desk_cache(desk) as cache:
        ready_plans(cache, 1, sim)
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    assert dialog.intro.text().startswith("1 planned merge waits to be applied.")
    dialog.reject()


def test_the_survivor_choices_give_dates_as_the_rest_of_the_window_does(qtbot, desk):
    """ "born 2 May 1941, created 1 Feb 2024", as the records table says them, not
    "born 1941-05-02, created 2024-02-01"."""
    import re

    from desktop.merge import Step

    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.CHOOSE_SURVIVOR
    day = r"\d{1,2} [A-Z][a-z]{2} \d{4}"
    for button in wizard.pages[Step.CHOOSE_SURVIVOR].buttons.values():
        made = rf"{day} \d\d:\d\d"  # a time of day too, as the table now says it
        assert re.search(f"— born ({day}|not recorded), created {made}, ", button.text()), (
            button.text()
        )
    wizard.reject()


@pytest.mark.parametrize("group", [False, True], ids=["pair", "group of three"])
def test_the_choice_of_the_record_that_stays_speaks_of_the_other_records(qtbot, desk, group):
    """A group of three read "Cliniko moves the other record's appointments ... the record
    with more clinical history, then the older one" (a walk), as for a pair."""
    window = desk.open()
    pick_pair(window, lone=not group, group=group)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # "Same person — continue"
    assert wizard.step is Step.CHOOSE_SURVIVOR
    said = wizard.survivor_page.text.text()
    assert len(wizard.flow.plan.patient_ids) == (3 if group else 2)
    if group:
        assert "the other records' appointments" in said and "the most clinical history" in said
    else:
        assert "the other record's appointments" in said and "more clinical history" in said
    wizard.reject()


def test_the_record_to_keep_is_drawn_with_the_keyboard_focus_when_its_step_opens(qtbot, desk):
    """A keyboard walk: on "Choose the record that stays" no focus frame was drawn until a key
    was pressed, so nothing showed where the keyboard was. The checked record has the focus and
    its frame from the start (Fusion draws it only once the window knows the keyboard moves)."""
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    wizard.activateWindow()  # the person works in it (offscreen, the main window's turn ends)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
    qtbot.keyClick(wizard.primary, Qt.Key.Key_Return)  # "Same person — continue"
    assert wizard.step is Step.CHOOSE_SURVIVOR
    checked = wizard.survivor_page.group.checkedButton()
    qtbot.waitUntil(checked.hasFocus)  # the new buttons show once the event loop runs
    option = QStyleOption()
    option.initFrom(checked)
    assert option.state & QStyle.StateFlag.State_HasFocus
    assert option.state & QStyle.StateFlag.State_KeyboardFocusChange, "no focus frame drawn"
    framed = checked.grab().toImage()
    wizard.setAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange, False)
    assert checked.grab().toImage() != framed  # the frame is what the person sees
    wizard.reject()


def test_opening_the_merge_page_while_a_check_runs_still_starts_the_wait(
    qtbot, desk, sim, fast_wizard
):
    window = desk.open()
    wizard = wizard_at_the_merge_step(qtbot, window)
    plan = wizard.flow.plan
    sim.faults = FaultConfig(latency_ms=500)  # a slow Cliniko: the check below is still out
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # Check now
    assert wizard.busy()
    qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
    assert fast_wizard and fast_wizard[-1].endswith(f"/patients/{plan.survivor_id}/merge")
    assert wizard.step is Step.WAIT_FOR_MERGE  # the click was not lost to the running check
    sim.faults = FaultConfig()
    sim.merge(plan.survivor_id, list(plan.duplicate_ids))
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)
    outcome, steps, _active = _steps_of_last_session(window.ctx.open_reader().db, plan.patient_ids)
    assert outcome == "merged"
    assert "wait_for_merge" in steps, steps


def test_every_step_the_core_declares_has_a_page_a_button_and_a_place_on_the_line(qtbot, desk):
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    assert set(wizard.pages) == set(PRIMARY) == set(STEP_TITLES) == set(ORDER)
    line = wizard.progress_label.text()
    assert line.startswith("<b>Compare</b>") and line.endswith("Done")
    waiting = progress_text(Step.WAIT_FOR_MERGE)
    assert "<b>Merge</b>" in waiting and waiting.count("Merge") == 1  # one place, two steps


def test_a_merge_planned_offline_is_applied_later(qtbot, desk, sim, fast_wizard):
    window = desk.open(base_url=closed_port_url())
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    apply_now(qtbot, wizard)  # offline
    qtbot.waitUntil(lambda: "Can't reach Cliniko" in wizard.status.text(), timeout=20_000)
    assert wizard.step in (Step.READY, Step.UPDATE_SURVIVOR)
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert window.wizard is None
    assert window.queue_model.find(row.key).status == "ready"
    desk.close()

    window = desk.open()  # back online
    window.show_ready()
    assert window.queue_view.proxy.rowCount() == 1
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    assert wizard.step in (Step.READY, Step.UPDATE_SURVIVOR)
    plan = _apply_and_merge(qtbot, window, wizard, sim, fast_wizard)
    assert sim.patient(plan.duplicate_ids[0])["merged_at"]


def test_a_survivor_chosen_offline_is_checked_against_the_history_before_applying(
    qtbot, desk, sim, fast_wizard
):
    """Offline the history is unknown and the suggestion is the older record. Back online,
    Apply reads the history first, and the question says the record merged away has more."""
    window = desk.open(base_url=closed_port_url())
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    desk.close()
    other = plan.duplicate_ids[0]
    kept = clinical_history(sim.history_counts(plan.survivor_id))
    while clinical_history(sim.history_counts(other)) <= kept:
        sim.write_note(other)  # the record to be merged away is the one being treated
    theirs = clinical_history(sim.history_counts(other))

    window = desk.open()  # back online
    window.show_ready()
    assert window.queue_view.select_key(tuple(sorted(plan.patient_ids)))
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.READY
    said = apply_now_question(qtbot, wizard)
    assert f"(id {other}), which will be merged away, has more clinical history" in said
    assert (
        f"{theirs} items of history (appointments, treatment notes and invoices) against {kept}."
        in said
    )
    wizard.apply_box.reject()  # Cancel: nothing is written
    qtbot.waitUntil(lambda: "Nothing was changed" in wizard.status.text(), timeout=5_000)
    assert wizard.step is Step.READY


def test_the_changes_are_listed_with_the_value_each_replaces(qtbot, desk):
    """The Review step and the question before applying said "Last name: Ketmore" and not
    what it replaces in Cliniko (a walk), so nothing showed the record that stays losing
    "Johnson"."""
    from html import escape

    from desktop.display import field_label
    from desktop.merge.plan import field_value
    from desktop.ui.merge_pages import show_value

    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    field, value = drive_to_ready(qtbot, wizard)
    assert field is not None
    survivor = wizard.flow.records()[wizard.flow.plan.survivor_id]
    old, new = show_value(field, field_value(survivor, field)), show_value(field, value)
    line = f"{escape(field_label(field))}: {escape(old)} → {escape(new)}"
    assert line in wizard.pages[Step.REVIEW].text.text()
    assert line in apply_now_question(qtbot, wizard)
    wizard.apply_box.reject()


def test_the_record_picked_to_stay_is_kept_when_the_app_closes_before_next(qtbot, desk):
    """A walk picked the other record, the app died before Next, and the suggestion was
    checked again on reopening: the pick is saved when it is made, as a field's choice is."""
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> choose survivor
    assert wizard.step is Step.CHOOSE_SURVIVOR
    page = wizard.survivor_page
    suggested = wizard.flow.suggested_survivor()
    other = next(pid for pid in page.buttons if pid != suggested)
    qtbot.mouseClick(page.buttons[other], Qt.MouseButton.LeftButton)
    assert page.chosen() == other
    desk.close()  # closed (or killed) before Next

    window = desk.open()
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.CHOOSE_SURVIVOR
    assert wizard.survivor_page.chosen() == other
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> fields
    assert wizard.step is Step.RECONCILE and wizard.flow.plan.survivor_id == other
    wizard.reject()


def test_a_merge_resumes_after_the_window_is_closed_mid_way(qtbot, desk, sim, fast_wizard):
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> choose survivor
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> reconcile
    assert wizard.step is Step.RECONCILE
    survivor = wizard.flow.plan.survivor_id
    desk.close()  # the app is closed mid-way

    window = desk.open()
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.RECONCILE
    assert wizard.flow.plan.survivor_id == survivor
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> review
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> ready
    plan = _apply_and_merge(qtbot, window, wizard, sim, fast_wizard)
    assert sim.patient(plan.duplicate_ids[0])["merged_at"]


def test_a_survivor_put_back_in_cliniko_before_the_merge_is_caught(qtbot, desk, sim, fast_wizard):
    """After the update, the record that stays is put back as it was in Cliniko (someone
    edited it; a restored copy): the merge step says not to merge yet and offers Try again,
    which writes the values again (a walk merged a record without them, nothing said)."""
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    changes = wizard.flow.changes()
    assert changes, "the plan must change the surviving record"
    before = {name: plan.base_values[name] for name in changes}
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    sim.touch_patient(plan.survivor_id, **before)  # back as it was

    # The poll (in a worker) moves the plan back; the window then says why.
    qtbot.waitUntil(lambda: "do not merge in Cliniko now" in wizard.status.text(), timeout=20_000)
    assert wizard.step is Step.UPDATE_SURVIVOR
    said = wizard.status.text()
    assert all(field_label(name) in said for name in changes), said
    assert wizard.primary.text() == "&Try again"
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    survivor = sim.patient(plan.survivor_id)
    assert all(same_value(n, field_value(survivor, n), plan.decisions[n]) for n in changes)
    assert not sim.patient(plan.duplicate_ids[0])["merged_at"]
    wizard.reject()


def test_a_silent_write_drop_is_caught_and_reported(qtbot, desk, sim, fast_wizard):
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    assert wizard.flow.changes(), "the plan must change the surviving record"
    sim.faults = FaultConfig(silent_write_drop=True)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(
        lambda: "did not" in wizard.status.text() or "still had" in wizard.status.text(),
        timeout=20_000,
    )
    assert "still had other values" in wizard.status.text()
    for name in wizard.flow.changes():  # named as Cliniko's screens name them
        assert field_label(name) in wizard.status.text()
    assert wizard.step is Step.UPDATE_SURVIVOR
    # The page says which step waits, as the steps line above it does; the problem is said
    # once, in the status line.
    page = wizard.stack.currentWidget()
    assert "Update the record that stays" in page.heading.text()
    # Its words are the update's, not the Ready page's "The plan is saved. Applying it…".
    assert page.text.text().startswith("The record that stays does not have all the values")
    assert "<b>Update</b>" in wizard.progress_label.text()
    shown = [label.text() for label in page.findChildren(QLabel)]
    assert not any("still had other values" in text for text in shown)
    assert not fast_wizard  # the merge page was never opened
    plan = wizard.flow.plan
    assert not sim.patient(plan.duplicate_ids[0])["merged_at"]

    sim.faults = FaultConfig()  # the fault clears; trying again goes through
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # Try again
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)


def test_not_the_same_person_from_the_wizard(qtbot, desk):
    """It was marked at once, and neither Ctrl+Z nor Edit > Undo took it back (a walk: Tab,
    Space on "Not the same person" by a slip); N in the queue can be undone."""
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    assert window.wizard is None
    assert window.queue_model.find(row.key).status == "not_same"
    assert window.undo_bar.isVisible() and "Not the same person" in window.undo_bar.label.text()
    view = window.queue_view
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.queue_model.find(row.key).status == "new"
    assert view.current().key == row.key
    assert "Undone" in window.undo_bar.label.text()


def _pick_lookalike(window, flag: str = "twins"):
    """Select a new two-record pair flagged as ``flag`` (else any look-alike)."""
    model = window.queue_model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    rows = [r for r in rows if r.status == "new" and r.lookalike and r.cluster_id is None]
    rows.sort(key=lambda r: flag not in r.flags.split(";"))
    assert rows, "no look-alike pair in the sample clinic"
    assert window.queue_view.select_key(rows[0].key)
    return rows[0]


def _events(window, action: str) -> list[tuple[str, str, str]]:
    return (
        window.ctx.open_reader()
        .db.execute(
            "SELECT path, cliniko_user, os_user FROM audit_log WHERE method = 'EVENT' "
            "AND path LIKE ?",
            [f"{action}%"],
        )
        .fetchall()
    )


def test_a_twins_flagged_pair_warns_on_every_page_and_needs_an_audited_confirmation(
    qtbot, desk, sim, fast_wizard
):
    window = desk.open()
    row = _pick_lookalike(window)
    wizard = open_wizard(qtbot, window)
    seen = []
    for _ in range(4):  # compare, survivor, fields, review: the banner is on each page
        assert wizard.banner.isVisible(), wizard.step
        assert "look alike" in wizard.banner.text.text()
        seen.append(wizard.step)
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert seen == [Step.COMPARE, Step.CHOOSE_SURVIVOR, Step.RECONCILE, Step.REVIEW]
    assert wizard.step is Step.READY and wizard.banner.isVisible()
    assert "twins" in row.flags.split(";")  # the sample clinic has a twins pair
    assert "Possibly twins" in wizard.banner.text.text()
    assert "the same person, not twins" in wizard.banner.confirm_box.text()

    survivor_id = wizard.flow.plan.survivor_id
    before = sim.patient(survivor_id)
    assert not wizard.primary.isEnabled()  # Apply is impossible without the confirmation
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.apply_box is None and wizard.step is Step.READY
    assert "tick the confirmation" in wizard.status.text()
    assert sim.patient(survivor_id) == before
    assert not _events(window, "confirmed look-alike")

    qtbot.mouseClick(wizard.banner.confirm_box, Qt.MouseButton.LeftButton)
    assert wizard.flow.lookalike_confirmed and not wizard.banner.confirm_box.isEnabled()
    [(path, cliniko_user, os_user)] = _events(window, "confirmed look-alike")
    assert wizard.flow.plan_id in path and row.id_a in path and row.id_b in path
    assert cliniko_user and os_user
    for name in (row.name_a, row.name_b):  # ids only in the audit trail
        assert name.split()[0] not in path

    assert wizard.primary.isEnabled()
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    assert (
        wizard.banner.isVisible()
        and "recorded in the audit trail" in wizard.banner.confirm_box.text()
    )


def test_the_warning_stays_when_the_watch_scores_the_pair_while_the_merge_waits(
    qtbot, desk, fast_wizard
):
    """The person keeps the other record's birth date: applying gives it to the record that
    stays, and the watch, scoring the pair again while the merge waits in Cliniko, finds one
    person. The merge window still warns, on the merge step and after Back (it lost the
    banner there)."""
    window = desk.open()
    picked = _pick_lookalike(window, "parent_child")
    wizard = open_wizard(qtbot, window)
    for _ in range(2):  # compare, survivor
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    born = wizard.pages[Step.RECONCILE].combos["date_of_birth"]
    born.setCurrentIndex(1 - born.currentIndex())  # the other record's birth date
    for _ in range(2):  # fields, review
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.READY
    qtbot.mouseClick(wizard.banner.confirm_box, Qt.MouseButton.LeftButton)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    warned = wizard.banner.text.text()
    assert wizard.banner.isVisible() and "parent" in warned

    with qtbot.waitSignal(window.watch_desk.interval_done, timeout=30_000) as done:
        menu_action(window, "&Watch", "Check for new duplicates now").trigger()
    assert done.args[0].changed  # the record that stays was scored again
    wizard.show_step()  # what the merge step's poll does every few seconds
    assert wizard.banner.isVisible(), "the warning stays while the merge waits"
    assert wizard.banner.text.text() == warned
    with qtbot.waitSignal(window.queue_loaded, timeout=20_000):
        window.reload_queue()  # the main window's row too: still flagged, not "likely"
    row = window.queue_model.find(picked.key)
    assert row is not None and row.lookalike and row.band == picked.band, row
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.busy() and wizard.step is Step.READY, timeout=20_000)
    assert "previous values again" in wizard.status.text()
    assert wizard.banner.isVisible() and wizard.banner.text.text() == warned


def _decided_values(sim, plan) -> dict:
    survivor = sim.patient(plan.survivor_id)
    return {name: field_value(survivor, name) for name in plan.decisions}


def _same_fields(a: dict, b: dict) -> list[str]:
    return [name for name in a if not same_value(name, a[name], b[name])]


def test_apply_back_and_not_the_same_person_restores_the_survivor_in_cliniko(
    qtbot, desk, sim, fast_wizard
):
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    changes = wizard.flow.changes()
    assert changes, "the plan must change the surviving record"
    before = _decided_values(sim, plan)

    said = apply_now(qtbot, wizard)  # the confirmation names each field by its label
    assert "will change these fields" in said and "patient_phone_numbers" not in said
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    assert _same_fields(before, _decided_values(sim, plan)), "the survivor was updated"

    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)  # Back from the merge step
    qtbot.waitUntil(lambda: not wizard.busy() and wizard.step is Step.READY, timeout=20_000)
    assert wizard.stack.currentWidget() is wizard.pages[Step.READY]  # one step's page
    assert "previous values again" in wizard.status.text()
    assert _same_fields(before, _decided_values(sim, plan)) == []  # field for field
    assert _events(window, "restored survivor")
    assert not wizard.flow.needs_restore()

    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)
    assert window.queue_model.find(row.key).status == "not_same"
    assert _same_fields(before, _decided_values(sim, plan)) == []


def _at_the_merge_step(qtbot, desk):
    """A window whose first plain pair was applied through the buttons: its merge window
    shows the "Merge in Cliniko" step. Returns the window, the pair's row and the wizard."""
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    return window, row, wizard


def _third_patient(sim, plan) -> dict:
    """An active patient of the simulator outside the plan (ticked by mistake, or whose page a
    record of the plan is ticked on)."""
    planned = {plan.survivor_id, *plan.duplicate_ids}
    return next(
        p for p in sim.patients_snapshot() if p["id"] not in planned and not p["archived_at"]
    )


@pytest.mark.parametrize("ticked", ["the record to tick", "the record that stays"])
def test_a_record_merged_into_a_third_patient_can_be_backed_out_with_back(
    qtbot, desk, sim, fast_wizard, ticked
):
    """A record of the merge was ticked on a third patient's page. The record to tick: the
    merge step said so, and Back failed with the same words, as did "Not the same person", so
    the plan waited for its merge for ever. The record that stays: the merge step waited for
    ever, saying nothing. Now it is said, and Back ends the merge step (putting back what
    MergeDesk wrote to a record that stays unmerged)."""
    _window, _row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    before = dict(plan.base_values)
    third = _third_patient(sim, plan)
    merged = plan.duplicate_ids[0] if ticked == "the record to tick" else plan.survivor_id
    sim.merge(third["id"], [merged])
    qtbot.waitUntil(lambda: "cannot be made as planned" in wizard.status.text(), timeout=20_000)
    assert f"id {merged}" in wizard.status.text() and f"id {third['id']}" in wizard.status.text()
    assert wizard.back_button.isEnabled()
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.READY, timeout=20_000)
    assert "cannot be made as planned" not in wizard.status.text()  # said of the step left
    if ticked == "the record to tick":
        survivor = sim.patient(plan.survivor_id)
        for name, value in before.items():
            assert same_value(name, field_value(survivor, name), value), name
    wizard.reject()


@pytest.mark.parametrize("archived", ["the record to tick", "the record that stays"])
def test_a_record_archived_in_cliniko_while_the_merge_waits_is_said_until_unarchived(
    qtbot, desk, sim, fast_wizard, archived
):
    """A colleague archived a record of the merge in Cliniko (the old way of tidying away a
    duplicate): Cliniko's merge page no longer offers it, and the merge step waited for ever,
    saying nothing. Now it says so; unarchived in Cliniko, the words go and the merge ends."""
    window, _row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    record = plan.survivor_id if "stays" in archived else plan.duplicate_ids[0]
    qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
    sim.archive_patient(record)
    qtbot.waitUntil(lambda: "archived in Cliniko" in wizard.status.text(), timeout=20_000)
    assert f"(id {record}) was archived in Cliniko meanwhile" in wizard.status.text()
    assert "Unarchive it in Cliniko" in wizard.status.text()
    sim.archive_patient(record, archived=False)
    qtbot.waitUntil(lambda: wizard.status.text() == "", timeout=20_000)
    sim.merge(plan.survivor_id, list(plan.duplicate_ids))
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)  # finishes by itself
    assert window.statusBar().currentMessage().startswith("Merged in Cliniko")


@pytest.mark.parametrize("archived", ["the record to tick", "the record that stays"])
def test_a_record_archived_in_cliniko_before_apply_is_said_and_try_again_goes_on(
    qtbot, desk, sim, fast_wizard, archived
):
    """A record of a ready plan archived in Cliniko: Apply said the record to stay "has been
    archived or merged ... Cancel this merge"; the record to tick was said only at the merge
    step, after the values were written. Now Apply writes nothing and says what to do."""
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    record = plan.survivor_id if "stays" in archived else plan.duplicate_ids[0]
    sim.archive_patient(record)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: "archived in Cliniko" in wizard.status.text(), timeout=20_000)
    assert f"(id {record}) was archived in Cliniko meanwhile, not merged. Nothing was " in (
        wizard.status.text()
    )
    assert wizard.primary.text().replace("&", "") == "Try again"
    sim.archive_patient(record, archived=False)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    assert wizard.status.text() == ""
    wizard.reject()


def test_a_failed_look_at_cliniko_is_said_once_and_gone_when_a_look_goes_through(
    qtbot, desk, sim, fast_wizard
):
    """A look at Cliniko failed at the merge step: its words stood twice, in the page's
    waiting line and in the problem line below it (a walk); and once Cliniko answered again,
    the waiting line kept the failure's words until the merge was done."""
    from desktop.ui.merge_pages import WAITING

    _window, _row, wizard = _at_the_merge_step(qtbot, desk)
    page = wizard.merge_page
    sim.faults = FaultConfig(error_rate=1.0)  # every answer a server error
    qtbot.waitUntil(lambda: wizard.status.text() != "", timeout=30_000)
    said = wizard.status.text()
    assert page.waiting.text() == WAITING, (page.waiting.text(), said)
    sim.faults = FaultConfig()
    qtbot.waitUntil(lambda: wizard.status.text() == "", timeout=30_000)
    qtbot.waitUntil(lambda: not wizard.busy(), timeout=10_000)
    assert page.waiting.text() == WAITING
    assert wizard.flow.last_error is None
    wizard.reject()


def test_a_look_at_cliniko_that_takes_long_is_said_and_then_cleared(
    qtbot, desk, sim, fast_wizard, monkeypatch
):
    """Cliniko that does not answer (a Wi-Fi dropping packets): a look waits half a minute per
    try and tries several times, and the merge step said nothing for minutes but "Waiting for
    Cliniko to show the merge…" above a greyed "Check now" (a walk)."""
    monkeypatch.setattr(MergeWizard, "slow_after_s", 0.5)
    _window, _row, wizard = _at_the_merge_step(qtbot, desk)
    sim.faults = FaultConfig(latency_ms=2500)
    qtbot.waitUntil(lambda: "Cliniko has not answered for" in wizard.status.text(), timeout=20_000)
    assert "keeps asking for a few minutes" in wizard.status.text()
    sim.faults = FaultConfig()
    qtbot.waitUntil(lambda: wizard.status.text() == "", timeout=20_000)
    wizard.reject()


def test_not_the_same_person_after_the_record_that_stays_was_merged_elsewhere_says_so(
    qtbot, desk, sim, fast_wizard
):
    """The record chosen to stay ticked on a third patient's page, then "Not the same person":
    the window said "Nothing was merged; the old values are back in Cliniko (checked)", both
    untrue (a walk)."""
    window, _row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    third = _third_patient(sim, plan)
    sim.merge(third["id"], [plan.survivor_id])
    qtbot.waitUntil(lambda: "cannot be made as planned" in wizard.status.text(), timeout=20_000)
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)
    said = window.undo_bar.label.text()
    assert "Nothing was merged" not in said and "old values are back" not in said, said
    assert said.endswith(
        "Nothing put back: Cliniko merged the record to stay into another patient."
    )
    label = window.undo_bar.label  # it shares the status bar with Undo and the intake
    assert label.width() >= label.sizeHint().width(), (label.width(), window.width())


def test_the_merge_step_beside_the_browser_grows_to_show_a_longer_message(
    qtbot, desk, sim, fast_wizard
):
    """A group of three, one record ticked on Cliniko's merge page: the window beside the
    browser, as tall as its first words, said which record was still to tick and cut the
    numbered actions above it off mid-line (a walk)."""
    window = desk.open()
    row = pick_pair(window, lone=False, group=True)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard, change=False)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    qtbot.waitUntil(lambda: bool(wizard.windowFlags() & Qt.WindowType.WindowStaysOnTopHint))
    assert clipped_labels(wizard) == []
    plan = wizard.flow.plan
    assert len(plan.duplicate_ids) == 2, row
    sim.merge(plan.survivor_id, [plan.duplicate_ids[0]])  # one of the two ticked
    qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
    page = wizard.merge_page
    qtbot.waitUntil(lambda: "but not yet" in page.waiting.text(), timeout=20_000)
    qtbot.waitUntil(lambda: clipped_labels(wizard) == [], timeout=5_000)
    assert wizard.geometry().bottom() <= wizard.screen().availableGeometry().bottom()
    wizard.reject()


def test_a_patient_merged_in_cliniko_by_mistake_is_named_after_the_next_sync(
    qtbot, desk, sim, fast_wizard
):
    """A walk ticked another patient beside the planned one on Cliniko's merge page: the app
    said "2 records are now one" and never named the patient merged by mistake."""
    window, _row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    survivor = sim.patient(plan.survivor_id)
    stray = _third_patient(sim, plan)
    sim.merge(plan.survivor_id, [*plan.duplicate_ids, stray["id"]])
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)  # the merge is noticed
    panel = window.sync_panel
    with qtbot.waitSignal(panel.work_finished, timeout=30_000):
        qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    said = panel.rate_label.text()
    name = f"{stray['first_name']} {stray['last_name']}"
    assert said.startswith(f"Cliniko merged {name} (id {stray['id']}) into "), said
    assert f"(id {survivor['id']}), the record that stays of a merge MergeDesk planned" in said
    assert "re-create that patient in Cliniko" in said


def test_not_the_same_person_at_the_merge_step_says_what_it_did(qtbot, desk, sim, fast_wizard):
    """The merge window closed with no word: that the pair is now "not the same person" and
    that the record that stays got its old values back."""
    window, row, wizard = _at_the_merge_step(qtbot, desk)
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)
    said = window.undo_bar.label.text()  # beside its Undo button
    assert said.startswith("“Not the same person”: "), said
    assert said.endswith(". Nothing was merged; the old values are back in Cliniko (checked).")
    assert window.queue_model.find(row.key).status == "not_same"


def test_a_restore_that_does_not_stick_is_reported_and_can_be_retried(
    qtbot, desk, sim, fast_wizard
):
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    before = _decided_values(sim, plan)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)

    sim.faults = FaultConfig(silent_write_drop=True)  # the restoring PATCH answers 200, no change
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.busy(), timeout=20_000)
    assert window.wizard is wizard and wizard.isVisible()  # not closed as if it had worked
    assert "still had the new values" in wizard.status.text()
    assert wizard.flow.needs_restore() and not wizard.flow.finished
    assert _same_fields(before, _decided_values(sim, plan))  # still changed in Cliniko
    assert wizard.not_same_button.isEnabled()

    sim.faults = FaultConfig()
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)  # try again
    qtbot.waitUntil(lambda: window.wizard is None, timeout=20_000)
    assert _same_fields(before, _decided_values(sim, plan)) == []
    assert window.queue_model.find(row.key).status == "not_same"


def test_the_merge_step_offers_the_link_when_no_browser_opens(qtbot, desk, monkeypatch):
    window = desk.open()
    wizard = wizard_at_the_merge_step(qtbot, window)
    page = wizard.merge_page
    ticks = wizard.flow.instructions().duplicates
    for tick in ticks:  # named as Cliniko's list shows the row, not by id alone
        assert tick.name in page.text.text() and tick.date_of_birth in page.text.text()
    assert "<ol>" in page.text.text()
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert page.notice.isVisible() and "No web browser opened" in page.notice.text()
    assert wizard.flow.merge_url in page.link.text()
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == wizard.flow.merge_url
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)


def test_apply_all_ready_plans_from_the_queue_menu_then_merge_one_by_one(
    qtbot, desk, sim, fast_wizard
):
    with desk_cache(desk) as cache:  # three plans made offline, waiting in "Ready to apply"
        planned = [flow.plan for flow in ready_plans(cache, 3, sim)]
    patches = iter(range(100))
    sim._api.silent_write_drop = lambda: next(patches) == 1  # the second plan's PATCH drops
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    assert dialog.progress.value() == 0
    assert "3 planned merges wait to be applied" in dialog.intro.text()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    assert dialog.progress.value() == dialog.progress.maximum() == 3
    lines = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert [line[0] for line in lines] == ["✓", "✗", "✓"]
    assert "still had other values" in lines[1]
    assert "2 applied" in dialog.summary.text() and "1 not applied" in dialog.summary.text()

    qtbot.mouseClick(dialog.walk_button, Qt.MouseButton.LeftButton)
    for plan in (planned[0], planned[2]):  # the Cliniko merge pages, one after another
        qtbot.waitUntil(lambda: window.wizard is not None, timeout=10_000)
        wizard = window.wizard
        assert wizard.flow.plan_id == plan.plan_id and wizard.step is Step.MERGE_IN_CLINIKO
        qtbot.waitUntil(  # beside the browser, readable
            lambda w=wizard: bool(w.windowFlags() & Qt.WindowType.WindowStaysOnTopHint),
            timeout=5_000,
        )
        qtbot.mouseClick(wizard.merge_page.open_button, Qt.MouseButton.LeftButton)
        sim.merge(plan.survivor_id, list(plan.duplicate_ids))
        qtbot.waitUntil(lambda w=wizard: window.wizard is not w, timeout=20_000)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=5_000)
    assert all(sim.patient(p.duplicate_ids[0])["merged_at"] for p in (planned[0], planned[2]))
    assert not sim.patient(planned[1].duplicate_ids[0])["merged_at"]


def test_escape_in_a_merge_of_the_walk_stops_the_walk(qtbot, desk, sim, fast_wizard):
    """Merging one by one after Apply all, Esc on the first merge window closed it and opened
    the next: Esc now stops the walk, and the status bar says how many still wait."""
    with desk_cache(desk) as cache:
        ready_plans(cache, 2, sim)
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(dialog.walk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is not None, timeout=10_000)
    first = window.wizard
    qtbot.keyClick(first, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.wizard is not first, timeout=5_000)
    qtbot.wait(200)  # the next merge window would have opened by now
    assert window.wizard is None
    said = window.statusBar().currentMessage()
    assert said.startswith("Stopped the merges one by one: 2 still wait"), said


def test_apply_all_lists_whose_records_change_and_return_writes_nothing(qtbot, desk, sim):
    """Before applying, each plan's line names its records and the fields that change; a
    Return closes the window without writing (it was the default button: one Return
    updated three patients in Cliniko, and the list was empty until then)."""
    from desktop.display import field_label

    with desk_cache(desk) as cache:
        flows = ready_plans(cache, 2, sim)
        expected = [(f.plan, [field_label(k) for k in f.changes()]) for f in flows]
    before = {p.survivor_id: sim.patient(p.survivor_id) for p, _ in expected}
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    lines = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(lines) == 2
    for line, (plan, labels) in zip(lines, expected, strict=True):
        stays = before[plan.survivor_id]["first_name"]
        assert f"{stays} " in line.split("'s record stays")[0], line
        assert labels and line.endswith(f"; applying it changes these fields: {', '.join(labels)}.")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert {pid: sim.patient(pid) for pid in before} == before


def test_a_back_out_is_timed_with_its_own_outcome(qtbot, desk, sim, fast_wizard):
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.busy() and wizard.step is Step.READY, timeout=20_000)
    assert not wizard.windowFlags() & Qt.WindowType.WindowStaysOnTopHint  # back in place
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert window.wizard is None
    outcome, steps, _active = _steps_of_last_session(window.ctx.open_reader().db, plan.patient_ids)
    assert outcome == "restored"
    assert "restore_survivor" in steps and "merge_in_cliniko" in steps


def test_a_held_enter_presses_one_button_not_the_whole_merge(qtbot, desk):
    """Held down, Enter repeats; in a real window 2.5 s of it ran the wizard from "Compare"
    through the "Apply the changes in Cliniko?" question. Only the first press counts."""
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    first = wizard.shown_step

    def enter(repeat: bool) -> None:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            key = QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r", repeat)
            QApplication.sendEvent(wizard, key)

    for _ in range(5):
        enter(repeat=True)
    assert wizard.shown_step is first
    enter(repeat=False)
    assert wizard.shown_step is not first
    assert len(QApplication.instance().findChildren(HeldKeyGuard)) == 1  # one, however many windows


def test_the_reconcile_step_of_a_group_shows_every_other_records_value(qtbot, desk):
    """Three records of one person: where the two others disagree ("Sports club" on one, a
    blank on the other), the "Other records" column shows both values, not only the first;
    it shows every other record's value, also one that agrees with the record that stays."""
    from desktop.ui.merge_pages import show_value

    window = desk.open()
    model = window.queue_model
    row = next(
        r
        for r in (model.row_at(i) for i in range(model.rowCount()))
        if r.group_size > 2 and r.status == "new" and not r.lookalike
    )
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    for expected in (Step.COMPARE, Step.CHOOSE_SURVIVOR):
        assert wizard.step is expected
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE
    table = wizard.pages[Step.RECONCILE].table
    assert table.horizontalHeaderItem(2).text() == "Other records"
    plan, records = wizard.flow.plan, wizard.flow.records()
    assert len(plan.duplicate_ids) == 2
    survivor = records[plan.survivor_id]
    labels = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    both = 0
    for field, shown in (
        (c.field, labels[field_label(c.field)]) for c in wizard.flow.reconciliation()
    ):
        if field == "patient_phone_numbers":
            continue
        values = [field_value(records[d], field) for d in plan.duplicate_ids]
        for value in values:
            assert show_value(field, value) in shown.split(" / "), (field, shown)
        differing = [v for v in values if not same_value(field, field_value(survivor, field), v)]
        both += len({show_value(field, v) for v in differing}) == 2
    assert both, "no field where the two other records disagree: the check proves nothing"
    wizard.reject()


def _linked_pair_at_fields(qtbot, window, sim):
    """A pair whose records link a concession type and a referring doctor each, in the merge
    window at the fields step; returns the page."""
    row = pick_pair(window)
    links = {
        row.id_a: ("1100000000000000001", FIRST_DOCTOR_ID),
        row.id_b: ("1100000000000000003", FIRST_DOCTOR_ID + 1),
    }
    with transaction(window.ctx.cache) as db:  # as a sync of these records would leave them
        for pid, (concession, doctor) in links.items():
            record = get_patient(db, pid)
            record["concession_type"] = {
                "links": {"self": f"{sim.base_url}/concession_types/{concession}"}
            }
            record["referring_doctor"] = {"links": {"self": f"{sim.base_url}/contacts/{doctor}"}}
            upsert_patients(db, [record])
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> survivor
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> fields
    assert wizard.step is Step.RECONCILE
    return wizard.pages[Step.RECONCILE]


def _fields_text(page) -> str:
    """Every value the fields step shows: the records' cells and each choice's options."""
    cells = [page.table.item(r, c).text() for r in range(page.table.rowCount()) for c in (1, 2)]
    options = [combo.itemText(i) for combo in page.combos.values() for i in range(combo.count())]
    return "\n".join(cells + options)


def test_the_reconcile_step_names_concession_types_and_referring_doctors(qtbot, desk, sim):
    """The cache keeps only ids for a concession type and a referring doctor: the fields step
    asks Cliniko for their names, so the choice reads "Pensioner / Student", not two ids."""
    window = desk.open()
    page = _linked_pair_at_fields(qtbot, window, sim)

    def shown() -> str:
        return _fields_text(page)

    qtbot.waitUntil(lambda: "Pensioner" in shown(), timeout=10_000)
    text = shown()
    for name in ("Pensioner", "Student", "Dr Helen Nguyen", "Dr Mark Brennan"):
        assert name in text
    assert "1100000000000000001" not in text and str(FIRST_DOCTOR_ID) not in text
    # Every request is in the audit trail, like any other.
    db = window.ctx.open_reader().db
    qtbot.waitUntil(
        lambda: (
            db.execute(
                "SELECT count(*) FROM audit_log WHERE method = 'GET' AND path LIKE '%/contacts/%'"
            ).fetchone()[0]
            == 2
        ),
        timeout=10_000,
    )
    # The choice still writes the id Cliniko wants.
    combo = page.combos["concession_type_id"]
    assert {combo.itemData(i) for i in range(combo.count())} == {
        "1100000000000000001",
        "1100000000000000003",
    }


def test_offline_a_concession_type_or_referring_doctor_is_said_to_be_an_id(qtbot, desk, sim):
    """Offline the names cannot be read: the choice says what the number is (it read as a bare
    "1100000000000000001")."""
    window = desk.open(base_url=closed_port_url())
    page = _linked_pair_at_fields(qtbot, window, sim)
    text = _fields_text(page)
    assert "Cliniko id 1100000000000000001 (name not read from Cliniko)" in text
    assert f"Cliniko id {FIRST_DOCTOR_ID + 1} (name not read from Cliniko)" in text
    assert "\n1100000000000000001\n" not in f"\n{text}\n"


def test_a_name_of_hundreds_of_characters_leaves_the_wizard_s_buttons_on_screen(qtbot, desk):
    """A malformed record's 360-character surname is cut in the survivor choices and the
    review, so the wizard stays the width of a screen and Next stays in sight."""
    window = desk.open()
    row = pick_pair(window)
    surname = "Q" * 360
    with transaction(window.ctx.cache) as db:  # as a sync of such a record would leave it
        record = get_patient(db, row.id_a)
        record["last_name"] = surname
        upsert_patients(db, [record])
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # -> survivor
    assert wizard.step is Step.CHOOSE_SURVIVOR
    labels = [b.text() for b in wizard.pages[Step.CHOOSE_SURVIVOR].buttons.values()]
    assert any("QQQ…" in text for text in labels), labels
    assert not any(surname in text for text in labels)
    wizard.adjustSize()
    assert wizard.width() <= 1280, wizard.width()
    assert wizard.primary.isVisible()
    wizard.reject()


def test_an_applied_plan_reads_to_merge_in_cliniko_in_the_queue_not_ready_to_apply(
    qtbot, desk, fast_wizard
):
    """Once its survivor is updated, nothing is left to apply: the pair waits for the person
    to merge it in Cliniko, and the queue says so (and files it under that filter)."""
    window, row, wizard = _at_the_merge_step(qtbot, desk)
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=5_000)
    view = window.queue_view
    view.show_status("All")
    qtbot.waitUntil(lambda: view.select_key(row.key), timeout=5_000)
    status_column = window.queue_model.COLUMNS.index("Status")
    qtbot.waitUntil(
        lambda: view.current() is not None and view.current().status == "in_cliniko",
        timeout=5_000,
    )
    assert view.table.currentIndex().siblingAtColumn(status_column).data() == "To merge in Cliniko"
    view.show_status("Ready to apply")
    assert not view.select_key(row.key)
    view.show_status("To merge in Cliniko")
    assert view.select_key(row.key)


def test_the_list_follows_the_open_merge_window_and_keeps_its_pair_in_place(
    qtbot, desk, fast_wizard
):
    """With the merge window open at "Merge in Cliniko", the list still read "New" for the
    pair, and the line of plans was stale until the window closed; re-reading them then
    moved the selection and ended the pair's timing as "skipped"."""
    window, row, wizard = _at_the_merge_step(qtbot, desk)
    view = window.queue_view
    status_column = window.queue_model.COLUMNS.index("Status")
    qtbot.waitUntil(
        lambda: (
            view.table.currentIndex().siblingAtColumn(status_column).data() == "To merge in Cliniko"
        ),
        timeout=5_000,
    )
    assert view.current().key == row.key  # held in place, though "To review" lists it no more
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=5_000)
    # Closed with nothing said, though the record that stays was already updated.
    assert (
        window.statusBar()
        .currentMessage()
        .endswith(": the merge waits for you in Cliniko (Queue > Show merges waiting in Cliniko).")
    )
    assert window.queue_model.row_for(row.key) is None or not view.select_key(row.key)


def test_the_compare_page_reads_phones_by_the_clinics_country(qtbot, desk):
    """In a US clinic "(206) 555-0134" and "+1 206 555 0134" are one number: the merge
    window's compare page highlighted them as different (it read every phone as Australian,
    where the main compare view already read them by the account's country)."""
    from dataclasses import replace

    from desktop.account import remember_account, stored_account

    window = desk.open()
    row = pick_pair(window)
    desk.close()
    with desk_cache(desk) as cache:
        account = stored_account(cache.db)
        assert account is not None
        remember_account(cache, replace(account, country_code="US"))
        forms = ("(206) 555-0134", "+1 206 555 0134")
        with transaction(cache) as db:
            for pid, number in zip(row.key, forms, strict=True):
                patient = dict(get_patient(db, pid), patient_phone_numbers=[
                    {"number": number, "phone_type": "Mobile"}])  # fmt: skip
                upsert_patients(db, [patient], synced_at=patient["updated_at"])
    window = desk.open()
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    page = wizard.pages[Step.COMPARE]
    assert "Phone numbers" not in page.model.differing_fields()
    assert window.compare_view.model.differing_fields() == page.model.differing_fields()
    wizard.reject()


def test_a_group_s_records_keep_their_letters_from_the_queue_to_the_merge_window(qtbot, desk):
    """A group of three compared in the queue as "A: …, B: …, C: …" (the pair first) showed
    in the merge window's compare step in another order, so its "C" was another record."""
    window = desk.open()
    model = window.queue_model
    row = next(
        r
        for r in (model.row_at(i) for i in range(model.rowCount()))
        if r.group_size > 2
        and r.status == "new"
        and not r.lookalike
        and sorted(window.ctx.group_ids(r.id_a, r.id_b))[:2] != [r.id_a, r.id_b]
    )
    assert window.queue_view.select_key(row.key)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    compare = window.compare_view.model
    queue_letters = [
        compare.headerData(c, Qt.Orientation.Horizontal) for c in range(compare.columnCount())
    ]
    assert len(queue_letters) > 2 and queue_letters[0].startswith("A: ")
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.COMPARE
    shown = wizard.pages[Step.COMPARE].model
    merge_letters = [
        shown.headerData(c, Qt.Orientation.Horizontal) for c in range(shown.columnCount())
    ]
    assert merge_letters == queue_letters
    wizard.reject()


def test_the_queue_shows_the_name_the_merge_wrote_to_the_record_that_stays(qtbot, desk, sim):
    """After "Apply now" wrote the other record's last name onto the record that stays, the
    queue's row still showed the old name until the next scan (a walk)."""
    window = desk.open()
    model = window.queue_model
    row = next(
        r
        for r in (model.row_at(i) for i in range(model.rowCount()))
        if r.status == "new"
        and r.cluster_id is None
        and not r.lookalike
        and r.name_a.split()[-1:] != r.name_b.split()[-1:]
    )
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    for expected in (Step.COMPARE, Step.CHOOSE_SURVIVOR):
        assert wizard.step is expected
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    combo = wizard.pages[Step.RECONCILE].combos["last_name"]
    other = next(i for i in range(combo.count()) if i != combo.currentIndex())
    combo.setCurrentIndex(other)
    new_last = combo.itemData(other)
    for expected in (Step.RECONCILE, Step.REVIEW):
        assert wizard.step is expected
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    survivor = wizard.flow.plan.survivor_id
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    shown = model.find(row.key)
    name = shown.name_a if shown.id_a == survivor else shown.name_b
    assert name.endswith(new_last), (name, new_last)
    column = model.COLUMNS.index("Record A" if shown.id_a == survivor else "Record B")
    place = next(i for i in range(model.rowCount()) if model.row_at(i).key == row.key)
    assert new_last in model.data(model.index(place, column))
    wizard.reject()


def test_at_the_merge_step_the_window_leaves_room_for_cliniko_s_page(qtbot, desk, fast_wizard):
    """At the merge step the window stays on top beside the browser. The fields step's wide
    table held it at 821 x 940 pixels on a screen of 1600 x 1000, and a walk's browser opened
    wholly behind it: "Waiting for Cliniko to show the merge…" with no page in sight."""
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    qtbot.waitUntil(lambda: bool(wizard.windowFlags() & Qt.WindowType.WindowStaysOnTopHint))
    area = wizard.screen().availableGeometry()
    placed = wizard.geometry()
    assert area.contains(placed), (placed, area)
    assert placed.left() >= area.left() + area.width() * 2 // 5, (placed, area)
    assert placed.height() <= area.height() * 2 // 3, (placed, area)
    assert wizard.merge_page.open_button.isVisible()
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)  # back in its place
    qtbot.waitUntil(lambda: not wizard.busy() and wizard.step is Step.READY, timeout=20_000)
    assert wizard.width() > area.width() // 2


def test_closing_while_the_previous_values_go_back_waits_for_cliniko(qtbot, desk, sim, fast_wizard):
    """A walk pressed "Not the same person" at the merge step and Close a second later: the
    back-out was cut off, Cliniko kept the merge's values, the answer was lost, and the status
    bar said the merge waited in Cliniko."""
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    plan = wizard.flow.plan
    before = _decided_values(sim, plan)
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
    assert _same_fields(before, _decided_values(sim, plan)), "the survivor was updated"
    qtbot.waitUntil(lambda: not wizard.busy(), timeout=10_000)
    sim.faults = FaultConfig(latency_ms=700)  # a slow Cliniko: the back-out is still out
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    assert "Putting the previous values back" in wizard.status.text()
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    assert wizard.isVisible() and wizard.status.text().startswith("Closing as soon as")
    qtbot.waitUntil(lambda: window.wizard is None, timeout=30_000)
    sim.faults = FaultConfig()
    assert window.queue_model.find(row.key).status == "not_same"
    assert _same_fields(before, _decided_values(sim, plan)) == []  # the previous values


def test_not_the_same_person_pressed_while_the_merge_step_checks_cliniko_is_kept(
    qtbot, desk, sim, fast_wizard
):
    """At the merge step the window checks Cliniko every few seconds; a walk's clicks on "Not
    the same person" while a check was out were dropped without a word. The answer is noted at
    once: MergeDesk killed before the check ends lost it (reopened, the merge step read as if
    nothing had been answered, and Apply all would have written the plan's values again)."""
    from desktop.merge import MergeFlow
    from desktop.merge.batch import left_alone

    window, row, wizard = _at_the_merge_step(qtbot, desk)
    sim.faults = FaultConfig(latency_ms=700)
    qtbot.waitUntil(wizard.busy, timeout=10_000)  # a check is out
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    assert "as soon as the request under way ends" in wizard.status.text()
    assert wizard.busy()  # still out: what a kill now would leave is in the cache already
    kept = MergeFlow.load(window.ctx.cache, wizard.flow.plan_id)
    assert kept.restore_interrupted == "not_same"
    assert "Your answer “Not the same person” was under way" in (kept.problem or "")
    assert (left_alone(kept) or "").startswith("Not applied: “Not the same person” was under way")
    qtbot.waitUntil(lambda: window.wizard is None, timeout=30_000)
    sim.faults = FaultConfig()
    assert window.queue_model.find(row.key).status == "not_same"


def test_not_the_same_person_pressed_as_the_look_finds_the_merge_leaves_the_merge_standing(
    qtbot, desk, sim, fast_wizard
):
    """Merged in Cliniko, then "Not the same person" pressed while the look that finds it is
    out: the merge stands (it cannot be undone), and its Done page must not say the answer
    was under way when MergeDesk stopped (the answer's note, written at the press, did)."""
    from desktop.merge import MergeFlow

    window, row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    qtbot.waitUntil(lambda: not wizard.busy(), timeout=10_000)
    sim.faults = FaultConfig(latency_ms=700)
    sim.merge(plan.survivor_id, list(plan.duplicate_ids))
    qtbot.waitUntil(wizard.busy, timeout=10_000)  # the look that will find the merge
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=30_000)
    sim.faults = FaultConfig()
    done = MergeFlow.load(window.ctx.cache, plan.plan_id)
    assert done.outcome == "merged" and done.problem is None, done.problem
    assert window.queue_model.find(row.key) is None or (
        window.queue_model.find(row.key).status == "merged"
    )


def pages_loaded_off_the_gui_thread(monkeypatch) -> list[str]:
    """Note each compare or survivor page loaded outside the window's (GUI) thread: widgets
    touched there can crash the app in a real window."""
    from PySide6.QtCore import QThread

    from desktop.ui.merge_pages import ComparePage, SurvivorPage

    off: list[str] = []
    for page_class in (ComparePage, SurvivorPage):

        def load(self, flow, _original=page_class.load, _name=page_class.__name__):
            if QThread.currentThread() != QApplication.instance().thread():
                off.append(_name)
            return _original(self, flow)

        monkeypatch.setattr(page_class, "load", load)
    return off


def test_the_compare_step_reads_the_history_once_cliniko_answers_again(
    qtbot, desk, sim, monkeypatch
):
    """The merge window opened while Cliniko failed every request: its compare step said
    "unknown (offline)", and kept saying it once Cliniko answered again."""
    from desktop.simulator import FaultConfig
    from desktop.ui import main_window

    monkeypatch.setattr(main_window, "PROBE_INTERVAL_MS", 200)
    window = desk.open()
    row = pick_pair(window)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    with transaction(window.ctx.cache) as db:  # nothing cached for the pair yet
        db.execute("DELETE FROM history_counts WHERE patient_id IN (?, ?)", [row.id_a, row.id_b])
    sim.faults = FaultConfig(error_rate=1.0)  # every answer a server error
    wizard = open_wizard(qtbot, window)
    model = wizard.pages[Step.COMPARE].model
    qtbot.waitUntil(lambda: model.history_of(row.id_a) == "unknown (offline)", timeout=10_000)
    sim.faults = FaultConfig()
    qtbot.waitUntil(
        lambda: all(isinstance(model.history_of(pid), dict) for pid in (row.id_a, row.id_b)),
        timeout=20_000,
    )
    wizard.reject()


def test_a_history_cliniko_refused_says_why_not_fetching_for_ever(qtbot, desk):
    """Cliniko refused the merge window's history read (the key revoked meanwhile): its compare
    step said "fetching…" for ever, as the compare view said "Cliniko did not answer"."""
    from desktop.simulator import demo_api_key

    window = desk.open()
    row = pick_pair(window)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    with transaction(window.ctx.cache) as db:  # nothing cached for the pair yet
        db.execute("DELETE FROM history_counts WHERE patient_id IN (?, ?)", [row.id_a, row.id_b])
    window.ctx.api_key = demo_api_key(99)
    wizard = open_wizard(qtbot, window)
    model = wizard.pages[Step.COMPARE].model
    said = "unknown (API key refused)"
    qtbot.waitUntil(lambda: model.history_of(row.id_a) == said, timeout=20_000)
    assert model.history_of(row.id_b) == said
    wizard.reject()


def test_the_compare_step_reads_a_history_it_lacks_instead_of_saying_offline(
    qtbot, desk, monkeypatch
):
    """Online, the merge window's compare step said "unknown (offline)" for the records'
    history (a walk): what the cache lacks is read from Cliniko and shown."""
    off_thread = pages_loaded_off_the_gui_thread(monkeypatch)
    window = desk.open()
    row = pick_pair(window)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    with transaction(window.ctx.cache) as db:  # nothing cached for the pair yet
        db.execute("DELETE FROM history_counts WHERE patient_id IN (?, ?)", [row.id_a, row.id_b])
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.COMPARE
    model = wizard.pages[Step.COMPARE].model
    shown = [model.history_of(pid) for pid in (row.id_a, row.id_b)]
    assert "unknown (offline)" not in shown, shown
    qtbot.waitUntil(
        lambda: all(isinstance(model.history_of(pid), dict) for pid in (row.id_a, row.id_b)),
        timeout=10_000,
    )
    assert off_thread == []  # the page was loaded in the thread that read the history
    wizard.reject()


def test_the_history_read_after_moving_on_shows_in_the_choice_of_the_record_that_stays(
    qtbot, desk, sim, monkeypatch
):
    """Next pressed at the compare step before the records' history arrived: the choice said
    "history unknown" and suggested the older record, and went on saying so once the history
    was read (only the question before applying caught it)."""
    from desktop.merge.plan import suggest_survivor

    off_thread = pages_loaded_off_the_gui_thread(monkeypatch)
    window = desk.open()
    row = pick_pair(window)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    ids = [row.id_a, row.id_b]
    with transaction(window.ctx.cache) as db:  # nothing cached for the pair yet
        db.execute("DELETE FROM history_counts WHERE patient_id IN (?, ?)", ids)
    records = {pid: get_patient(window.ctx.cache.db, pid) for pid in ids}
    older = suggest_survivor(records)  # the suggestion while no history is known
    [newer] = [pid for pid in ids if pid != older]
    while clinical_history(sim.history_counts(newer)) <= clinical_history(
        sim.history_counts(older)
    ):
        sim.write_note(newer)
    sim.faults = FaultConfig(latency_ms=600)  # the history takes a while to read
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.CHOOSE_SURVIVOR
    page = wizard.survivor_page
    assert page.chosen() == older and "history unknown" in page.buttons[older].text()
    assert page.isAncestorOf(wizard.focusWidget())
    qtbot.waitUntil(lambda: " of history" in page.buttons[newer].text(), timeout=20_000)
    sim.faults = None
    assert page.chosen() == newer and "★ suggested" in page.buttons[newer].text()
    assert "the suggestion is now the record with more" in wizard.status.text()
    assert wizard.focusWidget() is page.buttons[newer]  # the arrow keys still choose
    assert off_thread == []
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE and wizard.flow.plan.survivor_id == newer
    wizard.reject()


def test_names_the_other_way_round_are_pointed_out_at_the_fields_step(qtbot, desk):
    """ "Deborah Luo" and "Luo Deborah": the default keeps the order of the record that stays,
    which may be the wrong one, so the fields step says to check it, whichever record stays;
    a pair whose names agree gets no such line."""
    window = desk.open()
    model = window.queue_model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    row = next(r for r in rows if r.name_a.split() == r.name_b.split()[::-1] and " " in r.name_a)
    assert window.queue_view.select_key(row.key)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    page = wizard.survivor_page
    stays = page.chosen()
    [goes] = [pid for pid in row.key if pid != stays]
    names = {row.id_a: row.name_a, row.id_b: row.name_b}
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE
    note = wizard.pages[Step.RECONCILE].names_note
    assert note.isVisible()
    said = f"“{names[stays]}” (the record that stays) and “{names[goes]}” have first and last"
    assert said in note.text()

    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)  # the other one stays
    page.buttons[goes].click()
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE and wizard.flow.plan.survivor_id == goes
    assert note.isVisible() and f"“{names[goes]}” (the record that stays) and" in note.text()
    wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)

    row = pick_pair(window)
    assert row.name_a.split() != row.name_b.split()[::-1]
    wizard = open_wizard(qtbot, window)
    for _ in range(2):
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE
    assert not wizard.pages[Step.RECONCILE].names_note.isVisible()
    wizard.reject()


def test_a_merge_reopened_at_the_choice_opens_on_the_history_read_since(qtbot, desk):
    """Closed at the choice of the record that stays while the history was unknown, then
    reopened once the queue had read it: the older record was still checked, the "★
    suggested" beside the other."""
    from desktop.merge.plan import suggest_survivor
    from desktop.store.history_counts import save_counts
    from desktop.timestamps import utc_stamp

    window = desk.open()
    row = pick_pair(window)
    qtbot.waitUntil(lambda: window.compare_view.row == row)
    ids = [row.id_a, row.id_b]
    with transaction(window.ctx.cache) as db:
        db.execute("DELETE FROM history_counts WHERE patient_id IN (?, ?)", ids)
    older = suggest_survivor({pid: get_patient(window.ctx.cache.db, pid) for pid in ids})
    [newer] = [pid for pid in ids if pid != older]
    window.ctx.connectivity.set_online(False)  # offline: the history is not read
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.CHOOSE_SURVIVOR and wizard.survivor_page.chosen() == older
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None)
    window.ctx.connectivity.set_online(True)
    richer = {"appointments": 30, "treatment_notes": 30, "invoices": 30, "attachments": 0}
    with transaction(window.ctx.cache) as db:  # read meanwhile, for the pair on show
        save_counts(db, {older: {**richer, "appointments": 1}, newer: richer}, utc_stamp())
    wizard = open_wizard(qtbot, window)
    assert wizard.step is Step.CHOOSE_SURVIVOR
    page = wizard.survivor_page
    assert page.chosen() == newer and "★ suggested" in page.buttons[newer].text()
    assert wizard.flow.plan.survivor_id == newer
    wizard.reject()


def test_an_update_cut_off_by_a_kill_is_explained_without_a_missing_line(qtbot, desk, sim):
    """After a kill during "Apply now", the reopened update step said "the line below says
    why" above no line, and that the record lacked values Cliniko already had (a walk)."""
    from desktop.merge import MergeFlow
    from desktop.store import plans as plan_store

    with desk_cache(desk) as cache:
        (flow,) = ready_plans(cache, 1, sim)
        with transaction(cache) as db:  # what a kill between the step's start and its end leaves
            flow.state.step = Step.UPDATE_SURVIVOR
            plan_store.save_plan(db, flow.state.to_row())
        ids = list(flow.plan.patient_ids)
        assert MergeFlow.load(cache, flow.plan_id).last_error is None
    window = desk.open()
    window.queue_view.show_status("All")
    assert window.queue_view.select_key(tuple(ids))
    wizard = open_wizard(qtbot, window)  # the pair's merge, resumed where it stopped
    assert wizard.step is Step.UPDATE_SURVIVOR
    said = wizard.pages[Step.UPDATE_SURVIVOR].text.text()
    assert "line below" not in said and "did not finish" in said, said
    assert wizard.primary.text().replace("&", "") == "Try again"
    wizard.reject()


def test_quit_keys_in_the_merge_window_quit_as_in_the_main_window(qtbot, desk) -> None:
    """The merge window held the keys: a walk's Ctrl+Q did nothing, without a word."""
    window = desk.open()
    # Ctrl+Q is the platform's Quit on Linux and macOS; this test platform has none.
    window.quit_action.setShortcut("Ctrl+Q")
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5_000)
    qtbot.keyClick(wizard.focusWidget(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible() and window.wizard is None, timeout=5_000)
    assert not wizard.isVisible()


@pytest.mark.parametrize("put_back", [True, False])
def test_a_not_the_same_answer_cut_off_by_a_kill_is_said_and_ended_with_its_button(
    qtbot, desk, sim, fast_wizard, monkeypatch, put_back
):
    """A kill between the back-out's PATCH and its commit: reopened, the merge window read as
    if someone had changed the record in Cliniko, and the answer was gone without a word. A
    kill before its PATCH (``put_back`` False) left the merge step's instructions alone."""
    from desktop.cliniko.client import ClinikoClient
    from desktop.merge import executor
    from desktop.merge_states import PlanNote
    from desktop.store import plans as plan_store
    from desktop.timestamps import utc_stamp

    window, row, wizard = _at_the_merge_step(qtbot, desk)
    plan = wizard.flow.plan
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None)
    window.activateWindow()  # as the window manager does when the merge window closes
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    # What "Not the same person" leaves when a kill comes after its PATCH: the note written
    # ahead of it, and the previous values back in Cliniko; nothing else committed.
    with transaction(window.ctx.cache) as db:
        note = f"{PlanNote.RESTORING}: not_same"
        step = Step.MERGE_IN_CLINIKO
        plan_store.log_step(db, plan.plan_id, step, step, utc_stamp(), note)
    if put_back:
        with ClinikoClient(sim.api_key, base_url=sim.base_url) as client:
            assert executor.restore_survivor(client, plan).restored_fields

    window.queue_view.show_status("All")
    assert window.queue_view.select_key(row.key)
    # Reopened, the merge step looks at once: no merge instructions for a poll's interval.
    monkeypatch.setattr(MergeWizard, "poll_interval_ms", 60_000)
    wizard = open_wizard(qtbot, window)
    if put_back:
        qtbot.waitUntil(lambda: wizard.shown_step is Step.UPDATE_SURVIVOR, timeout=10_000)
        said = wizard.status.text()
    else:  # the merge may go on: its instructions stay, and the answer is said under them
        waiting = wizard.pages[Step.MERGE_IN_CLINIKO].waiting
        qtbot.waitUntil(lambda: "under way" in waiting.text(), timeout=10_000)
        assert wizard.shown_step is Step.MERGE_IN_CLINIKO
        said = waiting.text()
        assert "None of them is back" in said
    assert "“Not the same person” was under way" in said and "changed in Cliniko" not in said
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None, timeout=10_000)
    assert window.queue_model.find(row.key).status == "not_same"
    for name, before in plan.base_values.items():
        assert same_value(name, field_value(sim.patient(plan.survivor_id), name), before), name


def test_back_pressed_while_the_merge_step_looks_at_cliniko_goes_back_when_the_look_ends(
    qtbot, desk, sim, fast_wizard
):
    """With Cliniko slow, the merge step's look at it ran most of the time and Back was greyed
    out through it: a press went nowhere (a test's Back was lost this way now and then)."""
    from desktop.merge import MergeFlow

    _window, _row, wizard = _at_the_merge_step(qtbot, desk)
    sim.faults = FaultConfig(latency_ms=400)  # each look: two reads of 0.4 s
    qtbot.waitUntil(wizard.busy, timeout=5_000)
    assert wizard.back_button.isEnabled()
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    assert "as soon as the check under way ends" in wizard.status.text()
    assert wizard.busy()  # still looking: Back is noted at once, for a kill before it ends
    kept = MergeFlow.load(wizard.ctx.cache, wizard.flow.plan_id)
    assert kept.restore_interrupted == "back"
    qtbot.waitUntil(lambda: not wizard.busy() and wizard.step is Step.READY, timeout=20_000)
    assert "previous values again" in wizard.status.text()
    assert wizard.flow.restore_interrupted is None  # the back-out ended


def test_a_key_refused_at_apply_says_close_first_and_the_merge_goes_on_with_a_new_key(
    qtbot, desk, sim
):
    """A walk: the key was revoked while a plan waited; "Apply now" said to paste a new key in
    File > Change Cliniko API key…, a menu this window keeps from use. The plan opened again
    says so too, until a new key is in: then it says the merge can go on."""
    from desktop.simulator import demo_api_key

    close_first = (
        "Close this window first: the merge keeps its place and goes on from there with the "
        "new key."
    )
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    drive_to_ready(qtbot, wizard)
    window.ctx.api_key = demo_api_key(99)  # revoked in Cliniko meanwhile
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: "did not accept this API key" in wizard.status.text(), timeout=20_000)
    assert wizard.status.text().endswith(close_first)
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None)

    def reopen() -> MergeWizard:
        menu_action(window, "&Queue", "ready to apply").trigger()  # where the plan waits
        assert window.queue_view.select_key(row.key)
        window.activateWindow()  # as the window manager does once a dialog has closed
        qtbot.waitUntil(window.isActiveWindow)
        return open_wizard(qtbot, window)

    wizard = reopen()  # the last try's words, saved with the plan
    assert "did not accept this API key" in wizard.status.text()
    assert wizard.status.text().endswith(close_first)
    qtbot.mouseClick(wizard.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is None)

    menu_action(window, "&File", "Change Cliniko API").trigger()
    dialog = window.key_dialog
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.sync_panel.sync_finished, timeout=30_000):  # with the new key
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.sync_panel.sync_button.isEnabled, timeout=30_000)

    wizard = reopen()
    assert wizard.status.text() == NEW_KEY_IN_USE  # nothing to paste: the words say so
    assert wizard.status.styleSheet() == ""  # and they are news, not shown as an error
    apply_now(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)
