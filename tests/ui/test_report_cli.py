"""``mergedesk report`` in-process: a year of data to PDF and CSV, and bad dates."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from labor_data import insert_year

from desktop.cli import main
from desktop.config import Settings, save_settings
from desktop.store.cache import open_cache

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils")


def test_a_year_to_pdf_and_csv(qapp, data_dir: Path, tmp_path: Path, capsys) -> None:
    with open_cache(data_dir) as cache:
        insert_year(cache, 2025)
    save_settings(data_dir, Settings(hourly_rate=29.95, on_cost_percent=15))
    pdf, table = tmp_path / "year.pdf", tmp_path / "year.csv"
    argv = ["report", "--data-dir", str(data_dir), "--from", "2025-01-01", "--to", "2025-12-31",
            "--pdf", str(pdf), "--csv", str(table)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Wrote 4,380 rows" in out and "page PDF" in out
    # every report names the audit trail's head and whether the cache was compared with Cliniko
    assert "Records: Audit trail:" in out and "compared in full with Cliniko" in out
    with table.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["outcome"] != "total"]
        minutes = sum(Decimal(r["active_minutes"]) for r in rows)
    cost = (minutes / 60 * Decimal("29.95") * Decimal("1.15")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert f"${cost:,}" in text and f"${cost:,}" in out
    assert "Hours and cost per month" in text and "Dec" in text


def test_bad_dates_are_refused(data_dir: Path, capsys) -> None:
    assert main(["report", "--data-dir", str(data_dir), "--from", "2025-13-01"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_a_file_that_cannot_be_written_is_said_before_the_report(
    data_dir: Path, tmp_path: Path, capsys
) -> None:
    """A CSV or PDF path in a folder that does not exist, or a folder, ended the report in a
    Python traceback (FileNotFoundError, IsADirectoryError, QPainter) after printing it."""
    with open_cache(data_dir) as cache:  # a cache with a year of work to report
        insert_year(cache, 2025)
    missing = tmp_path / "nodir" / "x.csv"
    assert main(["report", "--data-dir", str(data_dir), "--csv", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert err == f"Error: cannot write {missing}: there is no folder {missing.parent}.\n"
    assert out == "" and "Traceback" not in err
    assert main(["report", "--data-dir", str(data_dir), "--pdf", str(tmp_path)]) == 2
    assert "it is a folder; give a file name" in capsys.readouterr().err


def test_the_day_the_cache_was_compared_is_on_the_clinics_clock(data_dir: Path, capsys) -> None:
    """Compared at 20:30 UTC on 6 Dec, 07:30 on 7 Dec in Sydney: the report said "on 6 Dec
    2026" under a "Prepared 7 Dec 2026 ... AEDT" line."""
    from desktop.account import Account, remember_account
    from desktop.reconcile import LAST_AT, LAST_DRIFTED
    from desktop.store.sync_state import set_state
    from desktop.store.transaction import transaction

    for count, words in (("2", "2 records"), ("1", "1 record")):  # it read "1 records"
        with open_cache(data_dir) as cache:
            remember_account(cache, Account(name="Harbour Physio", time_zone="Australia/Sydney"))
            with transaction(cache) as db:
                set_state(db, LAST_AT, "2026-12-06T20:30:00Z")
                set_state(db, LAST_DRIFTED, count)
        assert main(["report", "--data-dir", str(data_dir)]) == 0
        out = capsys.readouterr().out
        assert f"Cache last compared with Cliniko on 7 Dec 2026: {words} had drifted." in out
