"""``mergedesk watch --once`` end to end, as a scheduler would run it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from file_keyring import child_environment
from hostile_server import HostileServer
from manual_clock import ManualClock

from desktop.simulator import Simulator, demo_api_key
from desktop.simulator.live import ASSISTANT_NOTE

ROOT = Path(__file__).resolve().parents[2]
# Wednesday 2 December 2026, 21:00 in Melbourne: after hours.
WEDNESDAY_9PM = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _watch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", "watch", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _hostile_env(tmp_path: Path) -> dict[str, str]:
    """A child's environment with its own keyring and data folder, and the demo key (the
    hostile server takes any)."""
    env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
    env["CLINIKO_API_KEY"] = demo_api_key()
    return env


def _copy_of_the_first_patient_arrives(server: HostileServer) -> None:
    """Patient 11, a copy of patient 1 made on 5 Dec 2026: a new likely pair."""
    twin = dict(server.records[0], id="11", created_at="2026-12-05T10:00:00Z")
    server.records.append(dict(twin, updated_at="2026-12-05T10:00:00Z"))


def test_watch_once_prints_each_new_pair_once(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_9PM.timestamp())
    with Simulator(size=800, seed=6, clock=clock, rate_limit_per_minute=3000) as sim:
        env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
        env["CLINIKO_API_KEY"] = sim.api_key
        first = _watch(env, "--once", "--base-url", sim.base_url)
        assert first.returncode == 0, first.stderr
        assert first.stdout == "", "the queue the watch starts from is not news"
        assert "0 new pair(s)" in first.stderr
        baseline = [line for line in first.stderr.splitlines() if line.startswith("First look")]
        assert len(baseline) == 1 and "pairs already in the queue as known" in baseline[0]
        assert int(baseline[0].split("takes the ")[1].split()[0].replace(",", "")) > 0

        known = next(
            p
            for p in sim.patients_snapshot()
            if not p["archived_at"] and p["patient_phone_numbers"]
        )
        clock.tick(600)
        made = sim.add_patient(
            {
                "first_name": known["first_name"],
                "last_name": known["last_name"],
                "patient_phone_numbers": known["patient_phone_numbers"][:1],
                "notes": ASSISTANT_NOTE + ".",
            }
        )
        clock.tick(300)
        second = _watch(env, "--once", "--base-url", sim.base_url, "--every", "15m")
        assert second.returncode == 0, second.stderr
        assert "First look" not in second.stderr, "only the first run takes the queue as known"
        lines = second.stdout.splitlines()
        assert len(lines) == 1
        line = lines[0]
        assert line.startswith("likely ") or line.startswith("possible ")
        assert f"{made['id']} (new, created Wed 2 Dec 21:10 (after hours)) ~ {known['id']}" in line
        assert "same mobile number" in line and "phone assistant" in line
        assert known["last_name"] not in line, "why it was flagged names no patient data"

        clock.tick(900)
        third = _watch(env, "--once", "--base-url", sim.base_url)
        assert third.returncode == 0 and third.stdout == ""

        sim.stop()
        offline = _watch(env, "--once", "--base-url", sim.base_url)
    assert offline.returncode == 3
    assert offline.stderr.strip() and "Traceback" not in offline.stderr


def test_watch_says_how_to_write_the_interval(tmp_path: Path) -> None:
    env = child_environment(tmp_path / "keyring.json", tmp_path / "data")
    bad = _watch(env, "--every", "soon")
    assert bad.returncode == 2 and "15m, 1h or 90s" in bad.stderr


def test_watch_once_says_an_answer_it_cannot_use_and_exits_as_unreachable(
    tmp_path: Path,
) -> None:
    """The appointments listing links back to itself: the scheduled run says why in words,
    with no traceback, and exits with the "try again later" code; once Cliniko answers
    properly, the next run succeeds."""
    env = _hostile_env(tmp_path)
    with HostileServer() as server:
        server.tricked, server.trick = "individual_appointments", "to_itself"
        looping = _watch(env, "--once", "--base-url", server.base_url)
        server.trick = None
        fine = _watch(env, "--once", "--base-url", server.base_url)
    assert looping.returncode == 3, looping.stderr
    assert "Cliniko's list of records kept pointing to more pages" in looping.stderr
    assert "Traceback" not in looping.stderr
    assert fine.returncode == 0, fine.stderr
    assert "0 new pair(s)" in fine.stderr


def test_a_new_pair_is_printed_even_when_the_bookings_cannot_be_read(tmp_path: Path) -> None:
    """A duplicate arrives while the appointments listing goes round in circles: the run
    that found the pair prints it (or a later run does); it is never recorded as seen and
    then lost with the failed bookings request."""
    env = _hostile_env(tmp_path)
    with HostileServer() as server:
        baseline = _watch(env, "--once", "--base-url", server.base_url)
        assert baseline.returncode == 0, baseline.stderr
        _copy_of_the_first_patient_arrives(server)
        server.tricked, server.trick = "individual_appointments", "to_itself"
        looping = _watch(env, "--once", "--base-url", server.base_url)
        server.trick = None
        after = _watch(env, "--once", "--base-url", server.base_url)
    assert looping.returncode == 3, looping.stderr
    printed = looping.stdout.splitlines() + after.stdout.splitlines()
    assert len(printed) == 1, (looping.stdout, after.stdout)
    assert printed[0].split()[1] == "11" and "~ 1:" in printed[0]


def test_a_pair_scored_between_two_watch_runs_is_news_to_the_next(tmp_path: Path) -> None:
    """A duplicate arrives and is synced and scored outside the watch: by the window's Sync,
    or by a watch run killed after its scan was stored and before it took the pairs in. Then
    another patient changes, so the next sync reads only that one and the pair is not scored
    again. The next watch run prints it; the one after does not print it again."""
    env = _hostile_env(tmp_path)
    with HostileServer() as server:
        assert _watch(env, "--once", "--base-url", server.base_url).returncode == 0
        _copy_of_the_first_patient_arrives(server)
        server.records[4] = dict(server.records[4], updated_at="2026-12-05T12:00:00Z")
        for command in (["sync", "--base-url", server.base_url], ["scan"]):
            done = subprocess.run(
                [sys.executable, "-m", "desktop", *command],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        server.records[5] = dict(server.records[5], updated_at="2026-12-05T13:00:00Z")
        after = _watch(env, "--once", "--base-url", server.base_url)
        again = _watch(env, "--once", "--base-url", server.base_url)
    assert after.returncode == 0, after.stderr
    assert [line.split()[1] for line in after.stdout.splitlines()] == ["11"]
    assert again.returncode == 0 and again.stdout == ""


def test_a_run_killed_while_it_reads_the_bookings_leaves_the_pair_for_the_next(
    tmp_path: Path,
) -> None:
    """A duplicate arrives; the scheduled run that finds it is killed while Cliniko is still
    sending the bookings (a slow answer, a laptop closed). The next run prints the pair: it
    had been recorded as found before the bookings were read, and was never printed."""
    env = _hostile_env(tmp_path)
    with HostileServer() as server:
        assert _watch(env, "--once", "--base-url", server.base_url).returncode == 0
        _copy_of_the_first_patient_arrives(server)
        server.tricked, server.trick = "individual_appointments", "drip"
        asked = len(server.asked)
        child = subprocess.Popen(
            [sys.executable, "-m", "desktop", "watch", "--once", "--base-url", server.base_url],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while "/v1/individual_appointments" not in server.asked[asked:]:
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()
            time.sleep(0.05)
        time.sleep(0.5)  # well inside the dripping answer
        child.send_signal(signal.SIGKILL)
        killed_output, _ = child.communicate(timeout=30)
        server.trick = None
        after = _watch(env, "--once", "--base-url", server.base_url)
    printed = killed_output.splitlines() + after.stdout.splitlines()
    assert [line.split()[1] for line in printed] == ["11"], (killed_output, after.stdout)
