"""``mergedesk watch [--every 15m] [--once]``: the watch without a window.

Prints each new likely or possible pair (both patient ids, the band, why it was flagged, which
record is new and when and how it was made) on stdout, and the intake alarm when it sounds.
``--once`` runs one interval and exits (for Windows Task Scheduler, launchd or a systemd
timer; docs/watch.md): status 0, or 3 when Cliniko could not be reached.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from dataclasses import replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from desktop.timestamps import parse_timestamp, weekday_words

if TYPE_CHECKING:  # the watch pulls in the matcher: imported when the command runs
    from desktop.watch import NewPair, WatchEvent

UNREACHABLE = 3
ONCE_RETRIES = 2
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "": 60}


def parse_every(text: str) -> float:
    """``15m``, ``1h``, ``90s`` or a number of minutes, in seconds (at least 10 s)."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: write it as 15m, 1h or 90s")
    seconds = float(match.group(1)) * _SECONDS[match.group(2).lower()]
    if seconds < 10:
        raise argparse.ArgumentTypeError("the watch cannot run more often than every 10 s")
    return seconds


def add_watch_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``watch`` on the sub-command parsers."""
    watch = sub.add_parser(
        "watch", parents=[common], help="sync and re-score every few minutes; print new duplicates"
    )
    watch.add_argument(
        "--every", type=parse_every, metavar="15m", help="how often (default: the settings, 15m)"
    )
    watch.add_argument("--once", action="store_true", help="one interval, then exit")
    watch.add_argument("--base-url", help="talk to this API root instead of Cliniko's")
    watch.add_argument(
        "--rate-limit", type=int, default=190, help="requests per minute to stay under"
    )
    watch.set_defaults(run=cmd_watch)


def describe_pair(pair: NewPair, tz: tzinfo) -> str:
    """One pair as one line: ids, band, why, and where the new record came from."""
    made = ""
    if pair.created_at is not None:
        created = weekday_words(pair.created_at.astimezone(tz))
        made = f", created {created}" + (f" ({pair.window})" if pair.window else "")
    line = f"{pair.band:<8} {pair.new_id} (new{made}) ~ {pair.other_id}: " + (
        "; ".join(pair.why) or "similar records"
    )
    if pair.signals:
        line += " | " + "; ".join(pair.signals)
    if len(pair.next_appointments) == 2:
        first = parse_timestamp(min(pair.next_appointments.values()))
        soonest = f", next {weekday_words(first.astimezone(tz))}" if first else ""
        line += f" | both booked: split history{soonest}"
    return line


def cmd_watch(args: argparse.Namespace) -> int:
    """Run the watch until Ctrl-C, or one interval with ``--once``."""
    from desktop.account import stored_account
    from desktop.cli_commands import _keyed_data_dir, _open_session, _plain_errors
    from desktop.config import load_settings
    from desktop.intake import account_time_zone
    from desktop.matching import MatchSettings
    from desktop.watch import Watch, WatchSettings

    @_plain_errors
    def run(args: argparse.Namespace) -> int:
        data_dir, key = _keyed_data_dir(args)
        settings = load_settings(data_dir)
        watch_settings = WatchSettings.from_settings(settings)
        if args.every:
            watch_settings = replace(watch_settings, every_seconds=args.every)
        match = replace(
            MatchSettings(),
            likely_threshold=settings.likely_threshold,
            possible_threshold=settings.possible_threshold,
        )
        session = _open_session(args, data_dir, key, max_requests_per_minute=args.rate_limit)
        if args.once:  # the scheduler's next run is the retry: do not wait here for long
            session.client.max_retries = ONCE_RETRIES
            session.client.max_rate_limit_retries = ONCE_RETRIES
        cache = session.cache
        outcome = {"offline": False}
        try:
            if stored_account(cache.db) is None:
                session.identify_user()
            tz = account_time_zone(cache.db)

            def show(event: WatchEvent) -> None:
                if event.kind == "pair" and event.pair is not None:
                    print(describe_pair(event.pair, tz), flush=True)
                elif event.kind == "alarm":
                    print(f"Intake alarm: {event.message}", flush=True)
                elif event.kind == "offline":
                    outcome["offline"] = True
                    wait = "" if args.once else f" Trying again in {event.report.next_in:.0f} s."
                    print(f"{event.message}{wait}", file=sys.stderr, flush=True)
                elif event.kind == "interval":
                    outcome["offline"] = False
                    report = event.report
                    if report.baseline is not None:
                        print(report.baseline_words(), file=sys.stderr, flush=True)
                    print(
                        f"{report.started_at.astimezone(tz):%H:%M} checked: "
                        f"{len(report.new_pairs)} new pair(s), {report.changed} new or changed "
                        f"patient(s), {report.requests} request(s).",
                        file=sys.stderr,
                        flush=True,
                    )

            watch = Watch(session, settings=watch_settings, match_settings=match, on_event=show)
            if args.once:
                watch.run_once()
            else:
                watch.run(threading.Event())
        finally:
            session.close()
            cache.close()
        return UNREACHABLE if outcome["offline"] else 0

    return run(args)


__all__ = ["add_watch_parser", "cmd_watch", "describe_pair", "parse_every"]
