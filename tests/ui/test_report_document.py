"""The PDF of the edge cases: no work, a rate of zero, a merge without steps, a year of data."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from labor_data import at, insert_session, insert_year

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.report_text import render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache
from desktop.ui.report_chart import nice_step
from desktop.ui.report_document import ReportDocument

KEY = "2c" * 32
pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils")


def no_work(cache: Cache) -> tuple[Period, Settings, list[str]]:
    return Period.month(2026, 2), Settings(), ["No merges or reviews", "$0.00", "0.00 h"]


def rate_zero(cache: Cache) -> tuple[Period, Settings, list[str]]:
    insert_session(cache, "m", ["1", "2"], at(dt.date(2026, 3, 3)), 1500, 1600, "merged")
    return Period.month(2026, 3), Settings(hourly_rate=0.0), ["0.42 h", "$0.00 per hour"]


def bare_merge(cache: Cache) -> tuple[Period, Settings, list[str]]:
    insert_session(cache, "m", ["1", "2"], at(dt.date(2026, 3, 3)), 0, 0, "merged")
    return Period.month(2026, 3), Settings(), ["Merges completed", "0 min"]


def a_year(cache: Cache) -> tuple[Period, Settings, list[str]]:
    insert_year(cache, 2025)
    period = Period.custom(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    settings = Settings(automation_hours_saved_per_month=40)
    return period, settings, ["4,380", "Semantic debt", "Per administrator: Sam Reception"]


@pytest.mark.parametrize("case", [no_work, rate_zero, bare_merge, a_year])
def test_edge_cases_make_a_readable_pdf(qapp, tmp_path: Path, case) -> None:
    with Cache.open(tmp_path / "c.db", KEY) as cache:
        period, settings, expected = case(cache)
        summary = build_summary(cache, period, settings, tz=dt.UTC, per_admin=True)
    pdf = tmp_path / "r.pdf"
    pages = ReportDocument(report_blocks(summary), footer=period.label).write_pdf(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    for snippet in (*expected, "Labor cost", f"Page {pages} of {pages}"):
        assert snippet in text
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == pages and all(p.stat().st_size > 2_000 for p in images)


def test_chart_steps_are_round() -> None:
    assert [nice_step(v) for v in (0, 0.29, 3.9, 9.02, 560)] == [0.25, 0.1, 1, 2.5, 200]


def test_the_axes_hold_the_tallest_bar() -> None:
    from desktop.ui.report_chart import HEADROOM

    for value in (0.01, 0.105, 0.99, 1.0, 3.9, 4.0, 9.99, 10.0, 25.0, 99.0, 100.0, 1234.5):
        assert 4 * nice_step(value * HEADROOM) >= value * HEADROOM > value


@pytest.mark.parametrize(
    ("hours", "rate"), [((0.003,), 28.0), ((1.2, 3.9, 0.4), 31.36), ((12.0, 40.0), 55.0)]
)
def test_the_cost_line_meets_the_bars_tops(hours: tuple[float, ...], rate: float) -> None:
    """Cost is hours times the rate: drawn on one scale, each cost sits where its bar ends
    (on two round scales of their own, 0.003 h at $28 drew the bar at 75% of the axis and its
    $0.08 at 84%)."""
    from desktop.labor.report_text import Chart
    from desktop.ui.report_chart import axis_steps

    costs = tuple(round(h * rate, 2) for h in hours)
    chart = Chart("t", tuple(str(i) for i in range(len(hours))), hours, costs, "$", rate)
    step_h, step_c = axis_steps(chart)
    for h, c in zip(hours, costs, strict=True):
        assert c / (4 * step_c) == pytest.approx(h / (4 * step_h), abs=0.005 / (4 * step_c))


def test_each_administrator_gets_a_page_and_short_times_read_in_minutes(qapp, tmp_path) -> None:
    with Cache.open(tmp_path / "c.db", KEY) as cache:
        d = dt.date(2026, 3, 3)
        insert_session(cache, "a", ["1", "2"], at(d), 378, 400, "merged")  # 6.3 min
        insert_session(cache, "b", ["3", "4"], at(d, 10), 300, 300, "not_same", user="2 Sam")
        insert_session(cache, "c", ["5", "6"], at(d, 11), 200, 200, "restored", user="2 Sam")
        summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC,
                                per_admin=True)  # fmt: skip
    blocks = report_blocks(
        summary, audit_head="Audit trail: 42 entries, head 3f9a.", last_reconciliation=None
    )
    pdf = tmp_path / "r.pdf"
    pages = ReportDocument(blocks, footer="March 2026").write_pdf(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    by_page = text.split("\f")[:pages]
    for name in ("Alex Administrator", "Sam"):
        [page] = [p for p in by_page if f"Per administrator: {name}" in p]
        assert page.lstrip().startswith(f"Per administrator: {name}")  # a page of its own
    assert "Merges backed out (restored)" in text and "Method: every stretch of work" in text
    assert re.search(r"Merges completed +1 +6.3 min +6.3 min", text)  # 0.105 h: 6.3 min
    assert "Records: Audit trail: 42 entries, head 3f9a." in text
    assert "compared in full" not in text  # None: left out
    plain = render_plain(report_blocks(summary))
    assert "Records:" not in plain


def test_the_time_per_step_says_that_compare_holds_every_pair_looked_at(qapp, tmp_path) -> None:
    """A pair answered "not the same person" spends its time at the compare step: the table
    was headed "Time per merge step", as if that time were a merge's."""
    with Cache.open(tmp_path / "c.db", KEY) as cache:
        d = dt.date(2026, 3, 3)
        insert_session(cache, "a", ["1", "2"], at(d), 300, 300, "merged",
                       steps={"compare": (60, 60), "review": (240, 240)})  # fmt: skip
        insert_session(cache, "b", ["3", "4"], at(d, 10), 120, 120, "not_same",
                       steps={"compare": (120, 120)})  # fmt: skip
        summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC)
    pdf = tmp_path / "r.pdf"
    ReportDocument(report_blocks(summary), footer="March 2026").write_pdf(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "Time per merge step" not in text
    assert re.search(r"Compare the records +2 +3.0 min", text), text
    flat = " ".join(text.split())
    assert "Every pair looked at counts under “Compare the records”, whether it was merged" in flat
