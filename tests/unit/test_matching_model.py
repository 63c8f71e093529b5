"""The Fellegi-Sunter model's u: how often two different people agree, from random pairs."""

from __future__ import annotations

import numpy as np

from desktop.matching.levels import FIELD_LEVELS, FIELD_NAMES
from desktop.matching.model import estimate_u

DIFFERENT_PEOPLE = 20_000
ONE_PERSON = 40


def random_pairs() -> np.ndarray:
    """Levels of random pairs: different people disagree on everything but (half the time)
    sex; a few pairs are one person entered twice and agree on everything."""
    width = len(FIELD_NAMES)
    apart = np.ones((DIFFERENT_PEOPLE, width), dtype=np.uint8)
    apart[::2, FIELD_NAMES.index("sex")] = 2
    same = np.array([[len(FIELD_LEVELS[f]) - 1 for f in FIELD_NAMES]] * ONE_PERSON, dtype=np.uint8)
    return np.concatenate([apart, same])


def test_plain_estimate_counts_every_random_pair_as_two_people() -> None:
    u = estimate_u(random_pairs())
    share = ONE_PERSON / (DIFFERENT_PEOPLE + ONE_PERSON)
    # (levels never seen get a small floor, so the shares are renormalised a little)
    assert np.isclose(u["medicare"][-1], share, rtol=0.01)
    assert np.isclose(u["date_of_birth"][-1], share, rtol=0.01)


def test_random_pairs_that_are_one_person_do_not_count_as_different_people_agreeing() -> None:
    levels = random_pairs()
    plain = estimate_u(levels)
    discounted = estimate_u(levels, np.ones(levels.shape[0], dtype=bool))
    for field in ("medicare", "date_of_birth", "email", "phone"):
        # Agreement is now as rare as never seen among the different people.
        assert discounted[field][-1] < plain[field][-1] / 20
    # What different people do is unchanged: half agree on sex.
    assert np.isclose(discounted["sex"][2], plain["sex"][2], rtol=0.01)


def test_pairs_a_look_alike_rule_claims_count_in_full() -> None:
    levels = random_pairs()
    may_match = np.ones(levels.shape[0], dtype=bool)
    may_match[-ONE_PERSON:] = False  # say, twins: agreeing is what different people do here
    assert estimate_u(levels, may_match) == estimate_u(levels)
