"""Learning from the administrator: which look-alike rules hold back, in this clinic, pairs
that turn out to be one person.

A look-alike rule holds a pair at "possible" because, in general, such pairs are often two
people. In one clinic a rule may mostly hold back duplicates (a clinic whose records came in
from a tax office rarely has two people sharing a rare full name). The administrator's
answers (merges confirmed, "not the same person") measure that: when enough pairs held back
by one rule alone were answered and nearly all were one person, that rule stops holding
pairs back from "likely" in this clinic. It still shows its warning. Rules about twins,
parents and children, households and shared identifiers are never relaxed; a nameless record
with a patient's surname and birth date is relaxed only when the answers show that in this
clinic it is nearly always the patient's own record, not a twin's.

A merge the administrator confirmed also joins records: see :func:`confirmed_links`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from desktop.matching.lookalike import LOOKALIKE_FLAGS

# The rules that a clinic's answers may relax: they say "little confirms this", never
# "this looks like two family members".
RELAXABLE = (
    "names_only",
    "child_record",
    "other_birth_date",
    "incomplete_record",
    "no_first_name_same_birth_date",
)
MIN_ANSWERS = 20  # answered pairs held back by the rule alone
MIN_SAME_SHARE = 0.97  # of which at least this share were one person


def learned_relaxations(answers: Iterable[tuple[Iterable[str], bool]]) -> tuple[str, ...]:
    """The rules to relax, from ``(flags of an answered pair, same person?)`` answers."""
    same: dict[str, int] = {}
    total: dict[str, int] = {}
    for flags, is_same in answers:
        names = tuple(flags)
        if len(names) != 1 or names[0] not in RELAXABLE:
            continue
        total[names[0]] = total.get(names[0], 0) + 1
        same[names[0]] = same.get(names[0], 0) + bool(is_same)
    return tuple(
        name
        for name in RELAXABLE
        if total.get(name, 0) >= MIN_ANSWERS and same[name] >= MIN_SAME_SHARE * total[name]
    )


# Rules that say "two people" (or "which one?"): an answer about other records never
# overrules them.
TWO_PEOPLE = (
    "twins",
    "parent_child",
    "siblings",
    "household",
    "family_card",
    "other_sex",
    "other_first_name",
    "ambiguous",
)


def confirmed_links(
    ids: list[str],
    a: np.ndarray,
    b: np.ndarray,
    band: np.ndarray,
    flags: np.ndarray,
    confirmed: Iterable[tuple[str, str]],
) -> np.ndarray:
    """Per candidate pair ``(a[i], b[i])``: one person by what the administrator said.

    A merge the administrator confirmed is one person; so is every held pair whose two
    records the confirmed merge joins with a "likely" pair (Luis Bitter's nameless record,
    confirmed as his, is Luis Bitter beside his third record too). Pairs a rule about two
    family members claims are left as they are.
    """
    out = np.zeros(a.size, dtype=bool)
    wanted = {tuple(sorted(p)) for p in confirmed}
    if not wanted or not a.size:
        return out
    index = {pid: i for i, pid in enumerate(ids)}
    root = list(range(len(ids)))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    touched: set[int] = set()
    for x, y in wanted:
        if x in index and y in index:
            root[find(index[x])] = find(index[y])
            touched.add(index[x])
    if not touched:
        return out
    for i in np.flatnonzero((band == 2) & (flags == 0)).tolist():
        root[find(int(a[i]))] = find(int(b[i]))
    joined = {find(x) for x in touched}
    two = np.uint16(sum(1 << LOOKALIKE_FLAGS.index(n) for n in TWO_PEOPLE))
    for i in np.flatnonzero((band < 2) & ((flags & two) == 0)).tolist():
        ra, rb = find(int(a[i])), find(int(b[i]))
        out[i] = ra == rb and ra in joined
    return out
