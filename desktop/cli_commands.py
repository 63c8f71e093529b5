"""What each ``mergedesk`` sub-command does (argument parsing is in :mod:`desktop.cli`)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import sys
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop import paths
from desktop.config import load_settings, save_settings
from desktop.logging_setup import configure_logging

if TYPE_CHECKING:
    from desktop.session import Session

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace], int]


def _plain_errors(command: Command) -> Command:
    """Turn our typed errors into one plain-words line on stderr and exit status 2."""

    @wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Exception as error:  # our errors all carry a user_message
            message = getattr(error, "command_line_message", None) or getattr(
                error, "user_message", None
            )
            if message is None:
                raise
            log.debug("Command failed", exc_info=True)
            print(f"Error: {message}", file=sys.stderr)
            return 2

    return run


def _data_dir(args: argparse.Namespace) -> Path:
    directory = paths.data_dir(args.data_dir)
    configure_logging(directory, verbose=args.verbose)
    return directory


class NoCacheHere(Exception):
    """A command that works on a clinic's cache was pointed at a folder without one."""

    def __init__(self, folder: Path) -> None:
        super().__init__("no cache in the data folder")
        self.user_message = (
            f"There is no MergeDesk cache in {folder} yet. Download your patients first "
            "(mergedesk login, then mergedesk sync), or check --data-dir."
        )


def _synced_data_dir(args: argparse.Namespace) -> Path:
    """The data folder of a command that reads the cache (scan, report, audit): one a sync
    has filled. A mistyped --data-dir is said so, and no folder or empty cache is made."""
    folder = paths.chosen_data_dir(args.data_dir)
    if not folder.is_file() and not paths.cache_path(folder).is_file():
        raise NoCacheHere(folder)
    return _data_dir(args)  # a file in the folder's place is said so here


def _base_url(args: argparse.Namespace, data_dir: Path) -> str | None:
    return getattr(args, "base_url", None) or load_settings(data_dir).base_url


@_plain_errors
def cmd_simulator(args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C; its first line gives the base URL and a demo key."""
    from desktop.simulator import FaultConfig, Simulator, load_patients_json

    _data_dir(args)
    try:  # a seed file, a fault or a country it cannot use: said in a line, not a traceback
        patients = load_patients_json(Path(args.seed_file)) if args.seed_file else None
        simulator = Simulator(
            patients,
            size=args.patients,
            seed=args.seed,
            faults=FaultConfig.parse(args.faults),
            rate_limit_per_minute=args.rate_limit,
            port=args.port,
            country=args.country,
        )
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    with simulator:
        if getattr(args, "live", False):  # a day of arrivals; the first duplicate in a minute
            simulator.go_live(hours=24, seed=args.seed, first_duplicate_after=60)
        print(f"{simulator.base_url} {simulator.api_key}", flush=True)
        print(
            f"Cliniko simulator with {len(simulator.patients_snapshot())} patients. "
            f"Web UI: {simulator.web_url}. Press Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Simulator stopped.", file=sys.stderr)
    return 0


@_plain_errors
def cmd_login(args: argparse.Namespace) -> int:
    """Check a key with ``GET /user`` and ``GET /settings/public``, then keep it in the keychain."""
    from desktop.account import fetch_account
    from desktop.cliniko.client import ClinikoClient
    from desktop.secrets import store_api_key

    data_dir = _data_dir(args)
    if args.key_stdin:
        key = sys.stdin.readline().strip()
    elif not sys.stdin.isatty():  # getpass would fall back to reading stdin, and fail at its end
        print(
            "Error: no terminal to paste the key into: pipe it in with --key-stdin "
            "(for example: mergedesk login --key-stdin < keyfile).",
            file=sys.stderr,
        )
        return 2
    else:
        key = getpass.getpass("Paste your Cliniko API key (it is not shown): ").strip()
    with ClinikoClient(key, base_url=args.base_url) as client:
        user = client.get_user()
        key_account = fetch_account(client, user)
    _refuse_another_clinics_key(data_dir, key_account)
    store_api_key(key, data_dir)
    waiting = _forget_refused_key(data_dir)
    if args.base_url:
        settings = load_settings(data_dir)
        settings.base_url = args.base_url
        save_settings(data_dir, settings)
    name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
    print(f"Connected to {key_account.name or 'your clinic'} as {name or 'your user'}.")
    print("The key is saved in your system keychain.")
    if waiting:
        plans = f"{waiting} planned merge{'s' if waiting != 1 else ''}"
        print(f"{plans} that stopped when Cliniko refused the old key can go on in MergeDesk now.")
    return 0


def _forget_refused_key(data_dir: Path) -> int:
    """A new key is in: the plans whose last try Cliniko refused for the old key say they can
    go on, as File > Change Cliniko API key… makes them say. Returns how many; none while
    MergeDesk has the cache open (its plans say so at their next try; the key is saved)."""
    from desktop.merge.batch import forget_refused_key
    from desktop.store import StoreError
    from desktop.store.cache import open_cache

    if not paths.cache_path(data_dir).exists():
        return 0
    try:
        with open_cache(data_dir) as cache:
            return forget_refused_key(cache)
    except StoreError as exc:  # in use by the app, say
        log.debug("plans not told of the new key: %s", type(exc).__name__)
        return 0


def _refuse_another_clinics_key(data_dir: Path, key_account: Any) -> None:
    """Raise OtherAccountsCache when the folder's cache was filled from another account."""
    from desktop.account import stored_account
    from desktop.session import refuse_another_clinic
    from desktop.store.cache import open_cache

    if not paths.cache_path(data_dir).exists():
        return
    with open_cache(data_dir, readonly=True) as cache:
        refuse_another_clinic(stored_account(cache.db), key_account)


def _keyed_data_dir(args: argparse.Namespace) -> tuple[Path, str]:
    """The data folder and API key of a command that talks to Cliniko (sync, watch). A folder
    not made yet, with no key saved for it, is said so and not made (a mistyped --data-dir
    made one, with a log in it); an existing folder's log records a missing key (a scheduled
    watch has no terminal)."""
    folder = paths.chosen_data_dir(args.data_dir)
    if not folder.exists():
        _saved_key(args, folder)
    data_dir = _data_dir(args)
    return data_dir, _saved_key(args, data_dir)


def _saved_key(args: argparse.Namespace, folder: Path) -> str:
    """The folder's API key; none saved is said with the command that saves one."""
    from desktop.secrets import KeyringState, SecretsError, get_api_key

    try:
        return get_api_key(folder)
    except SecretsError as error:
        if error.state is not KeyringState.NOT_FOUND:
            raise
        login = "mergedesk login" + (f' --data-dir "{folder}"' if args.data_dir else "")
        raise SecretsError(
            KeyringState.NOT_FOUND,
            f"No Cliniko API key is saved for {folder} yet. Run {login} first and paste the "
            "key from Cliniko (My info > Manage API keys).",
        ) from None


def _open_session(args: argparse.Namespace, data_dir: Path, key: str, **kwargs: Any) -> Session:
    from desktop.session import Session
    from desktop.store.cache import open_cache

    cache = open_cache(data_dir)
    try:
        return Session(cache, key, base_url=_base_url(args, data_dir), **kwargs)
    except BaseException:
        cache.close()
        raise


class _ProgressLine(logging.Filter):
    """A progress line on stderr, rewritten in place ("\r"); a warning logged meanwhile
    starts on a line of its own (it was printed onto the end of the progress)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = False
        self._consoles = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        ]
        for handler in self._consoles:
            handler.addFilter(self)

    def show(self, text: str) -> None:
        print(f"\r{text}", end="", file=sys.stderr, flush=True)
        self.open = True

    def filter(self, record: logging.LogRecord) -> bool:
        """Before a log line reaches the terminal: end the progress line."""
        self._end()
        return True

    def close(self) -> None:
        """End the line and stop watching the log."""
        self._end()
        for handler in self._consoles:
            handler.removeFilter(self)

    def _end(self) -> None:
        if self.open:
            print(file=sys.stderr, flush=True)
            self.open = False


@_plain_errors
def cmd_sync(args: argparse.Namespace) -> int:
    """Download patients (all of them the first time, then what changed)."""
    from desktop.labor.timelog import TimeLog
    from desktop.merge.batch import finish_merged_plans
    from desktop.sync import SyncProgress, run_sync, sync_notes, sync_summary

    data_dir, key = _keyed_data_dir(args)
    session = _open_session(args, data_dir, key, max_requests_per_minute=args.rate_limit)
    cache = session.cache

    progress_line = _ProgressLine()

    def show(progress: SyncProgress) -> None:
        total = max(progress.total, progress.done)
        progress_line.show(
            f"{progress.phase} sync: {progress.done:,}/{total:,} patients read "
            f"({progress.rate:,.0f}/s)"
        )

    reconcile_every = load_settings(data_dir).reconcile_interval
    try:
        session.identify_user()
        result = run_sync(
            session,
            progress=show,
            full=args.full,
            reconcile_now=args.reconcile,
            reconcile_every=reconcile_every,
        )
        if not result.cancelled:  # merges done in Cliniko with no merge window open
            finish_merged_plans(
                cache, session, TimeLog.from_settings(cache, load_settings(data_dir))
            )
    finally:
        progress_line.close()
        session.close()
        cache.close()
    if result.cancelled:
        print("Sync cancelled. What was downloaded is kept; run sync again to continue.")
        return 1
    print(f"{result.mode.capitalize()} sync done: {sync_summary(result)}.")
    for note in sync_notes(result):
        print(note)
    return 0


@_plain_errors
def cmd_scan(args: argparse.Namespace) -> int:
    """Score candidate pairs and fill the merge queue; optionally export them as CSV."""
    from desktop.scan import export_pairs_csv, run_scan
    from desktop.store.cache import open_cache

    data_dir = _synced_data_dir(args)
    with open_cache(data_dir) as cache:
        summary = run_scan(cache, full=True if args.full else None)
        print(
            f"{summary.kind.capitalize()} scan of {summary.records:,} patients "
            f"({summary.changed:,} new or changed) in {summary.seconds:.1f} s: "
            f"{summary.likely:,} likely and {summary.possible:,} possible duplicate pairs, "
            f"{summary.clusters:,} groups of three or more records."
        )
        for kind, _largest, what in summary.skipped:
            print(f"Note: blocks sharing a {kind} key were too large: {what}.")
        if args.export:
            rows = export_pairs_csv(cache, Path(args.export))
            paths.make_private(args.export)
            print(f"Wrote {rows:,} pairs to {args.export}.")
    return 0


@_plain_errors
def cmd_report(args: argparse.Namespace) -> int:
    """The labor-cost summary of a period; optionally as PDF and CSV (desktop.labor.report_cli)."""
    from desktop.labor.report_cli import PdfWriter, refusal, run_report_command

    pdf_writer: PdfWriter | None = None
    if args.pdf:
        from desktop.ui.report_document import write_report_pdf

        pdf_writer = write_report_pdf
    problem = refusal(args)  # bad dates or files are said before a missing cache
    if problem:
        print(f"Error: {problem}.", file=sys.stderr)
        return 2
    code = run_report_command(args, _synced_data_dir(args), pdf_writer)
    for written in filter(None, [args.pdf, args.csv]):  # an older file keeps its mode
        paths.make_private(written)
    return code


@_plain_errors
def cmd_audit(args: argparse.Namespace) -> int:
    """``audit verify``: check the chain, seals and keychain head; ``audit export``: to CSV."""
    from desktop.audit_export import export_csv, head_line, verify_cache
    from desktop.labor.report_cli import EARLIEST_DAY, parse_day
    from desktop.store.cache import open_cache

    data_dir = _synced_data_dir(args)
    if args.action == "export":
        if not args.csv:
            print("Error: give the file to write with --csv FILE.", file=sys.stderr)
            return 2
        try:
            first = parse_day("--from", args.date_from) or EARLIEST_DAY
            last = parse_day("--to", args.date_to) or dt.date.today()
        except ValueError as error:
            print(f"Error: {error}.", file=sys.stderr)
            return 2
        with open_cache(data_dir, readonly=True) as cache:
            result = verify_cache(cache)
            rows = export_csv(cache, first, last, Path(args.csv))
        print(f"Wrote {rows:,} audit entries from {first} to {last} to {args.csv}.")
        if not result.ok:
            print(f"Warning: the audit trail is broken at entry {result.first_broken_seq}: "
                  f"{result.reason}", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    with open_cache(data_dir, readonly=True) as cache:
        result = verify_cache(cache)
        head = head_line(cache)
    if result.ok:
        print(f"Audit trail intact: {result.entries:,} entries verified ({result.reason}).")
        print(head)
        return 0
    print(
        f"Audit trail broken at entry {result.first_broken_seq} ({result.case}): {result.reason}",
        file=sys.stderr,
    )
    print(head)
    return 1


@_plain_errors
def cmd_gui(args: argparse.Namespace) -> int:
    """Open the app."""
    from desktop.ui.app import run_app

    return run_app(_data_dir(args))


@_plain_errors
def cmd_demo(args: argparse.Namespace) -> int:
    """Open the app connected to a built-in simulator with a sample clinic."""
    from desktop.ui.app import run_demo

    return run_demo(
        _data_dir(args), patients=args.patients, seed=args.seed, quit_after=args.quit_after
    )


def cmd_self_test(args: argparse.Namespace) -> int:
    """Check the installation (cache, keyring, main window, PDF); exit 0 only if all passed."""
    from desktop.selftest import Report, run_self_test

    def gui_checks(report: Report, folder: Path) -> None:
        from desktop.ui.self_test import run_gui_checks

        run_gui_checks(report, folder)

    if args.verbose:
        logging.basicConfig(level=logging.DEBUG)
    return run_self_test(gui_checks, require_keyring=args.require_keyring)
