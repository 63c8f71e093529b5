"""The merge queue in the cache: scored pairs, decisions, clusters, the model and scan log.

Pairs are stored with ``id_a < id_b``. A pair's ``status`` is what the review has made of it;
"not the same person" decisions live in ``match_decisions`` with both records' ``updated_at``
so they are re-applied on every scan until one of the records changes.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from desktop.matching.lookalike import joined_flags, split_flags
from desktop.matching.types import Band, Cluster, ScoredPair
from desktop.merge_states import CANCEL_OUTCOMES, KEPT_STATUSES, MERGING_STATUSES, PairStatus
from desktop.timestamps import utc_stamp

ACTIVE_STATUSES = (PairStatus.NEW, PairStatus.LATER)
DECISIONS = CANCEL_OUTCOMES

_INSERT_PAIR = (
    "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, flags, evidence, warnings,"
    " status, updated_a, updated_b, cluster_id, scored_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_PAIR_KEY = operator.itemgetter(0, 1)  # (id_a, id_b) of an insert row


def ordered(id_a: str, id_b: str) -> tuple[str, str]:
    """The pair's ids in storage order (``id_a < id_b``)."""
    a, b = str(id_a), str(id_b)
    return (a, b) if a < b else (b, a)


# json.dumps(..., ensure_ascii=False) builds an encoder per call; a full scan makes two calls
# per pair. This one encoder writes the same text.
_TEXT_JSON = json.JSONEncoder(ensure_ascii=False).encode


# A pair's evidence is stored as one JSON list per item, in this order (about 60% of the size of
# objects with these keys repeated); queues written before then hold objects.
EVIDENCE_KEYS = ("field", "value_a", "value_b", "level", "weight", "text")


def _evidence_json(pair: ScoredPair) -> str:
    return _TEXT_JSON(
        [[e.field, e.value_a, e.value_b, e.level, e.weight, e.text] for e in pair.evidence]
    )


def decode_evidence(text: str | None) -> list[dict[str, Any]]:
    """A pair's stored evidence as dicts keyed by ``EVIDENCE_KEYS`` (either stored form)."""
    items = json.loads(text or "[]")
    return [
        dict(zip(EVIDENCE_KEYS, item, strict=False)) if isinstance(item, list) else item
        for item in items
    ]


def load_decisions(db: sqlite_utils.Database) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(id_a, id_b) -> (decision, updated_a, updated_b) for every remembered decision."""
    rows = db.execute("SELECT id_a, id_b, decision, updated_a, updated_b FROM match_decisions")
    return {(a, b): (d, ua or "", ub or "") for a, b, d, ua, ub in rows.fetchall()}


def kept_statuses(db: sqlite_utils.Database) -> dict[tuple[str, str], str]:
    """Pairs whose status a rescan must keep (a merge planned, ready or done)."""
    marks = ", ".join("?" for _ in KEPT_STATUSES)
    rows = db.execute(
        f"SELECT id_a, id_b, status FROM match_pairs WHERE status IN ({marks})", KEPT_STATUSES
    ).fetchall()
    return {(a, b): s for a, b, s in rows}


def merging_marks(
    db: sqlite_utils.Database,
) -> dict[tuple[str, str], tuple[Band, tuple[str, ...], list[str]]]:
    """Pairs being merged whose stored scoring warned they may be two people: (band, flags,
    warnings) as stored, for a rescan to keep."""
    marks = ", ".join("?" for _ in MERGING_STATUSES)
    rows = db.execute(
        f"SELECT id_a, id_b, band, flags, warnings FROM match_pairs WHERE status IN ({marks}) "
        "AND (flags != '' OR warnings NOT IN ('', '[]'))",
        MERGING_STATUSES,
    ).fetchall()
    return {(a, b): (band, split_flags(f), json.loads(w or "[]")) for a, b, band, f, w in rows}


def status_for(
    pair: ScoredPair,
    decisions: dict[tuple[str, str], tuple[str, str, str]],
    kept: dict[tuple[str, str], str],
) -> str:
    """The status a freshly scored pair gets: a kept status, a still-valid decision, or new."""
    key = (pair.id_a, pair.id_b)
    if key in kept:
        return kept[key]
    decided = decisions.get(key)
    if decided is not None:
        decision, ua, ub = decided
        if ua == (pair.updated_a or "") and ub == (pair.updated_b or ""):
            return decision
    return PairStatus.NEW


def insert_pairs(
    db: sqlite_utils.Database,
    pairs: Iterable[ScoredPair],
    statuses: dict[tuple[str, str], str],
    clusters: dict[str, int],
    scored_at: str,
) -> int:
    """Insert scored pairs (replacing rows of the same ids); returns how many."""
    rows = []
    for p in pairs:
        ca, cb = clusters.get(p.id_a), clusters.get(p.id_b)
        rows.append(
            (
                p.id_a,
                p.id_b,
                float(p.probability),
                float(p.weight),
                p.band,
                joined_flags(p.flags),
                _evidence_json(p),
                _TEXT_JSON(p.warnings),
                statuses.get((p.id_a, p.id_b), PairStatus.NEW),
                p.updated_a or None,
                p.updated_b or None,
                ca if ca is not None and ca == cb else None,
                scored_at,
            )
        )
    # In key order, each insert lands next to the previous one in the primary key: fewer pages
    # touched and written (400k patients: 0.8 s -> 0.55 s, and a smaller commit). Stable, so
    # of two rows for one pair the later still wins.
    rows.sort(key=_PAIR_KEY)
    db.conn.executemany(_INSERT_PAIR.replace("INSERT", "INSERT OR REPLACE", 1), rows)
    return len(rows)


def delete_pairs_touching(db: sqlite_utils.Database, ids: Sequence[str]) -> None:
    """Remove pairs that involve any of ``ids``, except those with a kept status."""
    marks = ", ".join("?" for _ in KEPT_STATUSES)
    _fill_temp(db, "_touch", ids)
    db.execute(
        f"DELETE FROM match_pairs WHERE status NOT IN ({marks}) AND "
        "(id_a IN (SELECT id FROM _touch) OR id_b IN (SELECT id FROM _touch))",
        KEPT_STATUSES,
    )


def delete_unkept_pairs(db: sqlite_utils.Database) -> None:
    """Remove every pair except those with a kept status (a full scan writes the rest anew)."""
    marks = ", ".join("?" for _ in KEPT_STATUSES)
    if db.execute(
        f"SELECT 1 FROM match_pairs WHERE status IN ({marks}) LIMIT 1", KEPT_STATUSES
    ).fetchone():
        db.execute(f"DELETE FROM match_pairs WHERE status NOT IN ({marks})", KEPT_STATUSES)
    else:
        # Nothing to keep: a DELETE without WHERE drops the table's pages whole instead of
        # removing each row and its five index entries (400k patients: 0.5 s -> 0.15 s).
        db.execute("DELETE FROM match_pairs")


_MERGED = "SELECT id FROM patients WHERE merged_at IS NOT NULL"
_GONE = "SELECT id FROM patients WHERE archived_at IS NOT NULL OR merged_at IS NOT NULL"


def mark_merged(db: sqlite_utils.Database, ids: Sequence[str] | None = None) -> None:
    """Pairs whose merge was planned and whose duplicate is now merged become ``merged``;
    every other pair touching an archived or merged patient leaves the queue.

    ``ids`` limits the check to those patients (the ones changed since the last scan).
    """
    merged, gone = _MERGED, _GONE
    if ids is not None:
        # Most changed patients are still active: look for the others first (by id; the unary
        # plus keeps SQLite off the archived/merged index, which would walk every patient).
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM patients WHERE id IN (SELECT value FROM json_each(?)) "
                "AND (+archived_at IS NOT NULL OR +merged_at IS NOT NULL)",
                [json.dumps(list(ids))],
            ).fetchall()
        ]
        if not ids:
            return
        _fill_temp(db, "_gone_check", ids)
        merged += " AND id IN (SELECT id FROM _gone_check)"
        gone = f"SELECT id FROM ({_GONE}) WHERE id IN (SELECT id FROM _gone_check)"
    merging = ", ".join("?" for _ in MERGING_STATUSES)
    db.execute(
        f"UPDATE match_pairs SET status = ? WHERE status IN ({merging}) AND "
        f"(id_a IN ({merged}) OR id_b IN ({merged}))",
        [PairStatus.MERGED, *MERGING_STATUSES],
    )
    kept = ", ".join("?" for _ in KEPT_STATUSES)
    db.execute(
        f"DELETE FROM match_pairs WHERE status NOT IN ({kept}) AND "
        f"(id_a IN ({gone}) OR id_b IN ({gone}))",
        KEPT_STATUSES,
    )


def _fill_temp(db: sqlite_utils.Database, table: str, ids: Sequence[str]) -> None:
    """A temporary one-column table holding ``ids`` (emptied first)."""
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY)")
    db.execute(f"DELETE FROM {table}")
    db.conn.executemany(f"INSERT OR IGNORE INTO {table} (id) VALUES (?)", [(i,) for i in ids])


def save_clusters(db: sqlite_utils.Database, clusters: Sequence[Cluster]) -> dict[str, int]:
    """Replace the cluster table (unless it already holds exactly these clusters); returns
    patient id -> cluster id."""
    member: dict[str, int] = {}
    rows = []
    for number, c in enumerate(clusters, start=1):
        rows.append((number, json.dumps(list(c.ids)), len(c.ids), *c.weakest_link))
        for pid in c.ids:
            member[pid] = number
    stored = db.execute(
        "SELECT cluster_id, ids, size, weakest_a, weakest_b, weakest_probability "
        "FROM match_clusters ORDER BY cluster_id"
    ).fetchall()
    if stored != rows:
        db.execute("DELETE FROM match_clusters")
        db.conn.executemany(
            "INSERT INTO match_clusters (cluster_id, ids, size, weakest_a, weakest_b, "
            "weakest_probability) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    return member


def cluster_edges(db: sqlite_utils.Database) -> list[tuple[str, str, float]]:
    """Pairs that join records into one person: likely or possible, unflagged, still open."""
    return [
        (a, b, float(p))
        for a, b, p in db.execute(
            "SELECT id_a, id_b, probability FROM match_pairs WHERE band != 'unlikely' AND "
            "flags = '' AND status NOT IN (?, ?, ?)",
            [PairStatus.NOT_SAME, PairStatus.MERGED, PairStatus.SKIPPED],
        ).fetchall()
    ]


def assign_clusters(db: sqlite_utils.Database, member: dict[str, int]) -> None:
    """Set every stored pair's ``cluster_id`` from a patient -> cluster map (only rows whose
    cluster changed are written)."""
    # Only a pair that has a cluster, or whose first record is in one, can change.
    rows = []
    for a, b, old in db.execute(
        "SELECT id_a, id_b, cluster_id FROM match_pairs "
        "WHERE cluster_id IS NOT NULL OR id_a IN (SELECT value FROM json_each(?))",
        [json.dumps(list(member))],
    ).fetchall():
        new = member.get(a)
        if new is None or member.get(b) != new:
            new = None
        if new != old:
            rows.append((new, a, b))
    db.conn.executemany("UPDATE match_pairs SET cluster_id = ? WHERE id_a = ? AND id_b = ?", rows)


def save_model(
    db: sqlite_utils.Database, params: dict[str, Any], records: int, signature: str
) -> None:
    """Store the fitted model (one row) and forget the key overlay of the previous model.

    The blocking-key index is stored apart, by :func:`desktop.store.key_index.save_key_index`.
    """
    db.execute(
        "INSERT INTO match_model (id, params, key_index, records, fitted_at, signature) "
        "VALUES (1, ?, NULL, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET params = excluded.params, "
        "key_index = NULL, records = excluded.records, fitted_at = excluded.fitted_at, "
        "signature = excluded.signature",
        [json.dumps(params), records, utc_stamp(), signature],
    )
    db.execute("DELETE FROM match_key_overlay")


def save_key_overlay(db: sqlite_utils.Database, keys: dict[str, bytes]) -> None:
    """Record the current blocking keys of changed patients (empty bytes: no keys)."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO match_key_overlay (patient_id, keys) VALUES (?, ?)",
        list(keys.items()),
    )


def load_key_overlay(db: sqlite_utils.Database) -> dict[str, bytes]:
    """Patient id -> blocking keys for patients changed since the last full scan."""
    return dict(db.execute("SELECT patient_id, keys FROM match_key_overlay").fetchall())


def load_model(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The stored model's parameters, or None before the first full scan."""
    row = db.execute("SELECT params FROM match_model WHERE id = 1").fetchone()
    return None if row is None else json.loads(row[0])


def model_state(db: sqlite_utils.Database) -> tuple[str | None, int] | None:
    """(signature, records) of the stored model, or None before the first full scan.

    The signature is None for a model stored before schema version 4 (it has no usable key
    index: the next scan must be a full one).
    """
    row = db.execute("SELECT signature, records FROM match_model WHERE id = 1").fetchone()
    return None if row is None else (row[0], int(row[1]))


def has_model(db: sqlite_utils.Database) -> bool:
    """True once a full scan has stored a model and its key index."""
    state = model_state(db)
    return state is not None and state[0] is not None


def count_key_overlay(db: sqlite_utils.Database) -> int:
    """How many patients changed since the last full scan have their keys in the overlay."""
    return int(db.execute("SELECT count(*) FROM match_key_overlay").fetchone()[0])


def count_clusters(db: sqlite_utils.Database) -> int:
    """How many clusters of linked records the last scan stored."""
    return int(db.execute("SELECT count(*) FROM match_clusters").fetchone()[0])


def pair_group(db: sqlite_utils.Database, id_a: str, id_b: str) -> list[str]:
    """The record ids of the group a pair is in now (empty when it is in none).

    Read by the pair, never by a cluster number kept from an earlier read: every scan numbers
    its clusters afresh, and a queue row's old number named another family's group (a pair
    then offered a merge of five records, three of them other people). A group that does not
    hold the pair itself is no group of it.
    """
    a, b = sorted((str(id_a), str(id_b)))
    row = db.execute(
        "SELECT c.ids FROM match_pairs m JOIN match_clusters c ON c.cluster_id = m.cluster_id "
        "WHERE m.id_a = ? AND m.id_b = ?",
        [a, b],
    ).fetchone()
    ids = [str(i) for i in json.loads(row[0])] if row else []
    return ids if a in ids and b in ids else []


def record_scan(db: sqlite_utils.Database, **fields: Any) -> None:
    """Append one entry to the scan log."""
    fields = dict(fields)
    fields["skipped"] = json.dumps(fields.get("skipped", []))
    fields["stats"] = json.dumps(fields.get("stats", {}), default=str)
    cols = ", ".join(fields)
    db.execute(
        f"INSERT INTO match_scans ({cols}) VALUES ({', '.join('?' for _ in fields)})",
        list(fields.values()),
    )


def last_scan(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The newest scan log entry as a dict, or None."""
    cursor = db.execute("SELECT * FROM match_scans ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return None
    out = dict(zip([d[0] for d in cursor.description], row, strict=True))
    out["skipped"] = json.loads(out["skipped"])
    out["stats"] = json.loads(out["stats"])
    return out


def _pair_dict(cursor: sqlite3.Cursor, row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip([d[0] for d in cursor.description], row, strict=True))
    out["flags"] = list(split_flags(out["flags"]))
    out["evidence"] = decode_evidence(out["evidence"])
    out["warnings"] = json.loads(out["warnings"])
    return out


def queue_pairs(
    db: sqlite_utils.Database,
    statuses: Sequence[str] = ACTIVE_STATUSES,
    bands: Sequence[str] = ("likely", "possible"),
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored pairs, best first, with evidence and warnings decoded."""
    sql = (
        f"SELECT * FROM match_pairs WHERE status IN ({', '.join('?' for _ in statuses)}) "
        f"AND band IN ({', '.join('?' for _ in bands)}) "
        "ORDER BY band = 'likely' DESC, probability DESC, id_a, id_b"
    )
    params: list[Any] = [*statuses, *bands]
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    cursor = db.execute(sql, params)
    return [_pair_dict(cursor, row) for row in cursor.fetchall()]


def links_touching(
    db: sqlite_utils.Database, ids: Iterable[str]
) -> list[tuple[str, str, float, tuple[str, ...]]]:
    """(id_a, id_b, probability, flags) of every stored likely or possible pair that touches
    one of ``ids``."""
    _fill_temp(db, "_linked", list(ids))
    rows = db.execute(
        "SELECT id_a, id_b, probability, flags FROM match_pairs WHERE band != 'unlikely' AND "
        "(id_a IN (SELECT id FROM _linked) OR id_b IN (SELECT id FROM _linked))"
    ).fetchall()
    return [(a, b, float(prob), split_flags(flags)) for a, b, prob, flags in rows]


def get_pair(db: sqlite_utils.Database, id_a: str, id_b: str) -> dict[str, Any] | None:
    """One stored pair (either id order), or None."""
    a, b = ordered(id_a, id_b)
    cursor = db.execute("SELECT * FROM match_pairs WHERE id_a = ? AND id_b = ?", [a, b])
    row = cursor.fetchone()
    return None if row is None else _pair_dict(cursor, row)


def set_status(db: sqlite_utils.Database, id_a: str, id_b: str, status: str) -> None:
    """Set a stored pair's status (the caller holds a transaction)."""
    a, b = ordered(id_a, id_b)
    db.execute("UPDATE match_pairs SET status = ? WHERE id_a = ? AND id_b = ?", [status, a, b])


def record_decision(db: sqlite_utils.Database, id_a: str, id_b: str, decision: str) -> None:
    """Remember a decision about two records, tied to their current ``updated_at``.

    Call inside :func:`desktop.store.transaction.transaction`, so the decision is written before
    the UI moves on.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    a, b = ordered(id_a, id_b)
    stamps = dict(
        db.execute("SELECT id, updated_at FROM patients WHERE id IN (?, ?)", [a, b]).fetchall()
    )
    db.execute(
        "INSERT INTO match_decisions (id_a, id_b, decision, updated_a, updated_b, decided_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id_a, id_b) DO UPDATE SET "
        "decision = excluded.decision, updated_a = excluded.updated_a, "
        "updated_b = excluded.updated_b, decided_at = excluded.decided_at",
        [a, b, decision, stamps.get(a), stamps.get(b), utc_stamp()],
    )
    set_status(db, a, b, decision)


def queue_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many stored pairs per ``band/status``."""
    rows = db.execute("SELECT band, status, count(*) FROM match_pairs GROUP BY band, status")
    return {f"{band}/{status}": n for band, status, n in rows.fetchall()}


def decision_state(
    db: sqlite_utils.Database, id_a: str, id_b: str
) -> tuple[str, tuple[Any, ...] | None]:
    """A pair's status and its remembered decision row (or None), to restore on undo."""
    a, b = ordered(id_a, id_b)
    status = db.execute(
        "SELECT status FROM match_pairs WHERE id_a = ? AND id_b = ?", [a, b]
    ).fetchone()
    decision = db.execute(
        "SELECT decision, updated_a, updated_b, decided_at FROM match_decisions "
        "WHERE id_a = ? AND id_b = ?",
        [a, b],
    ).fetchone()
    stored = PairStatus.NEW if status is None else status[0]
    return stored, (None if decision is None else tuple(decision))


def restore_decision_state(
    db: sqlite_utils.Database,
    id_a: str,
    id_b: str,
    status: str,
    decision: tuple[Any, ...] | None,
) -> None:
    """Put back what :func:`decision_state` read: the pair's status and its decision row
    (deleted when there was none). Call inside a transaction."""
    a, b = ordered(id_a, id_b)
    if decision is None:
        db.execute("DELETE FROM match_decisions WHERE id_a = ? AND id_b = ?", [a, b])
    else:
        db.execute(
            "INSERT OR REPLACE INTO match_decisions (id_a, id_b, decision, updated_a, updated_b, "
            "decided_at) VALUES (?, ?, ?, ?, ?, ?)",
            [a, b, *decision],
        )
    set_status(db, a, b, status)
