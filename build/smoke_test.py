#!/usr/bin/env python3
"""Smoke-test a built MergeDesk bundle: run its self-test (and, with --demo, the demo).

    python build/smoke_test.py /tmp/pyi-dist/MergeDesk            # Linux / Windows folder
    python build/smoke_test.py /tmp/pyi-dist/MergeDesk.app --demo # macOS app
    python build/smoke_test.py DIST --runs 3 --cold --require-keyring SecretService

Passes (exit 0) only when every self-test run exits 0, prints a PASS line for every check and
its "self-test passed" summary, and writes nothing to stderr except known harmless Qt lines
(ALLOWED_STDERR). The timing of each run is printed: when the main window was shown, as seen by
the bundle (since its process started) and by this script (since it spawned the process); with
--cold the first run starts with the bundle's files dropped from the page cache.

With --demo it also runs ``demo --quit-after N`` on the bundle's built-in simulator in a
temporary data folder and requires exit 0, clean stderr and a finished sync in the demo's log.

Standard library only: it runs with any Python 3.11+, not necessarily the project's.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

GUI_NAME = "MergeDesk"
CLI_NAME = "mergedesk-cli"

# stderr lines that are known and harmless. Anything else fails the smoke test.
ALLOWED_STDERR: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        # the offscreen platform plugin, when a window is shown
        r"^This plugin does not support propagateSizeHints\(\)$",
        r"^This plugin does not support raise\(\)$",
        r"^This plugin does not support grabbing the keyboard$",
        # running as root or without a login session (CI containers)
        r"^QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '.+'$",
        r"^QStandardPaths: runtime directory '.+' is not owned by UID \d+, but a directory "
        r"permissions 0?7\d\d owned by UID \d+ GID \d+$",
        r"^QStandardPaths: wrong permissions on runtime directory .+, 0?7\d\d instead of 0?700$",
    )
)

CHECK_LINE = re.compile(r"^(PASS|FAIL) ([^:]+): (.*)$")
WINDOW_LINE = re.compile(r"^TIME main window shown ([0-9.]+) s after (.+)$")
SUMMARY_PASSED = re.compile(r"^self-test passed: (\d+) checks$")
DEMO_SYNC_DONE = re.compile(r"Full sync finished: (\d+) patients")


@dataclass
class SelfTestOutput:
    """What one self-test run printed, parsed."""

    checks: dict[str, bool] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    window_shown_s: float | None = None
    measured_from: str = ""
    summary_passed: bool = False

    @property
    def failures(self) -> list[str]:
        """Names of the checks that printed FAIL."""
        return [name for name, ok in self.checks.items() if not ok]


def parse_self_test(stdout: str) -> SelfTestOutput:
    """Parse the self-test's stdout (one line per check, TIME lines, a summary)."""
    out = SelfTestOutput()
    for raw in stdout.splitlines():
        line = raw.strip()
        if match := CHECK_LINE.match(line):
            out.checks[match.group(2)] = match.group(1) == "PASS"
            out.details[match.group(2)] = match.group(3)
        elif match := WINDOW_LINE.match(line):
            out.window_shown_s = float(match.group(1))
            out.measured_from = match.group(2)
        elif SUMMARY_PASSED.match(line):
            out.summary_passed = True
    return out


def unexpected_stderr(
    stderr: str, allowed: Iterable[re.Pattern[str]] = ALLOWED_STDERR
) -> list[str]:
    """Return the stderr lines that are not blank and match no allowed pattern."""
    patterns = list(allowed)
    return [
        line
        for line in (raw.rstrip() for raw in stderr.splitlines())
        if line.strip() and not any(p.match(line) for p in patterns)
    ]


def find_executables(bundle: Path, platform: str = sys.platform) -> tuple[Path, Path]:
    """Return the (console, windowed) executables of a bundle folder, ``.app`` or executable.

    Raises:
        FileNotFoundError: the bundle has no console executable.
    """
    suffix = ".exe" if platform == "win32" else ""
    if bundle.is_file():
        folder = bundle.parent
    elif bundle.suffix == ".app":
        folder = bundle / "Contents" / "MacOS"
    else:
        folder = bundle
    cli, gui = folder / f"{CLI_NAME}{suffix}", folder / f"{GUI_NAME}{suffix}"
    if not cli.is_file():
        raise FileNotFoundError(f"no {cli.name} in {folder}")
    return cli, gui


def gui_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a GUI run: offscreen Qt unless a platform or a display is set."""
    env = dict(os.environ if base is None else base)
    display = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    if not env.get("QT_QPA_PLATFORM") and not display and sys.platform.startswith("linux"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@dataclass
class Run:
    """One finished process: exit code, output, and when a watched line appeared."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    marker_s: float | None = None  # seconds from spawn to the first line matching the marker


def run_process(
    command: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    marker: re.Pattern[str] | None = None,
) -> Run:
    """Run a command, stream its stdout (timing ``marker``), collect stderr, enforce a timeout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    stderr_parts: list[str] = []
    reader = threading.Thread(target=lambda: stderr_parts.append(process.stderr.read()))
    reader.start()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines: list[str] = []
    marker_s = None
    try:
        for line in process.stdout:
            lines.append(line)
            print(f"  | {line.rstrip()}", flush=True)
            if marker_s is None and marker is not None and marker.match(line.strip()):
                marker_s = time.perf_counter() - started
        returncode = process.wait()
    finally:
        timer.cancel()
        reader.join()
    stderr = "".join(stderr_parts)
    if killed.is_set():
        stderr += f"\n[smoke test] killed after {timeout:.0f} s\n"
    return Run(returncode, "".join(lines), stderr, time.perf_counter() - started, marker_s)


def check_self_test(run: Run) -> list[str]:
    """Return the problems of one self-test run (empty when it passed)."""
    problems = []
    parsed = parse_self_test(run.stdout)
    if run.returncode != 0:
        problems.append(f"self-test exited with {run.returncode}")
    if parsed.failures:
        problems.append(f"checks failed: {', '.join(parsed.failures)}")
    if not parsed.checks:
        problems.append("self-test printed no checks")
    if not parsed.summary_passed:
        problems.append("no 'self-test passed' summary line")
    if parsed.window_shown_s is None:
        problems.append("no 'TIME main window shown' line")
    problems += [f"unexpected stderr: {line}" for line in unexpected_stderr(run.stderr)]
    return problems


def check_demo(run: Run, log_text: str) -> list[str]:
    """Return the problems of a demo run (exit code, stderr, a finished sync in the log)."""
    problems = []
    if run.returncode != 0:
        problems.append(f"demo exited with {run.returncode}")
    problems += [f"unexpected stderr: {line}" for line in unexpected_stderr(run.stderr)]
    if not DEMO_SYNC_DONE.search(log_text):
        problems.append("the demo's log shows no finished sync ('Full sync finished')")
    return problems


def evict_from_page_cache(folder: Path) -> int:
    """Ask the kernel to drop ``folder``'s files from the page cache; return how many.

    A cold start without root and without touching the rest of the machine (dropping every
    cache would slow down everything else running): only the bundle's own files are read from
    disk again; system libraries (libGL, fontconfig) stay cached. Linux only; elsewhere 0.
    """
    if not hasattr(os, "posix_fadvise"):
        return 0
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages (a fresh build) cannot be dropped until written back
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            count += 1
        finally:
            os.close(fd)
    return count


def summarise_times(times: Sequence[float]) -> str:
    """'first X s, median Y s over N runs' for the start-up times of the runs."""
    if not times:
        return "no timings"
    return (
        f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s over {len(times)} "
        f"run{'s' if len(times) != 1 else ''}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="the dist folder, the .app, or an executable")
    parser.add_argument("--runs", type=int, default=1, help="self-test runs (timing: 3)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the bundle's files from the page cache before the first run (Linux)",
    )
    parser.add_argument("--require-keyring", metavar="NAME", help="passed to self-test")
    parser.add_argument("--demo", action="store_true", help="also run the demo for a while")
    parser.add_argument("--demo-seconds", type=float, default=10.0)
    parser.add_argument("--demo-patients", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=180.0, help="per process, in seconds")
    args = parser.parse_args(argv)

    cli, gui = find_executables(args.bundle)
    problems: list[str] = []
    if not gui.is_file():
        problems.append(f"no windowed executable {gui.name} next to {cli.name}")
    inside, outside = [], []
    command = [str(cli), "self-test"]
    if args.require_keyring:
        command += ["--require-keyring", args.require_keyring]
    for n in range(1, args.runs + 1):
        if n == 1 and args.cold:
            evicted = evict_from_page_cache(cli.parent)
            print(f"== cold start: {evicted} bundle files dropped from the page cache", flush=True)
        print(f"== self-test run {n}/{args.runs}: {' '.join(command)}", flush=True)
        run = run_process(command, timeout=args.timeout, env=gui_environment(), marker=WINDOW_LINE)
        found = check_self_test(run)
        problems += [f"run {n}: {p}" for p in found]
        parsed = parse_self_test(run.stdout)
        if parsed.window_shown_s is not None:
            inside.append(parsed.window_shown_s)
        if run.marker_s is not None:
            outside.append(run.marker_s)
        for line in unexpected_stderr(run.stderr):
            print(f"  ! {line}", flush=True)
        print(
            f"   run {n}: exit {run.returncode}, {run.seconds:.2f} s in all; main window shown "
            f"{parsed.window_shown_s} s after {parsed.measured_from or '?'} (bundle), "
            f"{run.marker_s and round(run.marker_s, 2)} s after spawn (this script)",
            flush=True,
        )
    print(f"== start to main window, as the bundle saw it: {summarise_times(inside)}")
    print(f"== start to main window, from spawn: {summarise_times(outside)}")

    if args.demo:
        with tempfile.TemporaryDirectory(prefix="mergedesk-smoke-demo-") as data:
            demo = [
                str(cli), "demo", "--data-dir", data, "--patients", str(args.demo_patients),
                "--quit-after", str(args.demo_seconds),
            ]  # fmt: skip
            print(f"== demo: {' '.join(demo)}", flush=True)
            # The demo would put a cache key for this throw-away folder into the machine's real
            # keychain; with no keychain it keeps the key in memory instead.
            env = gui_environment()
            env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            run = run_process(demo, timeout=args.demo_seconds + args.timeout, env=env)
            log_file = Path(data) / "logs" / "mergedesk.log"
            log_text = (
                log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
            )
            found = check_demo(run, log_text)
            problems += [f"demo: {p}" for p in found]
            synced = DEMO_SYNC_DONE.search(log_text)
            print(
                f"   demo: exit {run.returncode} after {run.seconds:.1f} s, "
                f"{'synced ' + synced.group(1) + ' patients' if synced else 'no finished sync'}",
                flush=True,
            )
            for line in unexpected_stderr(run.stderr):
                print(f"  ! {line}", flush=True)

    if problems:
        print("SMOKE TEST FAILED:", *problems, sep="\n  - ", flush=True)
        return 1
    print("smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
