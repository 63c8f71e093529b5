"""Learning from the administrator: which look-alike rules hold back, in this clinic, pairs
that turn out to be one person.

A look-alike rule holds a pair at "possible" because, in general, such pairs are often two
people. In one clinic a rule may mostly hold back duplicates (a clinic whose records came in
from a tax office rarely has two people sharing a rare full name). The administrator's
answers (merges confirmed, "not the same person") measure that: when enough pairs held back
by one rule alone were answered and nearly all were one person, that rule stops holding
pairs back from "likely" in this clinic. It still shows its warning. Rules about twins,
parents and children, households and shared identifiers are never relaxed.
"""

from __future__ import annotations

from collections.abc import Iterable

# The rules that a clinic's answers may relax: they say "little confirms this", never
# "this looks like two family members".
RELAXABLE = ("names_only", "child_record", "other_birth_date", "incomplete_record")
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
