"""Work of seconds before the main window exists, behind a window that says so."""

from __future__ import annotations

import threading

import pytest

from desktop.ui.busy import BusyDialog, run_showing


@pytest.fixture
def windows(monkeypatch) -> list[BusyDialog]:
    """Each busy window as it is shown."""
    shown: list[BusyDialog] = []
    show = BusyDialog.show

    def noted_show(dialog: BusyDialog) -> None:
        show(dialog)
        shown.append(dialog)

    monkeypatch.setattr(BusyDialog, "show", noted_show)
    return shown


def test_the_work_runs_off_the_window_thread_and_its_result_comes_back(qtbot, windows):
    threads: list[bool] = []

    def work() -> str:
        threads.append(threading.current_thread() is threading.main_thread())
        return "built"

    assert run_showing("Preparing the sample clinic.", "test-work", work) == "built"
    assert threads == [False]  # a worker thread: the window stays responsive
    assert [w.labelText() for w in windows] == ["Preparing the sample clinic."]
    assert not windows[0].isVisible()  # closed once the work is done


def test_what_the_work_raises_reaches_the_caller_and_the_window_closes(qtbot, windows):
    def work() -> str:
        raise OSError("the disk is full")

    with pytest.raises(OSError, match="the disk is full"):
        run_showing("Updating the local copy of your patients.", "test-work", work)
    assert len(windows) == 1 and not windows[0].isVisible()


def test_work_that_gives_back_nothing_is_no_failure(qtbot, windows):
    assert run_showing("Preparing.", "test-work", lambda: None) is None
