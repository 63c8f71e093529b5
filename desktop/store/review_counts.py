"""What the labor projection reads from the queue: open pairs and reviewed pairs per band."""

from __future__ import annotations

from typing import Any

from desktop.merge_states import MERGING_STATUSES, PairStatus

# "later", "not_same", "skipped" are left out.
OPEN_STATUSES = (PairStatus.NEW, *MERGING_STATUSES)
PROJECTED_BANDS = ("likely", "possible")


def open_pairs(db: Any) -> list[tuple[str, str, str, str]]:
    """(id_a, id_b, band, status) of every pair still to be dealt with, likely and possible."""
    statuses = ", ".join("?" for _ in OPEN_STATUSES)
    bands = ", ".join("?" for _ in PROJECTED_BANDS)
    return [
        (str(a), str(b), band, status)
        for a, b, band, status in db.execute(
            f"SELECT id_a, id_b, band, status FROM match_pairs WHERE status IN ({statuses}) "
            f"AND band IN ({bands}) ORDER BY id_a, id_b",
            [*OPEN_STATUSES, *PROJECTED_BANDS],
        ).fetchall()
    ]


def reviewed_by_band(db: Any) -> dict[str, tuple[int, int]]:
    """band -> (pairs found the same person (merged), pairs found "not the same")."""
    out: dict[str, tuple[int, int]] = {}
    for band, same, different in db.execute(
        "SELECT band, sum(status = ?), sum(status = ?) FROM match_pairs "
        "WHERE status IN (?, ?) GROUP BY band",
        [PairStatus.MERGED, PairStatus.NOT_SAME] * 2,
    ).fetchall():
        out[str(band)] = (int(same or 0), int(different or 0))
    return out


def count_later(db: Any) -> int:
    """Pairs put off for later (likely or possible): left out of the projection, counted."""
    bands = ", ".join("?" for _ in PROJECTED_BANDS)
    (n,) = db.execute(
        f"SELECT count(*) FROM match_pairs WHERE status = ? AND band IN ({bands})",
        [PairStatus.LATER, *PROJECTED_BANDS],
    ).fetchone()
    return int(n)
