"""Learning from the administrator's answers: which look-alike rules to relax in this clinic."""

from __future__ import annotations

from dataclasses import replace

from desktop.matching import MatchEngine, MatchSettings
from desktop.matching.learning import MIN_ANSWERS, learned_relaxations


def test_a_rule_that_held_back_one_person_every_time_is_relaxed():
    answers = [(("names_only",), True)] * MIN_ANSWERS
    assert learned_relaxations(answers) == ("names_only",)


def test_too_few_answers_or_too_many_different_people_relax_nothing():
    assert learned_relaxations([(("names_only",), True)] * (MIN_ANSWERS - 1)) == ()
    mixed = [(("names_only",), True)] * 20 + [(("names_only",), False)] * 2
    assert learned_relaxations(mixed) == ()


def test_family_rules_and_pairs_held_by_several_rules_are_never_relaxed():
    answers = [(("twins",), True)] * 50 + [(("parent_child",), True)] * 50
    answers += [(("names_only", "common_name"), True)] * 50
    assert learned_relaxations(answers) == ()


def _names_only_pair():
    rare = {"first_name": "Adrianna", "last_name": "Lafontaine", "updated_at": "2024-01-01"}
    a = {"id": "1", **rare, "date_of_birth": "1985-06-19", "address_1": "3375 176th St NW"}
    b = {"id": "2", **rare, "address_1": "PO Box 88"}
    return a, b


def test_a_relaxed_rule_lets_its_pairs_reach_likely_and_keeps_its_warning():
    a, b = _names_only_pair()
    settings = MatchSettings(likely_threshold=0.01, possible_threshold=0.001)
    before = MatchEngine(settings).score_pair(a, b)
    relaxed = replace(settings, relaxed_flags=("names_only",))
    after = MatchEngine(relaxed).score_pair(a, b)
    assert before.band == "possible" and before.flags == ("names_only",)
    assert after.band == "likely"
    assert after.flags == ("names_only",) and after.warnings


def test_confirmed_pairs_pull_the_model_towards_what_they_show():
    """Confirmed duplicates that live at another address make 'different address' cost less."""
    import numpy as np

    from desktop.matching.levels import FIELD_NAMES, level
    from desktop.matching.model import default_params, run_em

    u = default_params().u
    unlabelled = np.zeros((50, len(FIELD_NAMES)), dtype=np.uint8)
    confirmed = np.zeros((40, len(FIELD_NAMES)), dtype=np.uint8)
    confirmed[:, FIELD_NAMES.index("first_name")] = level("first_name", "exact")
    confirmed[:, FIELD_NAMES.index("address")] = level("address", "different")
    plain, _, _ = run_em(unlabelled, u, 5000)
    taught, _, _ = run_em(unlabelled, u, 5000, confirmed=confirmed)
    k = level("address", "different")
    assert taught["address"][k] > plain["address"][k]


def _links(flags_of_pairs, bands, confirmed):
    import numpy as np

    from desktop.matching.learning import confirmed_links
    from desktop.matching.lookalike import relaxed_mask

    ids = ["x", "y", "z", "w"]
    a = np.array([0, 1, 0, 2])  # (x, y) (y, z) (x, z) (z, w)
    b = np.array([1, 2, 2, 3])
    flags = np.array([relaxed_mask(f) for f in flags_of_pairs], dtype=np.uint16)
    return confirmed_links(ids, a, b, np.array(bands, dtype=np.int8), flags, confirmed).tolist()


def test_a_confirmed_merge_joins_the_records_its_likely_pairs_join():
    """x (no first name) confirmed as y; y and z are 'likely': x and z are one person too."""
    flags = [("no_first_name",), (), ("no_first_name",), ()]
    assert _links(flags, [1, 2, 1, 0], [("y", "x")]) == [True, False, True, False]


def test_without_answers_or_against_a_family_rule_nothing_is_joined():
    flags = [("no_first_name",), (), ("twins",), ()]
    assert _links(flags, [1, 2, 1, 0], []) == [False] * 4
    assert _links(flags, [1, 2, 1, 0], [("x", "y")]) == [True, False, False, False]


def test_answers_that_a_nameless_record_with_the_birth_date_is_the_patient_relax_its_rule():
    told = [(("no_first_name_same_birth_date",), True)] * MIN_ANSWERS
    assert learned_relaxations(told) == ("no_first_name_same_birth_date",)
    assert learned_relaxations([(("no_first_name",), True)] * 50) == ()


def test_a_nameless_record_beside_twins_stays_held_when_its_rule_is_relaxed():
    """The answers showed that a nameless record with a patient's surname and birth date is
    the patient's own; beside twins (Jason and Christopher) it could be either's: it was
    "likely" with both."""
    home = {
        "last_name": "Garrell",
        "date_of_birth": "2010-02-15",
        "sex": "Male",
        "address_1": "38297 Hunters Oak Drive",
        "city": "Kent",
        "updated_at": "2024-01-01",
    }
    rows = [
        {"id": "1", "first_name": "Jason", **home},
        {"id": "2", "first_name": "Christopher", **home},
        {"id": "3", "first_name": None, **home},
    ]
    # Three records are too few for the model to score them as a clinic would.
    settings = MatchSettings(likely_threshold=0.01, possible_threshold=0.001)
    relaxed = replace(settings, relaxed_flags=("no_first_name_same_birth_date",))
    bands = {(p.id_a, p.id_b): (p.band, p.flags) for p in MatchEngine(relaxed).scan(rows).pairs}
    assert bands[("1", "2")] == ("possible", ("twins",))
    held = ("possible", ("ambiguous", "no_first_name_same_birth_date"))
    assert bands[("1", "3")] == held and bands[("2", "3")] == held
