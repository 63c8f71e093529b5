"""``mergedesk self-test``: the Qt-free checks that prove a bundle works on this machine.

Each check returns a :class:`Check` (name, passed, detail); :class:`Report` prints one line per
check as soon as it is known and remembers whether any failed. The checks that need Qt (the main
window offscreen, a PDF) live in :mod:`desktop.ui.self_test`; ``cli_commands`` runs both.

The checks touch nothing of the user's: the cache check works in a temporary folder with a key
held only in memory, and the keyring check only reads (a probe entry that never exists).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from desktop import APP_NAME, __version__

# Keyring backends that are no keychain at all (what keyring picks when it finds none).
NO_KEYCHAIN_BACKENDS = ("fail.Keyring", "null.Keyring")


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    passed: bool
    detail: str


class Report:
    """Prints one line per check (``PASS name: detail`` / ``FAIL name: detail``)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self.checks: list[Check] = []

    def add(self, check: Check) -> Check:
        """Record and print a check."""
        self.checks.append(check)
        self.line(f"{'PASS' if check.passed else 'FAIL'} {check.name}: {check.detail}")
        return check

    def run(self, name: str, check: Callable[[], Check]) -> Check:
        """Run a check; an exception it raises becomes a failed check (never propagates)."""
        try:
            return self.add(check())
        except Exception as error:
            return self.add(Check(name, False, f"{type(error).__name__}: {error}"))

    def line(self, text: str) -> None:
        """Print a line and flush it (a caller may be timing the lines)."""
        out = self.out or sys.stdout
        if out is None:  # a windowed Windows executable has no stdout
            return
        print(text, file=out, flush=True)

    @property
    def passed(self) -> bool:
        """True when every check passed (and there was at least one)."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    def summary(self) -> str:
        """One closing line: how many checks passed."""
        failed = [c.name for c in self.checks if not c.passed]
        if failed:
            names = ", ".join(failed)
            return f"self-test FAILED: {len(failed)} of {len(self.checks)} checks ({names})"
        return f"self-test passed: {len(self.checks)} checks"


# --- timing ----------------------------------------------------------------------------------


def process_age() -> tuple[float, str]:
    """Seconds since this process started, and what that is measured from.

    Linux and Windows give the OS's start time of the process, so a frozen bundle's bootloader
    and library loading count too; elsewhere it is the time since this module was imported.
    """
    try:
        if sys.platform.startswith("linux"):
            stat = Path("/proc/self/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            start_ticks = int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"
            uptime = float(Path("/proc/uptime").read_text().split()[0])
            return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK")), "process start"
        if sys.platform == "win32":
            return _windows_process_age(), "process start"
    except Exception:  # a measurement only: never let it fail the self-test
        pass
    return time.perf_counter() - _IMPORTED_AT, "self-test start"


def _windows_process_age() -> float:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]  # own prototypes
    filetime_p = ctypes.POINTER(wintypes.FILETIME)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.GetProcessTimes.argtypes = [wintypes.HANDLE, *([filetime_p] * 4)]
    kernel32.GetProcessTimes.restype = wintypes.BOOL
    kernel32.GetSystemTimeAsFileTime.argtypes = [filetime_p]
    creation, exited, kernel, user, now = (wintypes.FILETIME() for _ in range(5))
    handle = kernel32.GetCurrentProcess()
    if not kernel32.GetProcessTimes(
        handle, ctypes.byref(creation), ctypes.byref(exited), ctypes.byref(kernel),
        ctypes.byref(user),
    ):  # fmt: skip
        raise OSError("GetProcessTimes failed")
    kernel32.GetSystemTimeAsFileTime(ctypes.byref(now))

    def ticks(value: wintypes.FILETIME) -> int:
        return (value.dwHighDateTime << 32) | value.dwLowDateTime

    return max(0.0, (ticks(now) - ticks(creation)) / 10_000_000)  # 100 ns units


_IMPORTED_AT = time.perf_counter()


# --- the checks ------------------------------------------------------------------------------


def check_bundle() -> Check:
    """Say what is running: version, frozen or from source, Python, platform."""
    frozen = getattr(sys, "frozen", False)
    where = f"frozen bundle at {getattr(sys, '_MEIPASS', '?')}" if frozen else "from source"
    python = ".".join(str(p) for p in sys.version_info[:3])
    return Check(
        "bundle", True, f"{APP_NAME} {__version__}, {where}, Python {python}, {sys.platform}"
    )


def check_resources() -> Check:
    """The bundled resources folder holds the app icon."""
    from desktop.paths import resource_path

    icon = resource_path("icons", "mergedesk.png")
    if not icon.is_file() or icon.stat().st_size == 0:
        return Check("resources", False, f"missing {icon}")
    return Check("resources", True, f"{icon.parent} ({icon.stat().st_size:,} byte icon)")


def check_encrypted_cache(folder: Path) -> Check:
    """Create an SQLCipher cache in ``folder``, write, reopen, read back, refuse a wrong key."""
    from sqlcipher3 import dbapi2 as sqlcipher

    from desktop.store.cache import Cache
    from desktop.store.errors import StoreError
    from desktop.store.migrations import LATEST_VERSION, MIGRATIONS
    from desktop.store.sync_state import get_state, set_state
    from desktop.store.transaction import transaction

    path = folder / "self-test.db"
    key = secrets.token_hex(32)
    marker = secrets.token_hex(8)
    with Cache.open(path, key) as cache:
        version = cache.schema_version
        with transaction(cache) as db:
            set_state(db, "self_test", marker)
        cipher = cache.cipher_version
    with Cache.open(path, key, readonly=True) as cache:
        read_back = get_state(cache.db, "self_test")
    if read_back != marker:
        return Check("encrypted cache", False, f"wrote {marker!r}, read {read_back!r}")
    if version != LATEST_VERSION:
        return Check("encrypted cache", False, f"schema {version}, expected {LATEST_VERSION}")
    if path.read_bytes()[:16] == b"SQLite format 3\x00":
        return Check("encrypted cache", False, "the file is plain SQLite, not encrypted")
    try:
        with Cache.open(path, secrets.token_hex(32), readonly=True):
            pass
    except StoreError:
        pass
    else:
        return Check("encrypted cache", False, "a wrong key opened the cache")
    version_text = cipher or "unknown"
    return Check(
        "encrypted cache",
        True,
        f"SQLCipher {version_text} ({sqlcipher.sqlite_version}), {len(MIGRATIONS)} migrations "
        f"to schema {version}, write/reopen/read ok, wrong key refused",
    )


def check_keyring(platform: str | None = None, require: str | None = None) -> Check:
    """Report the keyring backend.

    Fails on Windows and macOS when keyring found no keychain (its ``fail`` backend), since the
    app cannot keep the API key there, and everywhere when the keychain is locked (the cache key
    can't be read). On Linux a missing Secret Service is reported but does not fail (a server
    or CI machine has none). With ``require``, the backend's name must contain
    that text (e.g. ``SecretService`` in CI) and a throw-away entry must survive a write, read
    and delete.
    """
    from desktop.secrets import KeyringState, keyring_status

    platform = platform or sys.platform
    status = keyring_status()
    detail = f"backend {status.backend_name}, {status.state.value}"
    if require is not None:
        if require.lower() not in status.backend_name.lower():
            return Check("keyring", False, f"{detail}, not the required {require}")
        if status.state is not KeyringState.AVAILABLE:
            return Check("keyring", False, f"{detail}: {status.message}")
        _keyring_round_trip()
        return Check("keyring", True, f"{detail}, write/read/delete ok (required: {require})")
    no_keychain = status.backend_name.endswith(NO_KEYCHAIN_BACKENDS)
    if status.state is KeyringState.LOCKED:  # a keychain the app can't read: it can't start
        return Check("keyring", False, f"{detail}: {status.message}")
    if platform.startswith("linux"):
        if status.state is not KeyringState.AVAILABLE:
            detail += " (report only on Linux: the app will ask for a Secret Service keychain)"
        return Check("keyring", True, detail)
    if no_keychain or status.state is KeyringState.UNAVAILABLE:
        return Check("keyring", False, f"{detail}: {status.message}")
    return Check("keyring", True, detail)


def _keyring_round_trip() -> None:
    """Write, read back and delete a throw-away entry (only when a keychain is required)."""
    import keyring

    from desktop.secrets import SERVICE_NAME

    username, value = "self-test-probe", secrets.token_hex(16)
    keyring.set_password(SERVICE_NAME, username, value)
    try:
        if keyring.get_password(SERVICE_NAME, username) != value:
            raise RuntimeError("the keychain did not keep the test entry")
    finally:
        keyring.delete_password(SERVICE_NAME, username)


def check_matching_data() -> Check:
    """The data files of ``nicknames`` and ``phonenumbers`` and the native matchers load."""
    import jellyfish
    import numpy
    import phonenumbers
    from nicknames import NickNamer
    from rapidfuzz import fuzz

    names = NickNamer().nickname_lookup
    if "robert" not in names or "bob" not in names["robert"]:
        return Check("matching data", False, "nicknames table has no robert -> bob")
    parsed = phonenumbers.parse("+1 650-253-0000", None)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(parsed)
    if e164 != "+16502530000" or region != "US":
        return Check("matching data", False, f"phonenumbers gave {e164} {region}")
    score = fuzz.ratio("Katherine", "Catherine")
    jaro = jellyfish.jaro_winkler_similarity("martha", "marhta")
    total = float(numpy.asarray([score, jaro]).sum())
    return Check(
        "matching data",
        True,
        f"nicknames {len(names):,} names, phonenumbers metadata, rapidfuzz/jellyfish/numpy "
        f"ok ({total:.1f})",
    )


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary folder removed afterwards (also when a check failed)."""
    with tempfile.TemporaryDirectory(prefix="mergedesk-self-test-") as name:
        yield Path(name)


GuiChecks = Callable[[Report, Path], None]


def run_self_test(
    gui_checks: GuiChecks | None, *, require_keyring: str | None = None, out: TextIO | None = None
) -> int:
    """Run every check, print one line each and a summary; return 0 only if all passed.

    Args:
        gui_checks: runs the Qt checks (:func:`desktop.ui.self_test.run_gui_checks`); it is
            passed in because the core never imports the UI. An exception it raises (Qt
            missing from the bundle, say) is reported as a failed ``qt`` check.
        require_keyring: text the keyring backend's name must contain, e.g. ``SecretService``.
        out: where to print (default: stdout).
    """
    report = Report(out)
    with scratch_folder() as folder:
        report.run("bundle", check_bundle)
        report.run("resources", check_resources)
        report.run("keyring", lambda: check_keyring(require=require_keyring))
        report.run("encrypted cache", lambda: check_encrypted_cache(folder))
        if gui_checks is not None:
            try:
                gui_checks(report, folder)
            except Exception as error:
                report.add(Check("qt", False, f"{type(error).__name__}: {error}"))
        report.run("matching data", check_matching_data)
        age, since = process_age()
        report.line(f"TIME self-test finished {age:.2f} s after {since}")
    report.line(report.summary())
    return 0 if report.passed else 1
