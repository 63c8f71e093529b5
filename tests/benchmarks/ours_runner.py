"""MergeDesk's engine, measured two ways, plus the incremental re-score.

* ``run_engine``: ``MatchEngine(MatchSettings(country="AU")).scan(rows)`` on rows already
  in memory (the engine alone).
* ``run_cache_scan``: the product path the issue's speed target names, "from the cache to
  the stored queue": open the SQLCipher cache, ``desktop.scan.run_scan(cache, full=True)``,
  queue written. The queue is read back afterwards (not timed) to score it.
* ``run_rescore``: on a cache that has been scanned, change 100 patients the way a sync
  would (new ``updated_at``, a new mobile number appended) and time
  ``run_scan(cache, full=False)``.

``match_bench`` imports the scan's modules before calling these (in the app they are loaded
by the time a scan runs): the clock times the scan, not Python's imports.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.metrics import Scored, peak_rss_mb

CACHE_KEY_HEX = "5" * 64  # a throwaway key for the benchmark's own cache file


def run_engine(rows: list[dict[str, Any]]) -> tuple[list[Scored], dict[str, Any]]:
    """Scan rows in memory with the engine; return its pairs and a few counts."""
    from desktop.matching import MatchEngine, MatchSettings

    result = MatchEngine(MatchSettings(country="AU")).scan(rows)
    scored = [
        Scored(str(p.id_a), str(p.id_b), str(p.band), float(p.probability)) for p in result.pairs
    ]
    info: dict[str, Any] = {"pairs": len(scored)}
    for name in ("candidates", "skipped", "stats", "warnings"):
        value = getattr(result, name, None)
        if value is not None and not callable(value):
            info[name] = value if isinstance(value, int | float | str) else repr(value)[:300]
    return scored, info


def build_cache(path: Path, patients: list[dict[str, Any]]) -> None:
    """Create a fresh cache at ``path`` holding ``patients`` (set-up, not timed)."""
    from desktop.store import Cache, transaction, upsert_patients

    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.unlink()
    cache = Cache.open(path, CACHE_KEY_HEX)
    try:
        for start in range(0, len(patients), 5000):
            with transaction(cache) as db:
                upsert_patients(db, patients[start : start + 5000])
    finally:
        cache.close()


def read_queue(cache: Any) -> list[Scored]:
    """Every likely or possible pair the scan stored in the cache's queue (``match_pairs``)."""
    cursor = cache.conn.execute(
        "SELECT id_a, id_b, band, probability FROM match_pairs WHERE band IN ('likely', 'possible')"
    )
    return [Scored(str(a), str(b), str(band), float(p)) for a, b, band, p in cursor.fetchall()]


def _summary(summary: Any) -> dict[str, Any]:
    """The scan summary's small fields (kind, counts, timings) as a dict."""
    fields = ("kind", "records", "changed", "candidates", "likely", "possible", "seconds")
    out = {f: getattr(summary, f, None) for f in fields}
    out["timings"] = dict(getattr(summary, "timings", {}) or {})
    out["skipped"] = len(getattr(summary, "skipped", []) or [])
    return out


def run_cache_scan(path: Path) -> tuple[list[Scored], dict[str, Any], float]:
    """Full scan from the cache to the stored queue; returns pairs, info and timed seconds."""
    from desktop.store import Cache

    start = time.perf_counter()
    cache = Cache.open(path, CACHE_KEY_HEX)
    try:
        return _timed_scan(cache, True, start)
    finally:
        cache.close()


def _timed_scan(cache: Any, full: bool, start: float) -> tuple[list[Scored], dict[str, Any], float]:
    """Scan, then read the stored queue: pairs, info and the seconds since ``start``."""
    from desktop.scan import run_scan

    summary = run_scan(cache, full=full)
    seconds = time.perf_counter() - start
    info = {"summary": _summary(summary), "peak_mb": peak_rss_mb()}
    return read_queue(cache), info, seconds


def _changed(patient: dict[str, Any], stamp: str, n: int) -> dict[str, Any]:
    """The patient as a sync would bring it back after an edit in Cliniko."""
    changed = dict(patient)
    phones = list(changed.get("patient_phone_numbers") or [])
    phones.append({"number": f"04{n:08d}", "phone_type": "Mobile", "normalized_number": None})
    changed["patient_phone_numbers"] = phones
    changed["updated_at"] = stamp
    return changed


def run_rescore(path: Path, how_many: int = 100) -> tuple[list[Scored], dict[str, Any], float]:
    """Change ``how_many`` active patients in a scanned cache and time the incremental scan.

    A cache no scan has seen (this method run without ``ours-cache`` before it) is scanned
    in full first, untimed: the row timed a full scan and called it a re-score.
    """
    from desktop.scan import run_scan
    from desktop.store import Cache, get_patient, queue, transaction, upsert_patients

    cache = Cache.open(path, CACHE_KEY_HEX)
    try:
        if queue.model_state(cache.db) is None:
            run_scan(cache, full=True)
        ids = [
            r[0]
            for r in cache.conn.execute(
                "SELECT id FROM patients WHERE archived_at IS NULL AND merged_at IS NULL "
                "ORDER BY id"
            )
        ]
        step = max(1, len(ids) // how_many)
        chosen = ids[::step][:how_many]
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        with transaction(cache) as db:
            patients = [get_patient(db, pid) for pid in chosen]
            upsert_patients(
                db, [_changed(p, stamp, i) for i, p in enumerate(patients) if p is not None]
            )
        scored, info, seconds = _timed_scan(cache, False, time.perf_counter())
        assert info["summary"]["kind"] != "full", "the re-score scanned every patient"
    finally:
        cache.close()
    return scored, {"changed": len(chosen), **info}, seconds
