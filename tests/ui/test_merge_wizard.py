"""The guided merge against the simulator: full run, offline plan, resume, silent write drop."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from ui_helpers import closed_port_url, drive_to_ready, open_wizard, pick_pair

from desktop.merge import Step
from desktop.merge.plan import field_value, same_value
from desktop.simulator import FaultConfig
from desktop.ui.merge_wizard import MergeWizard


@pytest.fixture(autouse=True)
def fast_wizard(monkeypatch):
    """Poll every 100 ms and close right after DONE; record opened URLs instead of a browser."""
    monkeypatch.setattr(MergeWizard, "poll_interval_ms", 100)
    monkeypatch.setattr(MergeWizard, "done_close_ms", 50)
    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True
    )
    return opened


def apply_now(qtbot, wizard) -> str:
    """Press "Apply now" and, in the confirmation that lists the changes, "Apply these
    changes"; return the confirmation's text."""
    confirms = wizard.step is Step.READY  # "Try again" after a failed update asks no more
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # Apply now
    if not confirms:
        return ""
    box = wizard.apply_box
    assert box is not None and box.isVisible(), wizard.status.text()
    text = box.text()
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
    assert wizard.step is Step.UPDATE_SURVIVOR
    assert not fast_wizard  # the merge page was never opened
    plan = wizard.flow.plan
    assert not sim.patient(plan.duplicate_ids[0])["merged_at"]

    sim.faults = FaultConfig()  # the fault clears; trying again goes through
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)  # Try again
    qtbot.waitUntil(lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO, timeout=20_000)


def test_not_the_same_person_from_the_wizard(qtbot, desk):
    window = desk.open()
    row = pick_pair(window)
    wizard = open_wizard(qtbot, window)
    qtbot.mouseClick(wizard.not_same_button, Qt.MouseButton.LeftButton)
    assert window.wizard is None
    assert window.queue_model.find(row.key).status == "not_same"
