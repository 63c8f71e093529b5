"""Scanning: read the cache, run the matching engine, store the merge queue.

A full scan fits the model on every active patient. An incremental scan (the default once a
model exists) re-scores only patients synced or updated since the last scan, against the
stored patients that share a blocking key with them. No Qt here: progress goes through a
callback ``progress(stage, done, total)``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from desktop.matching import MatchEngine, MatchSettings, ScanResult, ScoredPair
from desktop.matching.blocking import KEY_KINDS
from desktop.matching.cluster import build_clusters
from desktop.matching.compare import FIELD_LEVELS
from desktop.matching.engine import SCORING_REVISION, paused_gc
from desktop.matching.features import MATCH_COLUMNS, build_features_from_columns
from desktop.matching.learning import learned_relaxations
from desktop.matching.normalise import country_key
from desktop.matching.types import Band
from desktop.scan_ambiguous import hold_ambiguous
from desktop.scan_neighbours import changed_keys, fetch, fetch_neighbours, neighbours
from desktop.store import intake, queue, queue_list, scan_rows
from desktop.store.answers import answered_pairs, confirmed_pairs, scored_relaxations
from desktop.store.key_index import KeyIndexDamaged, save_key_index
from desktop.store.transaction import transaction
from desktop.timestamps import utc_stamp

if TYPE_CHECKING:
    from desktop.store.cache import Cache

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
# Rows transposed, or values freed, per step: a step holds the interpreter lock for a few ms.
SLICE = 20_000
_CREATED = 1 + MATCH_COLUMNS.index("created_at")  # in a (rowid, *MATCH_COLUMNS) row
# Above this share of changed patients an incremental scan becomes a full one (and refits).
FULL_RESCAN_SHARE = 0.2
# Changes whenever the comparison fields, their levels, how pairs are scored (the scoring
# revision), the scanned columns or the blocking keys change: a model or key index stored by
# another version then forces a full scan.
MODEL_SIGNATURE = hashlib.sha256(
    json.dumps([FIELD_LEVELS, SCORING_REVISION, MATCH_COLUMNS, KEY_KINDS], sort_keys=True).encode()
).hexdigest()[:16]


@dataclass
class ScanSummary:
    """What a scan did, for the CLI and the UI (no patient data)."""

    kind: str  # "full" or "incremental"
    records: int
    changed: int
    candidates: int
    likely: int
    possible: int
    clusters: int
    seconds: float
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _noop(stage: str, done: int, total: int) -> None:
    return None


class _Lap:
    """Adds the seconds since the previous lap to ``timings[name]`` (the store's sub-steps)."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def _transpose(slices: Iterable[list[tuple[Any, ...]]], width: int) -> list[list[Any]]:
    """The first ``width`` values of each row as ``width`` column lists (any later ones are
    never gathered), a slice of rows at a time: one ``zip`` over a whole clinic's rows holds
    the interpreter lock for about 0.1 s at 200k, and the window's thread stalls."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for rows in slices:
        # zip stops after the last column list, before building the next column's values.
        for column, values in zip(columns, zip(*rows, strict=True)):  # noqa: B905
            column.extend(values)
    return columns


def _noting_arrivals(
    slices: Iterable[list[tuple[Any, ...]]], arrivals: intake.Arrivals
) -> Iterator[list[tuple[Any, ...]]]:
    """Pass on slices of ``(rowid, *MATCH_COLUMNS, unrecorded)`` rows, noting in ``arrivals``
    the id, ``created_at`` and rowid of each unrecorded patient."""
    for rows in slices:
        new = [row for row in rows if row[-1]]
        arrivals.created.update((row[1], row[_CREATED]) for row in new)
        arrivals.rowids.extend(row[0] for row in new)
        yield rows


def _sliced(rows: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    return (rows[start : start + SLICE] for start in range(0, len(rows), SLICE))


def _columns(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows of ``MATCH_COLUMNS`` as one list per column."""
    return dict(zip(MATCH_COLUMNS, _transpose(_sliced(rows), len(MATCH_COLUMNS)), strict=True))


def clinic_country(cache: Cache) -> str:
    """The account's country (``GET /settings/public``): phones and addresses of patients
    without a country of their own are read as this country's; Australia before the first
    connect."""
    from desktop.account import stored_account

    account = stored_account(cache.db)
    return country_key(account.country_code if account else None, "AU")


def _relearned(cache: Cache, settings: MatchSettings) -> bool:
    """True when the rules learned from the administrator's answers differ from those the
    stored queue was scored with: the queue is then scored again in full."""
    return sorted(scored_relaxations(cache.db)) != sorted(settings.relaxed_flags)


def run_scan(
    cache: Cache,
    *,
    full: bool | None = None,
    progress: Progress | None = None,
    settings: MatchSettings | None = None,
) -> ScanSummary:
    """Scan the cache and store the queue: full when asked or when no model exists yet."""
    report = progress or _noop
    settings = replace(
        settings or MatchSettings(country=clinic_country(cache)),
        relaxed_flags=learned_relaxations(answered_pairs(cache.db)),
        confirmed_pairs=confirmed_pairs(cache.db),
    )
    with paused_gc():
        state = queue.model_state(cache.db)
        if full or state is None or state[0] != MODEL_SIGNATURE or _relearned(cache, settings):
            return _full_scan(cache, settings, report)
        try:
            return _incremental_scan(cache, settings, report, state[1])
        except KeyIndexDamaged:
            log.warning("The stored blocking-key index is damaged: scanning every patient.")
            return _full_scan(cache, settings, report)


_BANDS: tuple[str, ...] = get_args(Band)  # best first, as the type declares them


def _keep_marks(
    pairs: list[ScoredPair],
    marks: dict[tuple[str, str], tuple[Band, tuple[str, ...], list[str]]],
) -> None:
    """Pairs being merged keep the look-alike warning they had (and its lower band), in place.

    Applying a plan gives the record that stays the other record's details (a Medicare number,
    a birth date), so scored again while the merge waits in Cliniko the pair looks like one
    person; the queue's row and the compare banner must still say twins.
    """
    if not marks:
        return
    for i, p in enumerate(pairs):
        stored = marks.get((p.id_a, p.id_b))
        if stored is not None:
            band, flags, warnings = stored
            pairs[i] = replace(
                p,
                band=max(p.band, band, key=_BANDS.index),
                flags=tuple(dict.fromkeys((*flags, *p.flags))),
                warnings=list(dict.fromkeys((*warnings, *p.warnings))),
            )


def _store(
    cache: Cache,
    kind: str,
    result: ScanResult,
    started: str,
    marks: tuple[str, str],
    changed: list[str] | None,
    t0: float,
    report: Progress,
    overlay: dict[str, bytes] | None = None,
    where: tuple[list[str], list[int]] | None = None,
    gone: list[str] | None = None,
    arrivals: intake.Arrivals | None = None,
) -> ScanSummary:
    """Write a scan's pairs, clusters and log entry in one transaction.

    ``where``: (ids, rowids) of the patients a full scan read, for its key index.
    ``gone``: the changed patients that were no longer active when read (only they can have
    been archived or merged since the last scan).
    ``arrivals``: the scanned patients the intake had not recorded when read, with their
    ``created_at`` (a full scan; an incremental one looks its few patients up).
    """
    report("store", 0, len(result.pairs))
    now = utc_stamp()
    stats = result.stats
    timings = stats.setdefault("timings", {})
    lap = _Lap(timings)
    with transaction(cache) as db:
        decisions = queue.load_decisions(db)
        kept = queue.kept_statuses(db)
        _keep_marks(result.pairs, queue.merging_marks(db))
        if changed is None:
            queue.delete_unkept_pairs(db)
        else:
            queue.delete_pairs_touching(db, changed)
        lap("store delete")
        statuses = {(p.id_a, p.id_b): queue.status_for(p, decisions, kept) for p in result.pairs}
        queue.insert_pairs(db, result.pairs, statuses, {}, now)
        lap("store pairs")
        likely = [(p.id_a, p.id_b) for p in result.pairs if p.band == "likely"]
        # Each patient, once, as it arrived.
        intake.record_first_scores(db, likely, changed, now, arrivals)
        lap("store intake")
        # A full scan never pairs archived or merged patients; only kept pairs need a look.
        check = sorted({i for pair in kept for i in pair}) if changed is None else gone or []
        if check:
            queue.mark_merged(db, check)
        clusters = build_clusters(queue.cluster_edges(db))
        queue.assign_clusters(db, queue.save_clusters(db, clusters))
        lap("store clusters")
        if changed is None:
            # A model fitted by another version (other fields or levels) cannot score new
            # pairs: the signature tells, and the next scan is then a full one.
            queue.save_model(db, result.model, result.stats.get("records", 0), MODEL_SIGNATURE)
            save_key_index(db, result.key_index, *(where or ([], [])))
        elif overlay is not None:
            queue.save_key_overlay(db, overlay)
        lap("store keys")
        seconds = time.perf_counter() - t0
        queue.record_scan(
            db,
            kind=kind,
            started_at=started,
            finished_at=utc_stamp(),
            mark_synced=marks[0],
            mark_updated=marks[1],
            records=stats.get("records", 0),
            changed=len(changed) if changed is not None else stats.get("records", 0),
            candidates=stats.get("candidates", 0),
            likely=stats.get("likely", 0),
            possible=stats.get("possible", 0),
            seconds=seconds,
            skipped=[list(s) for s in result.skipped_blocks],
            stats={"timings": timings},
        )
    lap("store commit")
    report("store", len(result.pairs), len(result.pairs))
    summary = ScanSummary(
        kind=kind,
        records=stats.get("records", 0),
        changed=len(changed) if changed is not None else stats.get("records", 0),
        candidates=stats.get("candidates", 0),
        likely=stats.get("likely", 0),
        possible=stats.get("possible", 0),
        clusters=len(clusters),
        seconds=time.perf_counter() - t0,
        skipped=list(result.skipped_blocks),
        timings=dict(stats.get("timings", {})),
    )
    log.info(
        "%s scan: %d records, %d changed, %d likely, %d possible, %.2f s",
        kind,
        summary.records,
        summary.changed,
        summary.likely,
        summary.possible,
        summary.seconds,
    )
    return summary


def _full_scan(cache: Cache, settings: MatchSettings, report: Progress) -> ScanSummary:
    engine = MatchEngine(replace(settings, build_index=True))
    t0 = time.perf_counter()
    started = utc_stamp()
    marks = scan_rows.sync_marks(cache.db)
    report("read", 0, 1)
    # Each slice of rows becomes columns as it is read: the clinic is never held as tuples too.
    arrivals = intake.Arrivals()  # not yet recorded: all at first, then few
    slices = _noting_arrivals(
        scan_rows.active_rows_with_rowid(cache.db, MATCH_COLUMNS, SLICE), arrivals
    )
    rowids, *values = _transpose(slices, len(MATCH_COLUMNS) + 1)  # the flag is left out
    columns = dict(zip(MATCH_COLUMNS, values, strict=True))
    del values
    read_s = time.perf_counter() - t0
    report("read", len(rowids), len(rowids))
    report("match", 0, len(rowids))
    where = (columns["id"], rowids)  # each patient's rowid, for the key index
    result = engine.scan_columns(columns)
    _release([values for name, values in columns.items() if name != "id"])
    del columns
    result.stats.setdefault("timings", {})["read"] = read_s
    report("match", result.stats.get("records", 0), result.stats.get("records", 0))
    return _store(
        cache, "full", result, started, marks, None, t0, report, where=where, arrivals=arrivals
    )


def _incremental_scan(
    cache: Cache, settings: MatchSettings, report: Progress, records: int
) -> ScanSummary:
    t0 = time.perf_counter()
    started = utc_stamp()
    last = queue.last_scan(cache.db) or {}
    marks = scan_rows.sync_marks(cache.db)
    changed = scan_rows.changed_since(
        cache.db, last.get("mark_synced") or "", last.get("mark_updated") or ""
    )
    pending = queue.count_key_overlay(cache.db)
    if len(changed) + pending > max(1000, FULL_RESCAN_SHARE * records):
        return _full_scan(cache, settings, report)
    if not changed:
        with transaction(cache) as db:
            queue.record_scan(
                db,
                kind="incremental",
                started_at=started,
                finished_at=utc_stamp(),
                mark_synced=marks[0],
                mark_updated=marks[1],
                records=records,
                changed=0,
                candidates=0,
                likely=0,
                possible=0,
                seconds=time.perf_counter() - t0,
            )
        return ScanSummary(
            "incremental",
            records,
            0,
            0,
            0,
            0,
            queue.count_clusters(cache.db),
            time.perf_counter() - t0,
        )
    report("read", 0, len(changed))
    model = queue.load_model(cache.db) or {}
    # Only a full scan stores a key index: a re-score need not build one.
    engine = MatchEngine(replace(settings, build_index=False))
    changed_rows = fetch(cache, changed, active_only=True)
    changed_cols = _columns(changed_rows)
    features = build_features_from_columns(changed_cols, engine.settings.country)
    new_keys = changed_keys(features, changed, engine.settings)
    found, oversized = neighbours(cache, new_keys)
    rows = changed_rows + fetch_neighbours(cache, found)
    report("read", len(changed), len(changed))
    report("match", 0, len(changed))
    result = engine.rescore_columns(_columns(rows), changed_cols["id"], model, oversized)
    result.stats["records"] = records
    held = hold_ambiguous(cache.db, result.pairs, set(changed), engine.settings)
    result.stats["likely"] = result.stats.get("likely", 0) - held
    result.stats["possible"] = result.stats.get("possible", 0) + held
    overlay = {pid: keys.astype("<u8").tobytes() for pid, keys in new_keys.by_id.items()}
    gone = sorted(set(changed) - set(features.ids))
    report("match", len(changed), len(changed))
    return _store(
        cache, "incremental", result, started, marks, changed, t0, report, overlay, gone=gone
    )


def _release(lists: list[list[Any]]) -> None:
    """Empty big lists a slice at a time. Freeing a whole clinic's values in one step holds
    the interpreter lock for a tenth of a second or more, and the window's thread stalls."""
    for values in lists:
        while values:
            del values[-SLICE:]


def export_pairs_csv(cache: Cache, path: Path | str) -> int:
    """Write ``id_a,id_b,score,band,flags`` for every likely or possible pair; returns rows."""
    rows = queue_list.pairs_to_export(cache.db)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id_a", "id_b", "score", "band", "flags"])
        for a, b, p, band, flags in rows:
            writer.writerow([a, b, f"{p:.6f}", band, flags])
    return len(rows)


__all__ = ["ScanSummary", "export_pairs_csv", "run_scan"]
