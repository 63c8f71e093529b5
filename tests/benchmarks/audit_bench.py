"""Audit trail benchmark: the cost of seals and of the keychain head, and of verify.

    uv run python tests/benchmarks/audit_bench.py [--entries 100000] [--per-commit 1]

Writes ``--entries`` entries in transactions of ``--per-commit`` each (a sync writes one
request entry per page transaction), unsealed and sealed (HMAC, head copied to an in-memory
keychain after each commit as a sync page's non-durable commit does), then verifies the trail.
Prints one markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from desktop.audit import AuditSeal, AuditTrail, verify
from desktop.store.cache import Cache
from desktop.store.transaction import transaction

KEY = "3b" * 32
SHA = "ab" * 32


def run(entries: int, per_commit: int, sealed: bool, folder: Path) -> dict[str, float]:
    """Write and verify one trail; return the seconds each took and the head writes."""
    saved: list[str] = []
    seal = AuditSeal(bytes(32), lambda: saved[-1] if saved else None, saved.append)
    with Cache.open(folder / f"cache-{sealed}.db", KEY) as cache:
        cache.audit_seal = seal if sealed else None
        trail = AuditTrail(cache.db, cliniko_user="1 Bench", os_user="bench",
                           seal=seal if sealed else None)  # fmt: skip
        start = time.perf_counter()
        for first in range(0, entries, per_commit):
            with transaction(cache, durable=False):
                for i in range(first, min(entries, first + per_commit)):
                    trail.record("GET", f"/v1/patients?page={i}", 200, SHA, SHA)
        write = time.perf_counter() - start
        start = time.perf_counter()
        result = verify(cache.db, seal if sealed else None)
        check = time.perf_counter() - start
        assert result.ok, result
    return {"write": write, "verify": check, "heads": len(saved)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--per-commit", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [(s, run(args.entries, args.per_commit, s, Path(folder))) for s in (False, True)]
    print(f"\n{args.entries:,} entries, {args.per_commit} per transaction\n")
    print("| trail | write s | per entry µs | verify s | keychain head writes |")
    print("|---|---:|---:|---:|---:|")
    for sealed, r in rows:
        per_entry = 1e6 * r["write"] / args.entries
        name = "sealed" if sealed else "unsealed"
        cells = [name, f"{r['write']:.2f}", f"{per_entry:.0f}", f"{r['verify']:.2f}"]
        print(f"| {' | '.join(cells)} | {r['heads']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
