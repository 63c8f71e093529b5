"""The logic of build/smoke_test.py (run on demand: ``uv run pytest tests/packaging``).

pytest does not collect tests/packaging by default. The last test runs a real bundle when
``MERGEDESK_BUNDLE`` points at one (e.g. /tmp/pyi-dist/MergeDesk), and is skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_smoke_test():
    spec = importlib.util.spec_from_file_location("smoke_test", ROOT / "build" / "smoke_test.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["smoke_test"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


smoke = _load_smoke_test()

PASSING = """\
PASS bundle: MergeDesk 0.1.0, frozen bundle at /x/_internal, Python 3.11.7, linux
PASS keyring: backend SecretService.Keyring, available
PASS encrypted cache: SQLCipher 4.19.0 community, 3 migrations to schema 3
PASS qt: PySide6 6.12.0, platform offscreen, 9 font families, style fusion
TIME main window shown 0.57 s after process start
PASS main window: MainWindow 1280x800 shown after 0.57 s
PASS pdf: self-test.pdf, 19,405 bytes with embedded fonts
TIME self-test finished 0.62 s after process start
self-test passed: 6 checks
"""


def _run(stdout=PASSING, stderr="", returncode=0):
    return smoke.Run(returncode=returncode, stdout=stdout, stderr=stderr, seconds=0.7)


# --- parsing the self-test's output ------------------------------------------------------------


def test_parse_reads_checks_time_and_summary():
    parsed = smoke.parse_self_test(PASSING)
    assert parsed.checks["keyring"] is True
    assert parsed.details["keyring"] == "backend SecretService.Keyring, available"
    assert list(parsed.checks) == [
        "bundle", "keyring", "encrypted cache", "qt", "main window", "pdf",
    ]  # fmt: skip
    assert parsed.window_shown_s == pytest.approx(0.57)
    assert parsed.measured_from == "process start"
    assert parsed.summary_passed
    assert parsed.failures == []


def test_parse_reports_failed_checks_and_no_summary():
    text = PASSING.replace("PASS pdf", "FAIL pdf").replace(
        "self-test passed: 6 checks", "self-test FAILED: 1 of 6 checks (pdf)"
    )
    parsed = smoke.parse_self_test(text)
    assert parsed.failures == ["pdf"]
    assert not parsed.summary_passed


def test_parse_tolerates_windows_line_endings():
    parsed = smoke.parse_self_test(PASSING.replace("\n", "\r\n"))
    assert parsed.summary_passed and len(parsed.checks) == 6


# --- stderr allow-list -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "This plugin does not support propagateSizeHints()",
        "This plugin does not support raise()",
        "QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '/tmp/runtime-root'",
        "QStandardPaths: wrong permissions on runtime directory /run/user/0, 0755 instead of 0700",
        "",
        "   ",
    ],
)
def test_known_harmless_lines_are_allowed(line):
    assert smoke.unexpected_stderr(line + "\n") == []


@pytest.mark.parametrize(
    "line",
    [
        "Traceback (most recent call last):",
        "WARNING: keyring backend detection failed",
        'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in ""',
        "FileNotFoundError: [Errno 2] No such file or directory: '.../nicknames/names.csv'",
        "This plugin does not support propagateSizeHints() and more",
    ],
)
def test_anything_else_on_stderr_is_unexpected(line):
    assert smoke.unexpected_stderr(f"This plugin does not support raise()\n{line}\n") == [line]


# --- judging runs ------------------------------------------------------------------------------


def test_a_clean_run_has_no_problems():
    stderr = "This plugin does not support propagateSizeHints()\n"
    assert smoke.check_self_test(_run(stderr=stderr)) == []


def test_a_nonzero_exit_fails_even_when_every_line_passed():
    problems = smoke.check_self_test(_run(returncode=1))
    assert problems == ["self-test exited with 1"]


def test_failed_checks_missing_lines_and_stderr_are_all_reported():
    stdout = "PASS bundle: ok\nFAIL keyring: backend fail.Keyring, unavailable\n"
    problems = smoke.check_self_test(_run(stdout=stdout, stderr="boom\n", returncode=1))
    assert problems == [
        "self-test exited with 1",
        "checks failed: keyring",
        "no 'self-test passed' summary line",
        "no 'TIME main window shown' line",
        "unexpected stderr: boom",
    ]


def test_empty_output_is_a_failure():
    problems = smoke.check_self_test(_run(stdout=""))
    assert "self-test printed no checks" in problems


def test_demo_needs_exit_zero_clean_stderr_and_a_finished_sync():
    log = "2026-11-26 INFO desktop.sync: Full sync finished: 300 patients\n"
    assert smoke.check_demo(_run(stdout=""), log) == []
    problems = smoke.check_demo(_run(stdout="", stderr="Segmentation fault\n", returncode=-11), "")
    assert problems == [
        "demo exited with -11",
        "unexpected stderr: Segmentation fault",
        "the demo's log shows no finished sync ('Full sync finished')",
    ]


def test_times_summary_gives_first_and_median():
    assert smoke.summarise_times([1.5, 0.6, 0.7]) == "first 1.50 s, median 0.70 s over 3 runs"
    assert smoke.summarise_times([0.9]) == "first 0.90 s, median 0.90 s over 1 run"
    assert smoke.summarise_times([]) == "no timings"


# --- finding the executables -----------------------------------------------------------------


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_finds_the_executables_of_a_linux_folder(tmp_path):
    cli = _touch(tmp_path / "MergeDesk" / "mergedesk-cli")
    gui = _touch(tmp_path / "MergeDesk" / "MergeDesk")
    assert smoke.find_executables(tmp_path / "MergeDesk", "linux") == (cli, gui)
    assert smoke.find_executables(gui, "linux") == (cli, gui)


def test_finds_the_executables_of_a_windows_folder(tmp_path):
    cli = _touch(tmp_path / "MergeDesk" / "mergedesk-cli.exe")
    gui = tmp_path / "MergeDesk" / "MergeDesk.exe"
    assert smoke.find_executables(tmp_path / "MergeDesk", "win32") == (cli, gui)


def test_finds_the_executables_inside_a_mac_app(tmp_path):
    app = tmp_path / "MergeDesk.app"
    cli = _touch(app / "Contents" / "MacOS" / "mergedesk-cli")
    assert smoke.find_executables(app, "darwin")[0] == cli


def test_a_bundle_without_the_console_executable_is_an_error(tmp_path):
    _touch(tmp_path / "MergeDesk" / "MergeDesk")
    with pytest.raises(FileNotFoundError, match="mergedesk-cli"):
        smoke.find_executables(tmp_path / "MergeDesk", "linux")


# --- environment and processes -----------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="offscreen default is Linux's")
def test_offscreen_is_chosen_only_without_a_display_or_platform():
    assert smoke.gui_environment({})["QT_QPA_PLATFORM"] == "offscreen"
    assert "QT_QPA_PLATFORM" not in smoke.gui_environment({"DISPLAY": ":99"})
    assert smoke.gui_environment({"QT_QPA_PLATFORM": "xcb"})["QT_QPA_PLATFORM"] == "xcb"


def test_run_process_times_the_marker_line_and_keeps_stderr():
    script = (
        "import sys, time; print('PASS a: ok', flush=True); time.sleep(0.3); "
        "print('TIME main window shown 0.30 s after process start', flush=True); "
        "print('careful', file=sys.stderr)"
    )
    run = smoke.run_process([sys.executable, "-c", script], timeout=30, marker=smoke.WINDOW_LINE)
    assert run.returncode == 0
    assert run.stderr == "careful\n"
    assert run.marker_s is not None and 0.25 <= run.marker_s <= run.seconds
    assert "PASS a: ok" in run.stdout


def test_run_process_kills_a_hung_process():
    run = smoke.run_process([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert run.returncode != 0
    assert run.seconds < 30
    assert re.search(r"killed after \d+ s", run.stderr)


def test_evicting_a_folder_from_the_page_cache_counts_its_files(tmp_path):
    _touch(tmp_path / "a" / "one")
    (tmp_path / "two").write_bytes(b"x" * 10_000)
    (tmp_path / "link").symlink_to(tmp_path / "two")
    expected = 2 if hasattr(os, "posix_fadvise") else 0
    assert smoke.evict_from_page_cache(tmp_path) == expected
    assert (tmp_path / "two").read_bytes() == b"x" * 10_000  # contents untouched


# --- the real bundle, when one is given --------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("MERGEDESK_BUNDLE"), reason="MERGEDESK_BUNDLE not set")
def test_the_built_bundle_passes_its_self_test():
    assert smoke.main([os.environ["MERGEDESK_BUNDLE"]]) == 0
