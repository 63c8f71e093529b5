"""The command line: global options in either position, private files, quiet pipes, and a
self-test that fails on a locked keychain."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from file_keyring import child_environment
from hostile_server import HostileServer, patient

from desktop.simulator import Simulator, demo_api_key

ROOT = Path(__file__).resolve().parents[2]


def _mergedesk(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _modes(folder: Path) -> dict[str, int]:
    """Every path under ``folder`` (and the folder) with its permission bits."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_data_dir_is_honoured_before_and_after_the_sub_command(tmp_path: Path) -> None:
    default = tmp_path / "default"
    before, after = tmp_path / "before", tmp_path / "after"
    env = child_environment(tmp_path / "keyring.json", default, CLINIKO_API_KEY=demo_api_key())
    with HostileServer() as server:
        first = _mergedesk(env, "--data-dir", str(before), "sync", "--base-url", server.base_url)
        second = _mergedesk(env, "sync", "--data-dir", str(after), "--base-url", server.base_url)
        verbose = _mergedesk(
            env, "-v", "sync", "--data-dir", str(after), "--base-url", server.base_url
        )
        again = _mergedesk(env, "sync", "--data-dir", str(after), "--base-url", server.base_url)

    assert first.returncode == 0, first.stderr
    # The progress counts the patients read, the summary those changed: "10/10 patients"
    # above "no patient changed" read as a contradiction.
    assert "incremental sync: 10/10 patients read" in again.stderr, again.stderr
    assert "Incremental sync done: no patient changed (" in again.stdout, again.stdout
    assert second.returncode == 0, second.stderr
    assert "Full sync done: 10 patients new or changed" in first.stdout
    assert (before / "cache.db").exists() and (after / "cache.db").exists()
    assert not (default / "cache.db").exists(), "nothing went to the default folder"
    assert verbose.returncode == 0 and "DEBUG" in verbose.stderr, "-v before the command counts"


@pytest.mark.skipif(os.name != "posix", reason="permission bits are a Linux/macOS matter")
def test_the_data_folder_and_every_file_in_it_are_private_after_sync_scan_and_report(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "settings.json").write_text("{}")
    (data / "settings.json").chmod(0o644)  # what an older version left
    env = child_environment(tmp_path / "keyring.json", data, CLINIKO_API_KEY=demo_api_key())
    env.pop("PYTHONUMASK", None)
    pairs, summary = tmp_path / "pairs.csv", tmp_path / "summary.csv"
    summary.write_text("an older export, readable by all\n")
    summary.chmod(0o644)
    with HostileServer() as server:
        sync = _mergedesk(env, "sync", "--base-url", server.base_url)
    scan = _mergedesk(env, "scan", "--export", str(pairs))
    report = _mergedesk(env, "report", "--csv", str(summary))

    assert sync.returncode == scan.returncode == report.returncode == 0, report.stderr
    modes = _modes(data)
    assert {"cache.db", "settings.json", "logs", "logs/mergedesk.log"} <= set(modes)
    assert any(name.endswith(".lock") or "lock" in name for name in modes), modes
    loose = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (data / name).is_dir() else 0o600)
    }
    assert loose == {}
    assert stat.S_IMODE(pairs.stat().st_mode) == 0o600
    assert stat.S_IMODE(summary.stat().st_mode) == 0o600


def test_sync_names_the_records_it_kept_aside(tmp_path: Path) -> None:
    env = child_environment(tmp_path / "k.json", tmp_path / "d", CLINIKO_API_KEY=demo_api_key())
    records = [patient(i) for i in range(1, 6)]
    records[0] = patient(1, updated_at="2024-01-15T00:00:00Z")  # outside any sync's overlap
    records.insert(2, patient(902, patient_phone_numbers=5))
    with HostileServer(records) as server:
        sync = _mergedesk(env, "sync", "--base-url", server.base_url)
        quiet_edit = patient(1, updated_at="2024-01-15T00:00:00Z", email="quiet@example.com")
        server.records[0] = quiet_edit  # changed without a new updated_at
        again = _mergedesk(env, "sync", "--reconcile", "--base-url", server.base_url)
    assert again.returncode == 0, again.stderr
    assert "Compared 6 patients with Cliniko: 1 had drifted and 0 were missing" in again.stdout
    assert sync.returncode == 0, sync.stderr
    assert "Full sync done: 5 patients new or changed" in sync.stdout
    assert "1 record from Cliniko could not be stored and is kept aside: patient 902" in (
        sync.stdout
    )
    assert "Traceback" not in sync.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop", "self-test"],  # prints line by line, flushing
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader goes away before anything is written, as `| head` does
    errors = child.stderr.read().decode()
    child.wait(timeout=60)
    assert "BrokenPipeError" not in errors
    assert "Traceback" not in errors
    assert errors == ""


def test_self_test_fails_when_the_keychain_is_locked(tmp_path: Path) -> None:
    env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
    env["PYTHON_KEYRING_BACKEND"] = "locked_keyring.LockedKeyring"
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = _mergedesk(env, "self-test")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "locked" in out.lower()


def test_login_refuses_a_key_of_another_clinic_for_a_folder_that_has_a_cache(
    tmp_path: Path,
) -> None:
    data, keyring_file = tmp_path / "data", tmp_path / "keyring.json"
    env = child_environment(keyring_file, data, CLINIKO_API_KEY=demo_api_key())
    with HostileServer() as clinic:
        assert _mergedesk(env, "sync", "--base-url", clinic.base_url).returncode == 0
    del env["CLINIKO_API_KEY"]
    with Simulator(size=20, clinic_name="Other Clinic") as other:
        login = subprocess.run(
            [sys.executable, "-m", "desktop", "login", "--key-stdin", "--base-url", other.base_url],
            cwd=ROOT,
            env=env,
            input=other.api_key + "\n",
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert login.returncode == 2
    assert "This cache belongs to the clinic 'Hostile clinic' (au1)" in login.stderr
    assert "The key you gave belongs to 'Other Clinic'" in login.stderr
    assert "(--data-dir)" in login.stderr and "File >" not in login.stderr  # command-line words
    assert other.api_key not in keyring_file.read_text(), "the other clinic's key was not saved"


def test_login_with_no_terminal_says_to_pipe_the_key_in(tmp_path: Path) -> None:
    """Run from a script with nothing on stdin, login fell into getpass's fallback and ended
    in an EOFError traceback."""
    env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "login", "--base-url", "http://127.0.0.1:9/v1"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pipe it in with --key-stdin" in result.stderr


def test_each_data_folder_keeps_its_own_api_key(tmp_path: Path) -> None:
    """Two clinics in two --data-dir folders: logging in to the second does not replace the
    first folder's key (the first clinic's sync still works with its own key)."""
    env = child_environment(tmp_path / "keyring.json", tmp_path / "default")
    first, second = tmp_path / "first", tmp_path / "second"
    with (
        Simulator(size=6, seed=1, rate_limit_per_minute=3000) as one,
        Simulator(size=4, seed=2, api_key=demo_api_key(2), rate_limit_per_minute=3000) as two,
    ):
        for folder, sim in ((first, one), (second, two)):
            login = _mergedesk(
                env,
                *("--data-dir", str(folder), "login", "--key-stdin", "--base-url", sim.base_url),
                stdin=sim.api_key + "\n",
            )
            assert login.returncode == 0, login.stderr
        synced = _mergedesk(env, "--data-dir", str(first), "sync", "--base-url", one.base_url)
        other = _mergedesk(env, "--data-dir", str(second), "sync", "--base-url", two.base_url)
        # Two seeds are two clinics: the second's key is refused in the first's folder.
        crossed = _mergedesk(
            env,
            *("--data-dir", str(first), "login", "--key-stdin", "--base-url", two.base_url),
            stdin=two.api_key + "\n",
        )
    assert crossed.returncode == 2 and "This cache belongs to the clinic" in crossed.stderr
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "Full sync done: 6 patients new or changed" in synced.stdout
    assert "Full sync done: 4 patients new or changed" in other.stdout


def test_a_data_folder_that_is_a_file_or_missing_is_said_in_words(tmp_path: Path) -> None:
    """--data-dir naming a file ended in a FileExistsError traceback; scan, report and audit on
    a folder with no cache (a mistyped --data-dir) made the folder and an empty cache."""
    env = child_environment(tmp_path / "keyring.json", tmp_path / "default")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    for command in (["sync"], ["scan"], ["gui"], ["demo"], []):  # [] opens the app too
        on_file = _mergedesk(env, "--data-dir", str(a_file), *command)
        assert on_file.returncode == 2
        assert "Traceback" not in on_file.stderr
        assert f"MergeDesk cannot use {a_file} as its data folder: it is a file" in on_file.stderr
    missing = tmp_path / "mistyped"
    for command in (["scan"], ["report"], ["audit", "verify"]):
        done = _mergedesk(env, "--data-dir", str(missing), *command)
        assert done.returncode == 2, command
        assert f"There is no MergeDesk cache in {missing} yet." in done.stderr, command
    # sync and watch with no key saved for the folder made it (with a log) before saying so
    for command in (["sync"], ["watch", "--once"]):
        done = _mergedesk(env, "--data-dir", str(missing), *command)
        assert done.returncode == 2, command
        assert f"No Cliniko API key is saved for {missing} yet. Run mergedesk login" in (
            done.stderr
        ), command
    assert not missing.exists()


def test_a_warning_during_sync_starts_its_own_line(tmp_path: Path) -> None:
    """'full sync: 100/300 patients (1,530/s)WARNING: Quarantined…': a warning was printed
    onto the end of the progress line."""
    env = child_environment(
        tmp_path / "keyring.json", tmp_path / "data", CLINIKO_API_KEY=demo_api_key()
    )
    records = [patient(i) for i in range(1, 11)]
    records.insert(5, patient(99, updated_at="not a time"))
    with HostileServer(records) as server:
        done = _mergedesk(env, "sync", "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.split("\n")
    warned = [line for line in lines if "WARNING: Quarantined" in line]
    assert warned and all(line.startswith("WARNING") for line in warned), lines
