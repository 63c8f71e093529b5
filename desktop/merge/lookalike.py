"""What the scan said about a plan's records looking alike, and the risk in words."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import sqlite_utils

from desktop.matching.cluster import build_clusters
from desktop.store.queue import get_pair

# The risk a look-alike flag names, for the confirmation ("... the same person, not twins").
RISKS = {
    "twins": "twins",
    "parent_child": "a parent and child",
    "siblings": "siblings",
    "household": "two people of one household or care home",
    "family_card": "two members of one family",
    "other_first_name": "two members of one family",
    "common_name": "two people who share a common name",
    "other_birth_date": "two people with the same name",
    "names_only": "two people with the same name",
    "child_record": "a child and a parent",
    "ambiguous": "a relative who matches too",
}
DEFAULT_RISK = "two different people who look alike"


def lookalike_marks(
    db: sqlite_utils.Database, patient_ids: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The look-alike flags and warning texts of every pair among these records, as the scan
    stored them (both empty when none of the pairs is flagged)."""
    flags: list[str] = []
    warnings: list[str] = []
    for a, b in itertools.combinations(sorted(patient_ids), 2):
        pair = get_pair(db, a, b)
        if pair is None:
            continue
        flags += [f for f in pair.get("flags") or [] if f not in flags]
        warnings += [str(w) for w in pair.get("warnings") or [] if str(w) not in warnings]
    return tuple(flags), tuple(warnings)


def linked_as_one(db: sqlite_utils.Database, patient_ids: Sequence[str]) -> bool:
    """True when the scan's pairs among these records (likely or possible) join them all into
    one group; a plan for records no pair links would merge other people in."""
    ids = sorted(set(patient_ids))
    edges = [
        (a, b, float(pair["probability"]))
        for a, b in itertools.combinations(ids, 2)
        if (pair := get_pair(db, a, b)) is not None and pair["band"] in ("likely", "possible")
    ]
    groups = build_clusters(edges, min_size=len(ids))
    return bool(groups) and set(groups[0].ids) == set(ids)


def risk_in_words(flags: Sequence[str]) -> str:
    """The risk the flags name: "twins", "a parent and child or siblings", ..."""
    risks = list(dict.fromkeys(RISKS.get(f, DEFAULT_RISK) for f in flags)) or [DEFAULT_RISK]
    return " or ".join(risks)
