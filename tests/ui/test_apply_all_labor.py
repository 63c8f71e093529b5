"""Apply all ready plans counts in the labor-cost summary: each plan's update, timed per pair."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_helpers import desk_cache, menu_action, pick_pair, ready_plans, unconfirmed_twins_plan

from desktop.labor.report_text import STEP_LABELS, minutes
from desktop.merge import Step
from desktop.simulator import FaultConfig
from desktop.store.queue import ordered

LATENCY_MS = 100  # every answer of the simulator; an update reads, writes, reads back
REQUESTS_PER_UPDATE = 3

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def table_line(text: str, label: str) -> list[str]:
    """The cells of the PDF table line that starts with ``label``."""
    line = next(line for line in text.splitlines() if line.strip().startswith(label))
    return re.split(r"\s{2,}", line.strip())


@needs_poppler
def test_apply_all_counts_each_update_in_the_labor_cost_summary(
    qtbot, desk, sim, tmp_path: Path
) -> None:
    with desk_cache(desk) as cache:
        planned = [flow.plan for flow in ready_plans(cache, 3, sim)]
    window = desk.open()
    pick_pair(window)  # a pair is open in the queue: its timing ends when Apply all opens
    qtbot.waitUntil(lambda: window.review_timer.current is not None, timeout=5_000)

    sim.faults = FaultConfig(latency_ms=LATENCY_MS)
    patches = iter(range(100))
    sim._api.silent_write_drop = lambda: next(patches) == 1  # the second plan's PATCH drops
    menu_action(window, "&Queue", "Apply all").trigger()
    dialog = window.apply_all_dialog
    qtbot.waitExposed(dialog)
    began = time.time()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    ran = time.time() - began
    assert [r.applied for r in dialog.results] == [True, False, True]
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    sim.faults = None

    menu_action(window, "&Reports", "Labor-cost summary").trigger()
    report = window.report_dialog
    qtbot.waitExposed(report)
    screen = report.screen_widget
    screen.save_pdf(tmp_path / "labor.pdf")
    screen.save_csv(tmp_path / "labor.csv")
    report.close()

    with (tmp_path / "labor.csv").open(encoding="utf-8-sig") as handle:
        sessions = [row for row in csv.DictReader(handle) if row["outcome"] != "total"]
    assert not [s for s in sessions if s["outcome"] == "abandoned"]
    updates = []
    for plan in planned:  # applied or not: each update is its own pair's work, planned
        [row] = [s for s in sessions if s["plan_id"] == plan.plan_id]
        assert row["patient_ids"] == " ".join(plan.patient_ids)
        assert (row["outcome"], row["kind"]) == ("planned", "planned")
        seconds = float(row["active_minutes"]) * 60
        assert seconds >= REQUESTS_PER_UPDATE * LATENCY_MS / 1000, row
        updates.append(seconds)
    assert sum(updates) <= ran  # the time each update took, not the whole run per pair

    text = pdf_text(tmp_path / "labor.pdf")
    summary = screen.summary
    [step] = [s for s in summary.steps if s.step == Step.UPDATE_SURVIVOR]
    assert step.sessions == 3 and step.minutes == pytest.approx(sum(updates) / 60, abs=1e-3)
    assert table_line(text, STEP_LABELS[Step.UPDATE_SURVIVOR])[1:] == ["3", minutes(step.minutes)]
    assert table_line(text, "Merges planned, not yet done")[1] == "3"


def test_the_window_behind_apply_all_shows_the_plans_applied_as_soon_as_they_are(
    qtbot, desk, sim
) -> None:
    """A walk read "3 planned merges ready to apply" and the three pairs listed "Ready to
    apply" behind the finished Apply all, until the dialog was closed."""
    with desk_cache(desk) as cache:
        planned = [flow.plan for flow in ready_plans(cache, 3, sim)]
    window = desk.open()
    qtbot.waitUntil(lambda: "3 planned merges ready" in window.statusBar().currentMessage())
    menu_action(window, "&Queue", "Apply all").trigger()
    dialog = window.apply_all_dialog
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)

    def shown(plan) -> str:
        row = window.queue_model.find(ordered(*plan.patient_ids))
        return row.status if row is not None else "not listed"

    qtbot.waitUntil(lambda: all(shown(p) == "in_cliniko" for p in planned), timeout=10_000)
    assert dialog.isVisible()
    said = window.statusBar().currentMessage()
    assert "ready to apply" not in said, said


def test_apply_all_says_at_once_it_leaves_a_plan_whose_answer_was_cut_off(qtbot, desk, sim) -> None:
    """A plan at the update step whose "Not the same person" MergeDesk stopped during: the
    dialog listed it as "applying it changes these fields", and applied it."""
    from desktop.merge_states import PlanNote
    from desktop.store import plans as plan_store
    from desktop.store.transaction import transaction
    from desktop.timestamps import utc_stamp

    with desk_cache(desk) as cache:
        cut_off, _ = ready_plans(cache, 2, sim)
        with transaction(cache) as db:  # the update failed, then the back-out began
            plan_store.save_plan(db, {**plan_store.get_plan(db, cut_off.plan_id),
                                      "step": Step.UPDATE_SURVIVOR})  # fmt: skip
            for note in (PlanNote.WRITING, f"{PlanNote.RESTORING}: not_same"):
                step = Step.UPDATE_SURVIVOR
                plan_store.log_step(db, cut_off.plan_id, step, step, utc_stamp(), note)
    window = desk.open()
    menu_action(window, "&Queue", "Apply all").trigger()
    dialog = window.apply_all_dialog
    qtbot.waitExposed(dialog)
    lines = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert "“Not the same person” was under way" in lines[0] and "changes these" in lines[1]
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    assert [r.applied for r in dialog.results] == [False, True]
    assert shown_where_the_line_says(qtbot, window, dialog, cut_off)


def shown_where_the_line_says(qtbot, window, dialog, flow) -> bool:
    """Close Apply all and follow its line "Open this merge (Queue > Show merges ready to
    apply)": True when the plan's pair is listed there."""
    said = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert any("Open this merge (Queue > Show merges ready to apply)" in line for line in said)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    menu_action(window, "&Queue", "ready to apply").trigger()
    return window.queue_model.row_for(ordered(*flow.plan.patient_ids)) is not None


def test_apply_all_counts_only_the_plans_it_will_apply_and_is_off_when_there_are_none(
    qtbot, desk, sim
) -> None:
    """With only a twins plan nobody confirmed, the dialog said "1 planned merge waits to be
    applied" and "Apply all" ran to "0 applied, 1 not applied" (the status bar pointed there);
    beside a plain plan it counted two."""
    with desk_cache(desk) as cache:
        flow = unconfirmed_twins_plan(cache)
    window = desk.open()
    # The status bar said "1 planned merge ready to apply (Queue > Apply all ready plans)".
    qtbot.waitUntil(
        lambda: (
            "1 planned merge waits for you to open it (Queue > Show merges ready to apply)"
            in window.statusBar().currentMessage()
        )
    )

    def open_dialog():
        menu_action(window, "&Queue", "Apply all").trigger()
        dialog = window.apply_all_dialog
        qtbot.waitExposed(dialog)
        return dialog, [dialog.list.item(i).text() for i in range(dialog.list.count())]

    dialog, lines = open_dialog()
    assert dialog.intro.text().startswith("No planned merge can be applied from here: 1 waits")
    assert len(lines) == 1 and "may belong to twins" in lines[0]
    assert not dialog.start_button.isEnabled()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    [plain] = ready_plans(window.ctx.cache, 1, sim)  # the window's own connection: it is open
    dialog, lines = open_dialog()
    assert dialog.intro.text().startswith("1 planned merge waits to be applied.")
    assert "1 more is left as listed below" in dialog.intro.text()
    assert "may belong to twins" in lines[0] and "changes these fields" in lines[1]
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    assert [(r.plan_id, r.applied) for r in dialog.results] == [
        (flow.plan_id, False),
        (plain.plan_id, True),
    ]
    assert "may belong to twins" in dialog.list.item(0).text()
    assert shown_where_the_line_says(qtbot, window, dialog, flow)


def test_apply_all_offline_stops_at_the_first_plan_and_says_offline(qtbot, desk, sim) -> None:
    """Offline, Apply all tried every plan, each failing after its own waits, and then set the
    window's dot to "● Online"."""
    from ui_helpers import closed_port_url

    with desk_cache(desk) as cache:
        ready_plans(cache, 3, sim)
    window = desk.open(base_url=closed_port_url())
    menu_action(window, "&Queue", "Apply all").trigger()
    dialog = window.apply_all_dialog
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.list.count() == 3 and "applied" in dialog.summary.text(),
                    timeout=30_000)  # fmt: skip
    lines = [dialog.list.item(i).text() for i in range(3)]
    assert "Can't reach Cliniko" in lines[0]
    assert all("Not tried: the run stopped at the plan above" in line for line in lines[1:])
    assert "0 applied" in dialog.summary.text()
    assert window.sync_panel.online_label.text() == "● Offline"
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
