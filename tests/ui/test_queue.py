"""The merge queue: the models pass the model tester; the queue is worked by keyboard."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.scan import run_scan
from desktop.store import Cache, transaction, upsert_patients
from desktop.ui import queue_view
from desktop.ui.compare_model import CompareModel, EvidenceModel
from desktop.ui.queue_model import QueueFilter, QueueModel, QueueRow, load_rows


def _rows(n: int) -> list[QueueRow]:
    return [
        QueueRow(
            f"{i:05d}",
            f"{i + 50000:05d}",
            1 - i / (n + 1),
            "likely" if i % 3 else "possible",
            ("new", "later", "not_same", "ready")[i % 4],
            "twins" if i % 7 == 0 else "",
            '["Same surname and address, different first names"]' if i % 7 == 0 else "[]",
            None,
            f"Ann {i}",
            f"Anne {i}",
            "1980-01-01",
            "1980-01-01",
            f"ann {i}\nanne {i}",
        )
        for i in range(n)
    ]


def test_the_queue_models_pass_the_model_tester(qtmodeltester):
    model = QueueModel()
    model.set_rows(_rows(200))
    qtmodeltester.check(model)
    proxy = QueueFilter()
    proxy.setSourceModel(model)
    proxy.set_search("ann 1")
    qtmodeltester.check(proxy)
    model.set_status(model.row_at(3).key, "not_same")


def test_the_compare_and_evidence_models_pass_the_model_tester(qtmodeltester, desk):
    window = desk.open()
    row = window.queue_view.current()
    assert row is not None
    compare = CompareModel()
    ctx = window.ctx
    compare.set_records([ctx.patient(row.id_a), ctx.patient(row.id_b)], {})
    qtmodeltester.check(compare)
    evidence = EvidenceModel()
    evidence.set_evidence(ctx.pair_details(row.id_a, row.id_b)["evidence"])
    assert evidence.rowCount() > 0
    qtmodeltester.check(evidence)


def test_filters_by_band_status_and_name():
    model = QueueModel()
    model.set_rows(_rows(40))
    proxy = QueueFilter()
    proxy.setSourceModel(model)
    everything_to_review = proxy.rowCount()
    assert everything_to_review == sum(1 for r in _rows(40) if r.status in ("new", "later"))
    proxy.set_bands(["possible"])
    assert all(model.row_at(proxy.mapToSource(proxy.index(i, 0)).row()).band == "possible"
               for i in range(proxy.rowCount()))  # fmt: skip
    proxy.set_bands(None)
    proxy.set_statuses(["ready"])
    assert proxy.rowCount() == 10
    proxy.set_statuses(None)
    proxy.set_search("ANNE 12")
    assert proxy.rowCount() == 1


def test_working_the_queue_by_keyboard(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    table = view.table
    table.setFocus()
    assert "N</b> not the same person" in view.hint_bar.text()
    assert "(N)" in view.actions_by_name["not_same"].toolTip()
    first = view.current()
    assert first is not None
    assert window.compare_view.row == first
    qtbot.keyClick(table, Qt.Key.Key_J)
    second = view.current()
    assert second is not None and second.key != first.key
    qtbot.keyClick(table, Qt.Key.Key_K)
    assert view.current().key == first.key
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert view.current().key == second.key
    qtbot.keyClick(table, Qt.Key.Key_Up)

    # "not the same person": written, timed, and the pair leaves the to-review list
    shown = view.proxy.rowCount()
    qtbot.keyClick(table, Qt.Key.Key_N)
    assert view.proxy.rowCount() == shown - 1
    assert view.current().key == second.key
    db = window.ctx.open_reader().db
    assert db.execute(
        "SELECT decision FROM match_decisions WHERE id_a = ? AND id_b = ?", list(first.key)
    ).fetchone() == ("not_same",)
    assert db.execute(
        "SELECT outcome FROM time_sessions WHERE pair_key LIKE ? AND pair_key LIKE ? "
        "ORDER BY started_at DESC",
        [f"%{first.id_a}%", f"%{first.id_b}%"],
    ).fetchone() == ("not_same",)

    # "later": stays in the to-review list, the cursor moves on
    qtbot.keyClick(table, Qt.Key.Key_L)
    assert window.queue_model.find(second.key).status == "later"
    assert view.current().key != second.key

    # the status filter shows decided pairs again
    view.show_status("Not the same person")
    assert view.proxy.rowCount() == 1

    # search by name
    view.show_status("All")
    target = window.queue_model.row_at(5)
    view.search.setText(target.name_b.upper())
    assert 0 < view.proxy.rowCount() < window.queue_model.total()
    assert any(view.model.row_at(i).key == target.key for i in range(view.proxy.rowCount()))


def test_the_compare_view_shows_differences_evidence_and_history(qtbot, desk):
    window = desk.open()
    compare = window.compare_view
    row = window.queue_view.current()
    assert compare.model.columnCount() >= 2
    assert compare.evidence_model.rowCount() > 0
    # history is fetched live (the simulator is up) and cached
    qtbot.waitUntil(
        lambda: (
            isinstance(compare.model.history_of(row.id_a), dict)
            and isinstance(compare.model.history_of(row.id_b), dict)
        ),
        timeout=20_000,
    )
    assert window.ctx.cached_history(row.id_a) is not None
    # every request is in the audit trail
    paths = [p for (p,) in window.ctx.open_reader().db.execute("SELECT path FROM audit_log")]
    assert any("individual_appointments" in p for p in paths)


def test_the_compare_view_shows_how_a_record_was_made(qtbot, desk):
    """A walk could not tell from the window how a new record came in ("Created by Riley,
    the after-hours phone assistant", a referral): the records side by side now show their
    notes and referral source when one has them."""
    window = desk.open()
    ctx, model = window.ctx, window.queue_model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    for label, field in (("Notes", "notes"), ("Referral source", "referral_source")):
        row, noted = next(
            (r, pid) for r in rows for pid in r.key if (ctx.patient(pid) or {}).get(field)
        )
        assert window.queue_view.select_key(row.key)
        qtbot.waitUntil(lambda row=row: window.compare_view.row == row)
        compare = window.compare_view.model
        labels = [compare.headerData(r, Qt.Orientation.Vertical) for r in range(compare.rowCount())]
        column = window.compare_view.ids.index(noted)
        shown = compare.data(compare.index(labels.index(label), column))
        assert shown == ctx.patient(noted)[field].strip(), (label, shown)


def test_history_is_unknown_offline(qtbot, desk):
    from ui_helpers import closed_port_url

    window = desk.open(base_url=closed_port_url())
    compare = window.compare_view
    row = window.queue_view.current()
    qtbot.waitUntil(
        lambda: compare.model.history_of(row.id_a) == "unknown (offline)", timeout=20_000
    )
    assert window.sync_panel.online_label.text() == "● Offline"


def test_history_said_unknown_offline_is_read_once_cliniko_answers_again(
    qtbot, desk, sim, monkeypatch
):
    """A spell of 502s from Cliniko failed the history's requests: the window went offline
    and the pair's history read "unknown (offline)". Cliniko answered again and the dot said
    "● Online", but the pair kept "unknown (offline)" until the person moved on (a walk)."""
    from desktop.simulator import FaultConfig
    from desktop.ui import main_window

    monkeypatch.setattr(main_window, "PROBE_INTERVAL_MS", 200)
    sim.faults = FaultConfig(error_rate=1.0)  # every answer a server error
    window = desk.open()
    compare = window.compare_view
    row = window.queue_view.current()
    qtbot.waitUntil(
        lambda: compare.model.history_of(row.id_a) == "unknown (offline)", timeout=30_000
    )
    sim.faults = FaultConfig()
    qtbot.waitUntil(lambda: window.sync_panel.online_label.text() == "● Online", timeout=20_000)
    qtbot.waitUntil(lambda: isinstance(compare.model.history_of(row.id_a), dict), timeout=20_000)
    assert window.compare_view.row == row  # the same pair, read again where it stood


def test_history_cliniko_refused_to_give_does_not_say_offline(qtbot, desk):
    """Cliniko in a storm of 429 answers ("too many requests"): the history is unknown
    because Cliniko did not answer, not because the computer is offline."""
    from desktop.simulator import FaultConfig, Simulator

    storm = FaultConfig(storm_rate=1.0, storm_seconds=0.5)
    with Simulator(size=300, seed=7, faults=storm) as busy:
        window = desk.open(base_url=busy.base_url)
        compare = window.compare_view
        row = window.queue_view.current()
        qtbot.waitUntil(
            lambda: str(compare.model.history_of(row.id_a)).startswith("unknown"), timeout=30_000
        )
        assert compare.model.history_of(row.id_a) == "unknown (Cliniko did not answer)"


def test_load_rows_is_best_first(desk):
    from desktop.store.cache import Cache

    with Cache.open(desk.path, desk.key, readonly=True) as cache:
        rows = load_rows(cache.db)
    likely = [r.probability for r in rows if r.band == "likely"]
    assert likely == sorted(likely, reverse=True)
    assert rows[0].band == "likely"


def test_a_name_holding_a_right_to_left_override_reads_as_typed_in_the_queue(qtbot, desk):
    """A first name stored with U+202E (right-to-left override) and a NUL, and a surname of
    hundreds of characters: the queue and the heading show the letters in their order (not
    reversed, no box), and the heading does not grow to hold the whole surname."""
    from ui_helpers import label_reads

    from desktop.store.cache import Cache

    with Cache.open(desk.path, desk.key) as cache:
        first = load_rows(cache.db)[0]
        cache.db.execute(
            "UPDATE patients SET first_name = ?, last_name = ? WHERE id = ?",
            ["\u202eEvil\u0000", "O'Brien-" * 50, first.id_a],
        )
        cache.db.conn.commit()
        row = next(r for r in load_rows(cache.db) if r.key == first.key)
    assert row.name_a.startswith("Evil O'Brien") and "\u202e" not in row.search
    window = desk.open()
    window.queue_view.select_key(first.key)
    title = label_reads(window.compare_view.title)
    assert "Evil O'Brien" in title and "\u202e" not in title
    assert len(title) < 150 and "…" in title


def test_match_percentages_never_round_up_to_certainty():
    from desktop.ui.queue_model import match_percent

    assert match_percent(0.99999) == "> 99.9%"
    assert match_percent(0.9994) == "99.9%"
    assert match_percent(0.5) == "50.0%"
    assert match_percent(0.0) == "< 0.1%"


def _mason(pid: str, **extra) -> dict:
    """A record of Mason Ingwick (one mobile)."""
    return {
        "id": pid, "first_name": "Mason", "last_name": "Ingwick", "date_of_birth": None,
        "patient_phone_numbers": [{"number": "0452 023 925", "phone_type": "Mobile"}],
        "updated_at": "2024-01-01T00:00:00Z", "archived_at": None, "merged_at": None,
        "merged_with_patient": None, **extra,
    }  # fmt: skip


def test_a_birth_date_from_a_merged_record_is_said_to_be_one(qtbot, desk):
    """Mason's undated record had his dated one merged into it in Cliniko; the scan reads
    that birth date, and the evidence says where "same birth date" comes from, since the
    record itself shows none."""
    undated, dated, merged = "1015786718683039458", "1649396465085894439", "1015786718683039459"
    masons = [
        _mason(undated),
        _mason(dated, date_of_birth="2000-12-01", email="mason.i@example.com"),
        _mason(
            merged,
            date_of_birth="2000-12-01",
            archived_at="2024-02-01T00:00:00Z",
            merged_at="2024-02-01T00:00:00Z",
            merged_with_patient={"links": {"self": f"/patients/{undated}"}},
        ),
    ]
    with Cache.open(desk.path, desk.key) as cache:
        with transaction(cache) as db:
            upsert_patients(db, masons, synced_at="2024-03-01T00:00:00Z")
        run_scan(cache, full=True)
    window = desk.open()
    view = window.queue_view
    qtbot.keyClicks(view.search, "Ingwick")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 1, timeout=5_000)
    qtbot.keyClick(view.table, Qt.Key.Key_Home)
    compare = window.compare_view
    qtbot.waitUntil(lambda: set(compare.ids[:2]) == {undated, dated}, timeout=5_000)
    model = compare.evidence_model
    texts = [model.data(model.index(i, 0)) for i in range(model.rowCount())]
    side = "A" if compare.ids[0] == undated else "B"
    note = f"({side}'s birth date is on a record merged into it)"
    assert f"same birth date {note}" in texts
    assert any(t.startswith("both records have a birth date") and t.endswith(note) for t in texts)


def _type(qtbot, text: str) -> None:
    """Type as a person does: each key goes to whichever widget has the keyboard."""
    for letter in text:
        qtbot.keyClick(QApplication.focusWidget(), letter)


def _queue_with_keyboard(desk):
    """The window, its queue view with the keyboard, and the selected pair."""
    window = desk.open()
    window.activateWindow()
    window.queue_view.table.setFocus()
    return window, window.queue_view, window.queue_view.current()


def _decisions(window) -> int:
    return window.ctx.open_reader().db.execute("SELECT count(*) FROM match_decisions").fetchone()[0]


def test_a_name_typed_into_the_queue_goes_to_the_search_box(qtbot, desk):
    window, view, first = _queue_with_keyboard(desk)
    _type(qtbot, "Baran")  # its "n" is "not the same person" in the queue
    assert view.search.text() == "Baran"
    assert view.search.hasFocus()
    assert _decisions(window) == 0
    assert window.queue_model.find(first.key).status == "new"


def test_a_name_that_starts_with_a_queue_key_undoes_what_the_key_did(qtbot, desk):
    window, view, first = _queue_with_keyboard(desk)
    _type(qtbot, "nelson")  # "n" marks the pair "not the same person" before "e" is typed
    assert view.search.text() == "nelson"
    assert window.queue_model.find(first.key).status == "new"
    assert window.undo_stack == []
    assert "That was typing" in window.undo_bar.label.text()
    assert "“Not the same person” undone" in window.undo_bar.label.text()

    # "lloyd": both l's were "later" on two pairs; both are undone
    view.clear_search()
    shown = [view.model.row_at(view.proxy.mapToSource(view.proxy.index(i, 0)).row()).key
             for i in range(3)]  # fmt: skip
    _type(qtbot, "lloyd")
    assert view.search.text() == "lloyd"
    assert window.undo_stack == []
    assert [window.queue_model.find(key).status for key in shown] == ["new"] * 3


def test_queue_keys_pressed_apart_still_decide(qtbot, desk, monkeypatch):
    monkeypatch.setattr(queue_view, "TYPING_GAP_S", 0.0)  # every key pressed apart
    window, view, first = _queue_with_keyboard(desk)
    _type(qtbot, "ne")
    assert window.queue_model.find(first.key).status == "not_same"
    assert view.search.text() == "e"
    assert _decisions(window) == 1


def test_a_decision_key_held_down_decides_once(desk):
    """Held down, N would mark every pair it repeats over (16 in 1.2 s in a real window);
    the decision keys do not repeat, the keys that move through the queue do."""
    view = desk.open().queue_view
    repeats = {name: action.autoRepeat() for name, action in view.actions_by_name.items()}
    assert repeats["same"] is repeats["not_same"] is repeats["later"] is False
    assert repeats["next"] is repeats["previous"] is True


def test_clearing_a_search_goes_back_to_the_pair_it_began_from(qtbot, desk):
    _window, view, _first = _queue_with_keyboard(desk)
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    working_on = view.current()
    _type(qtbot, "zzqx")  # no such name: the queue shows nothing
    assert view.current() is None
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == ""
    assert view.current().key == working_on.key
    assert view.table.hasFocus()


def test_arrow_keys_step_a_filter_box_and_leave_the_keyboard_there(qtbot, desk):
    """Up on the status box changed it once, then the keyboard jumped to the queue and the
    next Up moved the selected pair instead (a walk landed on "Later" by accident)."""
    window = desk.open()
    view = window.queue_view
    view.status.setFocus()
    qtbot.waitUntil(view.status.hasFocus)
    start = view.status.currentIndex()
    qtbot.keyClick(view.status, Qt.Key.Key_Down)
    qtbot.keyClick(view.status, Qt.Key.Key_Down)
    assert view.status.currentIndex() == start + 2
    assert view.status.hasFocus()
    # Alt+Down opens the list; a choice made there gives the keyboard back to the queue.
    qtbot.keyClick(view.status, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    popup = view.status.view()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Up)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert view.status.currentIndex() == start + 1
    qtbot.waitUntil(view.table.hasFocus)


def test_reopening_puts_back_the_filters_and_the_selected_pair(qtbot, desk):
    """Closed on "All" with a pair selected further down, the app reopened on "To review"
    with its first pair selected."""
    window = desk.open()
    view = window.queue_view
    view.show_status("All")
    view.band.setCurrentIndex(view.band.findText("Likely"))
    qtbot.waitUntil(lambda: view.proxy.rowCount() > 5)
    view.select_row(4)
    chosen = view.current().key
    desk.close()
    window = desk.open()
    view = window.queue_view
    assert view.status.currentText() == "All" and view.band.currentText() == "Likely"
    assert view.current() is not None and view.current().key == chosen


def test_every_field_name_fits_beside_the_records(qtbot, desk):
    """The names down the side were sized to the first pair shown: a later pair's
    "Preferred first name" read "Preferred first nam"."""
    from PySide6.QtWidgets import QStyle

    window = desk.open()
    table = window.compare_view.table
    rows = table.verticalHeader()
    model, view = window.compare_view.model, window.queue_view
    margin = rows.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    for i in range(min(view.proxy.rowCount(), 40)):
        view.select_row(i)
        qtbot.waitUntil(lambda: model.rowCount() > 0)
        for section in range(model.rowCount()):
            label = str(model.headerData(section, Qt.Orientation.Vertical))
            needed = rows.fontMetrics().horizontalAdvance(label) + 2 * margin
            assert needed <= rows.width(), label
