"""Sync benchmark: a full sync of 20k and 100k simulated patients under the real rate limit.

Run on demand (several minutes: 100k patients is 1,000 pages at under 200 requests/minute):

    uv run python tests/benchmarks/sync_bench.py [--sizes 20000,100000] [--rate-limit 200]

The simulator runs in its own process (``mergedesk simulator``), the sync in another
(``mergedesk sync``), so the sync's peak memory is its own. Requests and 429s are read back
from the cache's audit trail, which records every HTTP exchange.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from file_keyring import FileKeyring, child_environment  # noqa: E402


def _start_simulator(size: int, rate_limit: int) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "desktop",
            "simulator",
            "--patients",
            str(size),
            "--rate-limit",
            str(rate_limit),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    base_url, key = process.stdout.readline().split()
    return process, base_url, key


def _audit_figures(data_dir: Path, keyring_file: Path) -> tuple[int, int, float]:
    import keyring

    from desktop.secrets import get_cache_key
    from desktop.store.cache import Cache

    keyring.set_keyring(FileKeyring(keyring_file))
    with Cache.open(data_dir / "cache.db", get_cache_key(data_dir), readonly=True) as cache:
        rows = cache.db.execute(
            "select at, status from audit_log where path like '/v1/patients%' "
            "or path like '/patients%' order by seq"
        ).fetchall()
    stamps = [time.mktime(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S")) for at, _ in rows]
    span = max(stamps[-1] - stamps[0], 1.0) if stamps else 1.0
    return len(rows), sum(1 for _, status in rows if status == 429), span


def run_one(size: int, rate_limit: int) -> dict[str, object]:
    """Sync ``size`` patients once; return the figures of that run."""
    simulator, base_url, key = _start_simulator(size, rate_limit)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch) / "data"
            data_dir.mkdir()
            keyring_file = Path(scratch) / "keyring.json"
            env = child_environment(keyring_file, data_dir, CLINIKO_API_KEY=key)
            started = time.monotonic()
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "desktop",
                    "sync",
                    "--base-url",
                    base_url,
                    "--rate-limit",
                    str(int(rate_limit * 0.95)),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.monotonic() - started
            if status != 0:
                raise SystemExit(f"sync of {size} patients failed with status {status}")
            requests, throttled, span = _audit_figures(data_dir, keyring_file)
    finally:
        simulator.terminate()
        simulator.wait()
    per_minute = (requests - 1) / (span / 60) if requests > 1 else 0.0
    return {
        "patients": size,
        "requests": requests,
        "429s": throttled,
        "req/min": per_minute,
        "% of limit": 100 * per_minute / rate_limit,
        "wall s": wall,
        "peak MB": usage.ru_maxrss / 1024,
    }


def main() -> int:
    """Run the benchmark and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--rate-limit", type=int, default=200)
    args = parser.parse_args()
    rows = [run_one(int(size), args.rate_limit) for size in args.sizes.split(",")]
    print(f"\nFull sync, limit in force {args.rate_limit} requests/minute\n")
    print("| patients | requests | 429s | requests/min | % of limit | wall s | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['patients']:,} | {row['requests']:,} | {row['429s']} | "
            f"{row['req/min']:.1f} | {row['% of limit']:.1f}% | {row['wall s']:.1f} | "
            f"{row['peak MB']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
