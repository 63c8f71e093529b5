"""The Qt-free half of ``mergedesk self-test`` (desktop.selftest)."""

from __future__ import annotations

import io

import keyring
import keyring.backends.fail
import pytest

from desktop import selftest
from desktop.selftest import Check, Report


def test_report_prints_one_line_per_check_and_a_summary():
    out = io.StringIO()
    report = Report(out)
    report.add(Check("one", True, "fine"))
    report.run("two", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert out.getvalue().splitlines() == ["PASS one: fine", "FAIL two: RuntimeError: boom"]
    assert not report.passed
    assert report.summary() == "self-test FAILED: 1 of 2 checks (two)"


def test_an_empty_report_has_not_passed():
    assert not Report(io.StringIO()).passed


def test_process_age_is_positive_and_says_what_it_counts_from():
    age, since = selftest.process_age()
    assert 0 < age < 3600
    assert since in ("process start", "self-test start")


def test_encrypted_cache_check_passes(tmp_path):
    check = selftest.check_encrypted_cache(tmp_path)
    assert check.passed, check.detail
    assert "wrong key refused" in check.detail


def test_matching_data_check_passes():
    check = selftest.check_matching_data()
    assert check.passed, check.detail


def test_resources_check_finds_the_icon():
    assert selftest.check_resources().passed


@pytest.fixture
def fail_backend():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_no_keychain_fails_on_windows_and_macos(fail_backend, platform):
    check = selftest.check_keyring(platform)
    assert not check.passed
    assert "fail.Keyring" in check.detail


def test_no_keychain_is_only_reported_on_linux(fail_backend):
    check = selftest.check_keyring("linux")
    assert check.passed
    assert "report only on Linux" in check.detail


def test_a_real_keychain_passes_everywhere(memory_keyring):
    for platform in ("linux", "win32", "darwin"):
        assert selftest.check_keyring(platform).passed


def test_a_required_backend_must_match_and_keep_an_entry(memory_keyring):
    assert not selftest.check_keyring("linux", require="SecretService").passed
    check = selftest.check_keyring("linux", require="MemoryKeyring")
    assert check.passed, check.detail
    assert "write/read/delete ok" in check.detail
    assert memory_keyring.secrets == {}  # the probe entry is gone again


def test_run_self_test_without_gui_prints_and_exits_zero():
    out = io.StringIO()
    assert selftest.run_self_test(None, out=out) == 0
    lines = out.getvalue().splitlines()
    names = [line.split(":")[0] for line in lines if line.startswith(("PASS", "FAIL"))]
    assert names == [
        "PASS bundle", "PASS resources", "PASS keyring", "PASS encrypted cache",
        "PASS matching data",
    ]  # fmt: skip
    assert lines[-1] == "self-test passed: 5 checks"


def test_a_failing_gui_part_fails_the_self_test():
    def broken(report, folder):
        raise ImportError("No module named 'PySide6'")

    out = io.StringIO()
    assert selftest.run_self_test(broken, out=out) == 1
    assert "FAIL qt: ImportError: No module named 'PySide6'" in out.getvalue()
