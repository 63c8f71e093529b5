"""A merge left waiting on Cliniko's merge step, made in Cliniko while the app was closed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from ui_helpers import desk_cache, ready_plans

from desktop.merge import MergeFlow
from desktop.merge_states import Step
from desktop.session import Session
from desktop.store.queue import get_pair


def _merged_in_cliniko_while_closed(desk, sim) -> tuple[str, tuple[str, ...]]:
    """A plan left at "Merge in Cliniko", then merged on Cliniko's page; its id and pair."""
    with desk_cache(desk) as cache:
        [flow] = ready_plans(cache, 1, sim)
        with Session(cache, sim.api_key, base_url=sim.base_url) as session:
            while flow.step is not Step.MERGE_IN_CLINIKO:
                flow.advance(session)
    sim.merge(flow.plan.survivor_id, list(flow.plan.duplicate_ids))
    return flow.plan_id, tuple(flow.plan.patient_ids)


def test_a_merge_made_in_cliniko_while_the_app_was_closed_is_finished_by_sync(
    qtbot, desk, sim
) -> None:
    """After reopening, Sync finishes the plan and the pair is listed under Merged."""
    plan_id, ids = _merged_in_cliniko_while_closed(desk, sim)
    window = desk.open()
    panel = window.sync_panel
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000):
        qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=30_000)
    reader = window.ctx.open_reader()
    assert MergeFlow.load(reader, plan_id).step is Step.DONE
    assert (get_pair(reader.db, *ids) or {}).get("status") == "merged"


def test_the_watch_finishing_a_waiting_merge_updates_the_list_and_says_so(qtbot, desk, sim) -> None:
    """The watch finished the plan in the cache, but the list kept the pair under "To merge
    in Cliniko" (a walk then pressed Merge… and was told there was nothing to merge)."""
    _plan_id, ids = _merged_in_cliniko_while_closed(desk, sim)
    window = desk.open()
    window.queue_view.show_status("To merge in Cliniko")
    model = window.queue_model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
    action = next(a for a in window.findChildren(QAction) if "new duplicates now" in a.text())
    with qtbot.waitSignal(window.watch_desk.interval_done, timeout=30_000):
        action.trigger()
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=10_000)
    assert (
        window.statusBar()
        .currentMessage()
        .startswith("Merged in Cliniko: a merge waiting there was made")
    )
    window.queue_view.show_status("Merged")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
    assert sorted(model.row_at(0).key) == sorted(ids)
