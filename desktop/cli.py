"""The ``mergedesk`` command: gui (default), demo, simulator, login, sync, scan, audit,
self-test."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from desktop import APP_NAME, __version__
from desktop.cli_watch import add_watch_parser


def _global_options(*, in_subcommand: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the sub-command's name.

    Inside a sub-command their defaults are SUPPRESS, so a value given before the name
    (``mergedesk --data-dir D sync``) is not overwritten by the sub-command's default.
    """
    options = argparse.ArgumentParser(add_help=False)
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if in_subcommand else {}
    options.add_argument(
        "--data-dir", metavar="DIR", help="keep the cache, settings and logs in DIR", **default
    )
    options.add_argument(
        "-v", "--verbose", action="store_true", help="print debug messages", **default
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; the global options work before or after the sub-command."""
    common = _global_options(in_subcommand=True)
    parser = argparse.ArgumentParser(
        prog="mergedesk",
        description=f"{APP_NAME}: find, merge and cost duplicate patient records in Cliniko.",
        parents=[_global_options(in_subcommand=False)],
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("gui", parents=[common], help="open the app (the default)")

    demo = sub.add_parser("demo", parents=[common], help="open the app on a built-in sample clinic")
    demo.add_argument("--patients", type=int, default=3000, help="size of the sample clinic")
    demo.add_argument("--seed", type=int, default=1, help="seed of the sample clinic")
    demo.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)

    sim = sub.add_parser(
        "simulator", parents=[common], help="run the local Cliniko simulator on loopback"
    )
    sim.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sim.add_argument("--patients", type=int, default=5000, help="size of the sample clinic")
    sim.add_argument("--seed", type=int, default=1, help="seed of the sample clinic")
    sim.add_argument("--seed-file", metavar="FILE", help="serve the patients in this JSON file")
    sim.add_argument(
        "--country",
        default="AU",
        type=str.upper,
        help="the account's country: AU, NZ, GB, IE, CA or US (its currency and time zone "
        "follow; default: AU)",
    )
    sim.add_argument(
        "--faults",
        default="",
        help="e.g. latency=50,5xx=0.05,drop=0.02,storm=0.01,silent-drop",
    )
    sim.add_argument("--rate-limit", type=int, default=200, help="requests per minute")
    sim.add_argument(
        "--live", action="store_true", help="new patients and bookings keep arriving (a day)"
    )

    login = sub.add_parser(
        "login", parents=[common], help="check a Cliniko API key and save it in the keychain"
    )
    login.add_argument("--base-url", help="talk to this API root instead of Cliniko's")
    login.add_argument("--key-stdin", action="store_true", help="read the key from stdin")

    sync = sub.add_parser("sync", parents=[common], help="download patients into the cache")
    sync.add_argument("--base-url", help="talk to this API root instead of Cliniko's")
    sync.add_argument("--full", action="store_true", help="download everything again")
    sync.add_argument(
        "--rate-limit", type=int, default=190, help="requests per minute to stay under"
    )
    sync.add_argument(
        "--reconcile",
        action="store_true",
        help="also compare every cached patient with Cliniko and repair any difference",
    )

    scan = sub.add_parser("scan", parents=[common], help="find duplicates in the cache")
    scan.add_argument("--export", metavar="CSV", help="also write the pairs to this CSV file")
    scan.add_argument("--full", action="store_true", help="re-score every patient")

    report = sub.add_parser("report", parents=[common], help="the labor-cost summary (PDF, CSV)")
    report.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", metavar="DATE", help="last day (included)")
    report.add_argument("--pdf", metavar="FILE", help="write the summary as a PDF")
    report.add_argument(
        "--csv", metavar="FILE", help="write one row per work session, and a total row"
    )
    report.add_argument("--per-admin", action="store_true", help="add a per-administrator table")

    audit = sub.add_parser("audit", parents=[common], help="check or export the audit trail")
    audit.add_argument("action", choices=["verify", "export"])
    audit.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    audit.add_argument("--to", dest="date_to", metavar="DATE", help="last day (included)")
    audit.add_argument("--csv", metavar="FILE", help="export: write the entries to this CSV")

    self_test = sub.add_parser(
        "self-test", parents=[common], help="check that this installation works, then exit"
    )
    self_test.add_argument(
        "--require-keyring",
        metavar="NAME",
        help="fail unless the keyring backend's name contains NAME (e.g. SecretService)",
    )
    add_watch_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Output piped into a reader that stops early (``mergedesk scan | head``) ends quietly.
    """
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in a traceback at exit
        return code
    except BrokenPipeError:
        return _quiet_after_closed_pipe()


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from desktop import cli_commands  # imported late: keeps --help fast

    command = args.command or "gui"
    named = getattr(cli_commands, f"cmd_{command.replace('-', '_')}", None)
    handler: Callable[[argparse.Namespace], int | None] | None = getattr(args, "run", None) or named
    if handler is None:
        build_parser().error(f"no such command: {command}")
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130


def _quiet_after_closed_pipe() -> int:
    """The reader of our output went away (``mergedesk ... | head``): end quietly.

    Python would print a BrokenPipeError when it flushes stdout at exit; pointing stdout at
    the null device first keeps that flush silent.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # what a shell reports for a process ended by SIGPIPE


def gui_main() -> int:
    """Entry point of the windowed launcher."""
    return main(["gui", *sys.argv[1:]])
