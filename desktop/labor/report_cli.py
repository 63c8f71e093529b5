"""``mergedesk report``: the labor summary of a period on stdout, and as CSV and PDF files.

Qt-free: the PDF is written by the function the caller passes in (``desktop.cli_commands``
gives :func:`desktop.ui.report_document.write_report_pdf`, which paints offscreen when there is
no display), so this module stays importable and testable without Qt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from desktop.config import load_settings
from desktop.intake import account_time_zone
from desktop.labor.cost import Period, stored_clinic_name
from desktop.labor.csv_export import write_csv
from desktop.labor.record_keeping import record_keeping
from desktop.labor.report_text import Block, render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import open_cache

PdfWriter = Callable[[list[Block], str, Path], int]


# A report's period: no work can be recorded before this day, nor over more than so many years.
EARLIEST_DAY = dt.date(2000, 1, 1)
LONGEST_YEARS = 10


def period_from(date_from: str | None, date_to: str | None, today: dt.date | None = None) -> Period:
    """The period of ``--from``/``--to`` (``YYYY-MM-DD``, both included).

    Neither: this month. Only ``--from``: up to today. Only ``--to``: from the first of its month.

    Raises:
        ValueError: in words a person can act on: a date is not ``YYYY-MM-DD``, the period
            ends before it starts, starts after today (only ``--from``), before 2000, or
            spans more than ten years.
    """
    first, last = parse_day("--from", date_from), parse_day("--to", date_to)
    if first is None and last is None:
        return Period.this_month(today)
    today = today or dt.date.today()
    if last is None and first is not None and first > today:
        raise ValueError(f"--from {first} is after today ({today}): give --to as well")
    last = last or today
    first = first or last.replace(day=1)
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    if first < EARLIEST_DAY:
        raise ValueError(f"--from {first} is before {EARLIEST_DAY}: MergeDesk records no work then")
    if (last - first).days > LONGEST_YEARS * 366:
        raise ValueError(f"the period is longer than {LONGEST_YEARS} years: give a shorter one")
    return Period.custom(first, last)


def parse_day(option: str, text: str | None) -> dt.date | None:
    """One date option (``YYYY-MM-DD``), or None when not given.

    Raises:
        ValueError: naming the option and what was typed.
    """
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD") from None


def refusal(args: argparse.Namespace) -> str | None:
    """Why the report cannot be made as asked, before the cache is read: its dates, or a file
    it cannot write (said before the report, not after it). None when it can."""
    try:
        period_from(args.date_from, args.date_to)
    except ValueError as error:
        return str(error)
    for target in filter(None, [args.csv, args.pdf]):
        problem = unwritable(Path(target))
        if problem:
            return f"cannot write {target}: {problem}"
    return None


def run_report_command(
    args: argparse.Namespace, data_dir: Path, pdf_writer: PdfWriter | None = None
) -> int:
    """Print the summary; write ``args.csv`` and (with ``pdf_writer``) ``args.pdf``.

    The caller has checked :func:`refusal` first (before finding the cache).
    """
    with open_cache(data_dir, readonly=True) as cache:
        today = dt.datetime.now(account_time_zone(cache.db)).date()  # the clinic's day
        period = period_from(args.date_from, args.date_to, today)
        summary = build_summary(cache, period, load_settings(data_dir), per_admin=args.per_admin)
        records = record_keeping(cache, summary.generated_at.tzinfo)
        blocks = report_blocks(
            summary,
            stored_clinic_name(cache),
            audit_head=records.audit_head,
            last_reconciliation=records.last_reconciliation,
        )
    print(render_plain(blocks), end="")
    try:
        if args.csv:
            print(f"Wrote {write_csv(summary, Path(args.csv)):,} rows to {args.csv}.")
        if args.pdf:
            if pdf_writer is None:
                print("Error: PDF output is not available here.", file=sys.stderr)
                return 2
            pages = pdf_writer(blocks, period.label, Path(args.pdf))
            print(f"Wrote a {pages}-page PDF to {args.pdf}.")
    except OSError as exc:  # a full disk, no permission: in words, not a traceback
        print(f"Error: could not write the file: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    return 0


def unwritable(path: Path) -> str:
    """Why a report file cannot be written at ``path`` ("" when it looks writable)."""
    if path.is_dir():
        return "it is a folder; give a file name"
    if not path.parent.is_dir():
        return f"there is no folder {path.parent}"
    return ""
