"""Schema version 4: what an incremental scan reads, laid out so it reads little.

* The blocking-key index moves out of one ~30 MB blob in ``match_model`` (read and parsed in
  full by every incremental scan, and walked over by any read of a later column of that row)
  into small chunks keyed by their first key, so a re-score reads only the chunks it needs.
* The model's signature gets a column of its own, so checking it does not parse the params.
* One covering index over ``match_pairs`` serves the reads every scan makes to rebuild
  clusters (the cluster edges, the stored cluster ids) without reading each pair's evidence.

Stored models lose their old blob index and have no signature: the next scan is a full one,
which writes both.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    # Sorted blocking keys in chunks of a few hundred. ``lo`` is the chunk's first key, mapped
    # to a signed integer in the same order; a chunk never splits one key's owners. ``keys``
    # are little-endian uint64, ``owners`` little-endian int32 positions in match_key_ids.
    """
    CREATE TABLE match_key_chunks (
        lo INTEGER PRIMARY KEY,
        keys BLOB NOT NULL,
        owners BLOB NOT NULL
    )
    """,
    # The index's patient ids in numbered runs (position p: entry p % size of run p / size):
    # UTF-8, each padded with NUL to ``width`` bytes, and the rowid each had in ``patients``
    # (little-endian int64), a hint that lets a re-score read a row without the id index.
    """
    CREATE TABLE match_key_ids (
        run INTEGER PRIMARY KEY,
        width INTEGER NOT NULL,
        ids BLOB NOT NULL,
        rowids BLOB NOT NULL
    )
    """,
    "ALTER TABLE match_model ADD COLUMN signature TEXT",
    "UPDATE match_model SET key_index = NULL",
    """
    CREATE INDEX idx_match_pairs_clusters
    ON match_pairs (id_a, id_b, cluster_id, band, flags, status, probability)
    """,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the chunked key index, the signature column and the cluster index."""
    for statement in STATEMENTS:
        db.execute(statement)
