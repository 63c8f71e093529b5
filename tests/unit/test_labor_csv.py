"""The CSV export: one row per work session, ids only, totals that match the summary."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from labor_data import at, insert_session

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.csv_export import COLUMNS, csv_text, safe_cell, write_csv
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache

KEY = "7a" * 32


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def test_rows_totals_and_ids_only(cache: Cache, tmp_path: Path) -> None:
    d = dt.date(2026, 3, 4)
    insert_session(cache, "m", ["1002", "1001"], at(d), 401, 700, "merged", plan_id="p1",
                   steps={"compare": (300, 200), "review": (400, 201)})  # fmt: skip
    insert_session(cache, "r", ["7", "8"], at(d, 11), 77, 90, "not_same", user="=HYPERLINK()")
    insert_session(cache, "s", ["9", "10"], at(d, 12), 13, 13, "skipped")
    settings = Settings(hourly_rate=33.33, on_cost_percent=17)
    summary = build_summary(cache, Period.month(2026, 3), settings, tz=dt.UTC)
    path = tmp_path / "rows.csv"
    assert write_csv(summary, path) == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    first = rows[0]
    assert (first["date"], first["start_time"], first["outcome"], first["kind"]) == (
        "2026-03-04", "09:00:00", "merged", "merge",
    )  # fmt: skip
    assert first["utc_offset"] == "+00:00"  # the start time's zone was named nowhere
    assert first["patient_ids"] == "1001 1002" and first["plan_id"] == "p1"
    assert Decimal(first["active_minutes"]) == Decimal("6.6833")
    assert rows[1]["cliniko_user"] == "'=HYPERLINK()" and rows[1]["kind"] == "review"
    assert rows[2]["kind"] == "other"
    *sessions, total = rows
    assert total["outcome"] == "total" and total["cost"] == f"{summary.cost}"
    minutes = sum(Decimal(r["costed_minutes"]) for r in sessions)
    assert minutes == Decimal(total["costed_minutes"])
    cost = (minutes / 60 * Decimal("33.33") * Decimal("1.17")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert cost == summary.cost
    assert "Test" not in csv_text(summary) and "Person" not in csv_text(summary)


def test_wall_time_rows_are_costed_on_wall_minutes(cache: Cache) -> None:
    insert_session(cache, "m", ["1", "2"], at(dt.date(2026, 3, 4)), 60, 600, "merged")
    summary = build_summary(cache, Period.month(2026, 3), Settings(use_wall_time=True), tz=dt.UTC)
    line = csv_text(summary).splitlines()[1].split(",")
    assert line[COLUMNS.index("costed_minutes")] == "10.0000"
    assert line[COLUMNS.index("cost")] == "4.67"


def test_safe_cell() -> None:
    assert safe_cell("+61 400") == "'+61 400" and safe_cell("Alex") == "Alex"


def test_a_start_time_names_its_offset_from_utc(cache: Cache) -> None:
    """The start time is the clinic's; nothing said which zone that was."""
    from zoneinfo import ZoneInfo

    d = dt.date(2026, 3, 4)
    insert_session(cache, "m", ["1", "2"], at(d), 60, 60, "merged")
    zone = ZoneInfo("Australia/Brisbane")
    summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=zone)
    row = dict(zip(COLUMNS, csv_text(summary).splitlines()[1].split(","), strict=True))
    assert (row["start_time"], row["utc_offset"]) == ("19:00:00", "+10:00")


def test_an_empty_period_gives_the_header_and_a_zero_total(cache: Cache) -> None:
    summary = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC)
    header, total = csv_text(summary).splitlines()
    assert header == ",".join(COLUMNS)
    assert total.split(",")[3:10] == ["total", "", "0.0000", "0.0000", "0.0000", "0.00", "$"]


def test_the_rows_costs_add_up_to_the_total(cache: Cache, tmp_path: Path) -> None:
    """Seven sessions of a minute at $28 an hour: each is 46.67 cents. Rounded on its own,
    each row said 0.47 and the rows made $3.29 under a total of $3.27 (a walk: $4.00 of rows
    under $3.98); a finance reader adds them up."""
    for i in range(7):
        insert_session(cache, f"s{i}", [str(i), str(i + 100)], at(dt.date(2026, 3, 4), 9 + i),
                       60, 60, "not_same")  # fmt: skip
    summary = build_summary(cache, Period.month(2026, 3), Settings(hourly_rate=28), tz=dt.UTC)
    path = tmp_path / "rows.csv"
    write_csv(summary, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        *sessions, total = list(csv.DictReader(handle))
    assert total["cost"] == "3.27" == f"{summary.cost}"
    assert sum(Decimal(r["cost"]) for r in sessions) == Decimal("3.27")
    assert sorted({r["cost"] for r in sessions}) == ["0.46", "0.47"]
