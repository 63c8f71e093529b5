"""An incremental scan's likely pairs, checked against the stored queue for look-alikes.

A re-score scores only the pairs that touch changed patients. A full scan holds back a likely
pair whose sparse record is also a strong match for a look-alike of its partner (an undated
Jacqueline Shah beside her mother, while her same-name daughter is flagged apart from the
mother); a re-score of the mother alone did not see the daughter's pairs, and put the undated
record in "likely" with her. The stored pairs fill in what the re-score did not score.
"""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from desktop.matching import MatchSettings, ScoredPair
from desktop.matching.lookalike import (
    FAMILY_FLAGS,
    SOFT_FLAGS,
    ambiguous_links,
    warning_texts,
)
from desktop.store import queue, scan_rows

FAMILY = frozenset(FAMILY_FLAGS)  # two different people, for sure
SOFT = frozenset(SOFT_FLAGS)  # a strong link held back for want of detail still links


def hold_ambiguous(
    db: sqlite_utils.Database,
    pairs: list[ScoredPair],
    changed: set[str],
    settings: MatchSettings,
) -> int:
    """Demote (in place) to "possible", flagged ambiguous, each likely pair of ``pairs`` (a
    re-score of ``changed``) whose sparse record also links strongly to a look-alike of its
    partner, as the stored queue or this re-score shows them; returns how many.

    A link held back by a rule this clinic's answers relaxed (``settings.relaxed_flags``)
    still links, as in a full scan.
    """
    likely = [i for i, p in enumerate(pairs) if p.band == "likely"]
    if not likely:
        return 0
    ids = {pid for i in likely for pid in (pairs[i].id_a, pairs[i].id_b)}
    known = {
        (a, b): (probability, flags)
        for a, b, probability, flags in queue.links_touching(db, ids)
        if a not in changed and b not in changed  # those were scored again: see below
    }
    known.update({(p.id_a, p.id_b): (p.probability, p.flags) for p in pairs})
    conflicts = {pair for pair, (_, flags) in known.items() if FAMILY & set(flags)}
    if not conflicts:
        return 0
    # A stored pair flagged "ambiguous" was a link when the full scan flagged it so.
    soft = SOFT | {"ambiguous", *settings.relaxed_flags}
    linked = [
        pair
        for pair, (probability, flags) in known.items()
        if probability >= settings.likely_threshold and set(flags) <= soft
    ]
    sparse = scan_rows.without_date_or_name(db, ids)
    found = ambiguous_links(
        [(pairs[i].id_a, pairs[i].id_b) for i in likely], linked, conflicts, sparse
    )
    for n in found:
        pair = pairs[likely[n]]
        pairs[likely[n]] = replace(
            pair,
            band="possible",
            flags=(*pair.flags, "ambiguous"),
            warnings=[*pair.warnings, *warning_texts(("ambiguous",), 0)],
        )
    return len(found)
