"""A demo session end to end: merges and reviews against the simulator, then the report.

The merges go through the same code the wizard uses (MergeFlow with a TimeLog timer, over
real HTTP to the simulator, the person's click on Cliniko's merge page played with httpx),
with an injected clock so every minute is known. ``mergedesk report`` then writes the PDF and
the CSV in a child process (no display: it must go offscreen by itself); pdftotext reads the
PDF back, its totals must agree with the CSV to the cent, and no patient name may appear.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import keyring
import pytest
from file_keyring import FileKeyring, child_environment
from manual_clock import ManualClock

from desktop.config import Settings, save_settings
from desktop.labor.cost import Period
from desktop.labor.csv_export import csv_text
from desktop.labor.report_text import minutes as minutes_text
from desktop.labor.report_text import render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.labor.timelog import TimeLog, rows
from desktop.merge import MergeFlow, Step
from desktop.scan import run_scan
from desktop.session import Session
from desktop.simulator import Simulator
from desktop.store.cache import Cache, open_cache
from desktop.store.queue import queue_pairs
from desktop.sync import run_sync

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()
MERGE_STEPS = (40, 10, 30, 20, 5, 3, 60)  # compare ... wait_for_merge, seconds
SCALES = (1, 1.5, 2)  # the three merges take 1x, 1.5x and 2x (no gap over the 120 s idle limit)
REVIEWS = 95 + 150 + 30  # two "not the same" and one "later", seconds
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(size=400, seed=11, rate_limit_per_minute=10_000) as simulator:
        yield simulator


def merge_pair(
    cache: Cache, session: Session, log: TimeLog, clock: ManualClock, ids, scale: float,
    steps: tuple[float, ...] = MERGE_STEPS,
) -> None:  # fmt: skip
    """Compare, choose, reconcile, review, apply, and merge in (simulated) Cliniko."""
    work = log.start(ids)
    flow = MergeFlow.start(cache, ids, timer=work)
    waits = [s * scale for s in steps]
    for wait in waits[:4]:  # compare, choose survivor, reconcile, review
        clock.tick(wait)
        if flow.step is Step.CHOOSE_SURVIVOR:
            flow.advance(survivor_id=flow.suggested_survivor())
        else:
            flow.advance()
    assert flow.step is Step.READY
    clock.tick(waits[4])
    flow.advance(session)
    clock.tick(waits[5])
    flow.advance(session)
    assert flow.step is Step.MERGE_IN_CLINIKO
    url, duplicates = flow.merge_url, flow.plan.duplicate_ids
    flow.advance()
    clock.tick(waits[6])
    page = httpx.post(url, data={"duplicate_ids": list(duplicates)})
    assert page.status_code == 200
    assert flow.poll_once(session) is True
    assert work.finished and work.outcome == "merged"


def review(cache: Cache, log: TimeLog, clock: ManualClock, ids, seconds: int, outcome: str) -> None:
    """Open a pair, look for ``seconds`` (input every minute), and decide."""
    work = log.start(ids)
    flow = MergeFlow.start(cache, ids, timer=work)
    for _ in range(seconds // 60):
        clock.tick(60)
        work.input_at()
    clock.tick(seconds % 60)
    flow.cancel(outcome)


def simple_pairs(cache: Cache) -> list[tuple[str, str]]:
    """Likely pairs outside clusters, no record in two of them."""
    pairs, seen = [], set()
    for p in queue_pairs(cache.db, ("new",), ("likely",)):
        if p["cluster_id"] is None and not {p["id_a"], p["id_b"]} & seen:
            pairs.append((p["id_a"], p["id_b"]))
            seen |= {p["id_a"], p["id_b"]}
    return pairs


def demo_session(data_dir: Path, sim: Simulator) -> list[tuple[str, ...]]:
    """Sync, scan, then three merges, two "not the same" reviews and one "later"."""
    clock = ManualClock(T0)
    with (
        open_cache(data_dir) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=5000) as session,
    ):
        session.identify_user()
        run_sync(session)
        run_scan(cache)
        pairs = simple_pairs(cache)
        assert len(pairs) >= 6, "the sample clinic should have enough simple pairs"
        log = TimeLog(cache, clock=clock, min_write_interval=0, os_user="frontdesk")
        for scale, ids in zip(SCALES, pairs[:3], strict=True):
            merge_pair(cache, session, log, clock, ids, scale)
            clock.tick(600)
        review(cache, log, clock, pairs[3], 95, "not_same")
        review(cache, log, clock, pairs[4], 150, "not_same")
        review(cache, log, clock, pairs[5], 30, "later")
    return pairs[:6]


def template_text(tmp_path: Path) -> str:
    """The report's own words: the same period over an empty cache (no data at all)."""
    with Cache.open(tmp_path / "empty.db", "7e" * 32) as empty:
        summary = build_summary(
            empty, Period.month(2026, 3), Settings(automation_hours_saved_per_month=1),
            tz=dt.UTC, per_admin=True,
        )  # fmt: skip
        return render_plain(report_blocks(summary)) + csv_text(summary)


def value_after(label: str, text: str) -> str:
    match = re.search(re.escape(label) + r"\s+(\S+)", text)
    assert match, f"{label!r} not in the PDF text"
    return match.group(1)


def test_demo_session_report_pdf_and_csv_agree_and_hold_no_names(
    tmp_path: Path, sim: Simulator
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    keyring_file = tmp_path / "keyring.json"
    keyring.set_keyring(FileKeyring(keyring_file))
    pairs = demo_session(data_dir, sim)
    save_settings(data_dir, Settings(hourly_rate=31.5, on_cost_percent=12.5))

    pdf, table = tmp_path / "labor.pdf", tmp_path / "labor.csv"
    env = child_environment(keyring_file, data_dir, TZ="UTC")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    period = ["--from", "2026-03-01", "--to", "2026-03-31"]
    outputs = ["--pdf", str(pdf), "--csv", str(table), "--per-admin"]
    command = [sys.executable, "-m", "desktop", "report", *period, *outputs]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Wrote 6 rows" in done.stdout and "page PDF" in done.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout

    with table.open(encoding="utf-8-sig", newline="") as handle:
        *rows, total = list(csv.DictReader(handle))
    assert [r["outcome"] for r in rows].count("merged") == 3
    minutes = sum(Decimal(r["active_minutes"]) for r in rows)
    assert total["outcome"] == "total" and Decimal(total["active_minutes"]) == minutes
    expected = (sum(MERGE_STEPS) * sum(SCALES) + REVIEWS) / 60
    assert abs(float(minutes) - expected) < 0.001
    hours = (minutes / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
    cost = (minutes / 60 * Decimal("31.5") * Decimal("1.125")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert value_after("Labor hours", text) == f"{hours}"
    assert value_after("Labor cost", text) == f"${cost:,}" == f"${Decimal(total['cost']):,}"
    assert value_after("Merges completed", text) == "3"
    assert value_after('Reviews ended "not the same person"', text) == "2"
    median_merge = Decimal(sum(MERGE_STEPS) * 1.5) / 60
    assert re.search(rf"Merges completed +3 +[\d.]+ min +{minutes_text(median_merge)}", text)
    assert "Per administrator" in text and "frontdesk" not in text  # the Cliniko user is shown
    assert "12.5% on-cost" in text and "$31.50 per hour" in text

    # no patient names anywhere: the records worked on, and a sample of the whole clinic
    exported = table.read_text(encoding="utf-8-sig")
    words = set(re.findall(r"[A-Za-z][A-Za-z'-]+", text + "\n" + exported))
    allowed = set(re.findall(r"[A-Za-z][A-Za-z'-]+", template_text(tmp_path)))
    allowed |= {"Alex", "Administrator"}  # the Cliniko user (staff), not a patient
    clinic = {p["id"]: p for p in sim.patients_snapshot()}
    involved = [clinic[i] for ids in pairs for i in ids]
    names = {n for p in involved for n in (p.get("first_name"), p.get("last_name")) if n}
    everyone = list(clinic.values())[::3]
    sample = {n for p in everyone for n in (p.get("first_name"), p.get("last_name")) if n}
    leaked = {n for n in names | sample if n not in allowed and n in words}
    assert leaked == set()
    assert len(names - allowed) >= 10
    for ids in pairs:  # the CSV names records by id only
        assert " ".join(sorted(ids)) in exported
    assert os.path.getsize(pdf) > 5_000
    shutil.copy(pdf, tmp_path.parent / "last-demo-report.pdf")  # for a look by hand


def test_a_six_minute_wait_on_clinikos_merge_page_is_counted_in_the_log_and_the_report(
    tmp_path: Path, sim: Simulator
) -> None:
    """The person spends 6 simulated minutes in Cliniko's merge page, without touching the app:
    the wait counts (it is under the 20-minute cap), in the log and on the report."""
    clock = ManualClock(T0)
    steps = (40, 10, 30, 20, 5, 3, 360)  # ... and 6 minutes on Cliniko's page
    with (
        open_cache(tmp_path / "data") as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=5000) as session,
    ):
        session.identify_user()
        run_sync(session)
        run_scan(cache)
        ids = simple_pairs(cache)[0]
        log = TimeLog(cache, clock=clock, min_write_interval=0)
        merge_pair(cache, session, log, clock, ids, 1, steps)
        [row] = rows(cache, T0 - 1, T0 + 3600)
        assert row.outcome == "merged"
        wall, counted = row.step_seconds, row.step_active_seconds
        assert wall["wait_for_merge"] == counted["wait_for_merge"] == 360
        assert row.active_minutes == pytest.approx(sum(steps) / 60)
        summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC)
    text = render_plain(report_blocks(summary))
    assert re.search(r"Wait for Cliniko's merge \(the wait counts\) +1 +6.0 min", text)
    assert summary.total_minutes == pytest.approx(row.active_minutes)
    assert re.search(r"Labor hours +0\.13 h \(7.8 min\)", text)  # 468 s
    assert "waited on Cliniko in the period: 1; the wait reached the cap in 0." in text
