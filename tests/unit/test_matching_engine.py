"""The engine end to end: explanations add up, clusters, blocking caps, incremental rescoring."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop.matching import Cluster, MatchEngine, MatchSettings
from desktop.matching.blocking import candidate_pairs
from desktop.matching.cluster import build_clusters
from desktop.matching.features import build_features
from desktop.matching.keyindex import KeyIndex, stable_keys


def person(pid: str, first: str, last: str, dob: str, phone: str | None = None, **extra) -> dict:
    phones = json.dumps([{"number": phone, "phone_type": "Mobile"}]) if phone else "[]"
    return {
        "id": pid,
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob,
        "phones": phones,
        "updated_at": "2024-01-01",
        **extra,
    }


def clinic(n: int = 300) -> list[dict]:
    rng = np.random.default_rng(7)
    firsts = ["Olivia", "Jack", "Mia", "Noah", "Ava", "Liam", "Zoe", "Oscar", "Ruby", "Leo"]
    rows = []
    for i in range(n):
        rows.append(
            person(
                str(1000 + i),
                firsts[i % 10],
                f"Surname{i}x",
                f"{1940 + int(rng.integers(0, 70))}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                f"04{int(rng.integers(10_000_000, 99_999_999))}",
                email=f"person{i}@example.com",
            )
        )
    return rows


@pytest.fixture(scope="module")
def with_duplicates():
    rows = clinic()
    dups = []
    for i in range(0, 30, 3):
        src = dict(rows[i])
        src["id"] = str(5000 + i)
        src["first_name"] = src["first_name"].upper()
        dups.append(src)
    # a third record of the first person: one cluster of three
    third = dict(rows[0])
    third["id"] = "6000"
    third["email"] = None
    dups.append(third)
    return rows + dups


def test_scan_finds_planted_duplicates(with_duplicates):
    result = MatchEngine().scan(with_duplicates)
    likely = {(p.id_a, p.id_b) for p in result.pairs if p.band == "likely"}
    for i in range(0, 30, 3):
        a, b = sorted([str(1000 + i), str(5000 + i)])
        assert (a, b) in likely
    assert all(p.id_a < p.id_b for p in result.pairs)
    assert result.model["n_records"] == len(with_duplicates)
    json.dumps(result.model)  # serialisable


def test_evidence_weights_add_up_to_the_score(with_duplicates):
    result = MatchEngine().scan(with_duplicates)
    for p in result.pairs:
        assert sum(e.weight for e in p.evidence) == pytest.approx(p.weight, abs=0.01)
        assert 0.0 <= p.probability <= 1.0
        assert all(e.text for e in p.evidence)


def test_cluster_of_three_with_weakest_link(with_duplicates):
    result = MatchEngine().scan(with_duplicates)
    assert any(set(c.ids) == {"1000", "5000", "6000"} for c in result.clusters)


def test_build_clusters_weakest_link():
    edges = [("a", "b", 0.99), ("b", "c", 0.7), ("a", "c", 0.6), ("x", "y", 0.9)]
    (cluster,) = build_clusters(edges)
    assert cluster == Cluster(("a", "b", "c"), ("b", "c", 0.7))


def test_oversized_blocks_are_capped_and_reported():
    rows = [person(str(i), f"P{i}q", f"S{i}r", "1970-01-01", "0412345678") for i in range(60)]
    result = MatchEngine(MatchSettings(block_cap=20, block_window=3)).scan(rows)
    kinds = {k for k, _, _ in result.skipped_blocks}
    assert "phone" in kinds
    assert all(size == 60 for k, size, _ in result.skipped_blocks if k == "phone")
    assert result.stats["candidates"] < 60 * 59 // 2


def test_namesakes_add_pairs_in_proportion_to_their_number_not_its_square():
    def namesakes(n: int) -> list[dict]:
        return [
            person(str(i), "John", "Smith", f"{1930 + i % 80}-{1 + i % 12:02d}-{1 + i % 27:02d}")
            for i in range(n)
        ]

    small = candidate_pairs(build_features(namesakes(200))).a.size
    large = candidate_pairs(build_features(namesakes(400))).a.size
    assert small <= 3 * 200  # a few neighbours each, not every other John Smith
    assert large <= 2.2 * small


def test_archived_and_merged_records_are_left_out():
    rows = [
        person("1", "Ann", "Lee", "1970-01-01", "0412345678"),
        person("2", "Ann", "Lee", "1970-01-01", "0412345678", archived_at="2024-02-01"),
        person("3", "Ann", "Lee", "1970-01-01", "0412345678", merged_at="2024-02-01"),
    ]
    assert MatchEngine().scan(rows).pairs == []


def test_rescore_touches_only_changed_ids(with_duplicates):
    engine = MatchEngine()
    full = engine.scan(with_duplicates)
    result = engine.rescore(with_duplicates, ["1003"], full.model)
    assert result.pairs
    assert all("1003" in (p.id_a, p.id_b) for p in result.pairs)
    before = {(p.id_a, p.id_b): p.probability for p in full.pairs}
    for p in result.pairs:
        assert p.probability == pytest.approx(before[(p.id_a, p.id_b)], abs=1e-6)


def test_key_index_finds_neighbours(with_duplicates):
    features = build_features(with_duplicates)
    index = KeyIndex.build(features)
    assert index.ids == features.ids
    one = build_features([with_duplicates[3]])
    _, keys = stable_keys(one)
    assert {"1003", "5003"} <= index.neighbours(keys)
    assert index.neighbours(keys[:0]) == set()
    # Keys are stable across runs: a batch in another order gives the same keys.
    again = build_features(list(reversed(with_duplicates)))
    assert set(stable_keys(again)[1].tolist()) == set(index.keys.tolist())


def test_small_clinic_and_empty_input():
    assert MatchEngine().scan([]).pairs == []
    result = MatchEngine().scan([person("1", "A", "B", "1970-01-01")])
    assert result.pairs == [] and result.clusters == []


def test_a_repeated_id_is_one_record():
    rows = [
        person("1", "Ann", "Lee", "1970-01-01", "0412345678"),
        person("1", "Ann", "Lee", "1970-01-01", "0412345678"),
        person("2", "Ann", "Lee", "1970-01-01", "0412345678"),
    ]
    pairs = MatchEngine().scan(rows).pairs
    assert [(p.id_a, p.id_b) for p in pairs] == [("1", "2")]


def _found(rows: list[dict]) -> set[tuple[str, str]]:
    """The candidate pairs blocking finds among ``rows``, by id."""
    f = build_features(rows)
    cands = candidate_pairs(f)
    return {(f.ids[a], f.ids[b]) for a, b in zip(cands.a.tolist(), cands.b.tolist(), strict=True)}


def test_swapped_names_with_a_slip_are_found_by_blocking():
    rows = clinic(60)
    rows.append(person("7001", "Robin", "Morrison", "1925-01-24", address_1="14 Markham St"))
    rows.append(person("7002", "Morrion", "Robin", "1925-01-24", address_1="3 Other Rd"))
    found = _found(rows)
    assert ("7001", "7002") in found


def test_a_record_whose_house_number_and_surname_slipped_is_found_by_its_street():
    """Christen Bauer at 1609 Ellicott Rd and Christen Baver at Ellicott Rd (no number, no
    birth date), one postcode: no name, date or address key is shared; the street in its
    postcode and the given name are."""
    rows = clinic(60)
    place = {"city": "Tacoma", "post_code": "98404"}
    # Ten more Christens in the postcode: "given name sound + postcode" is too big a block.
    rows += [person(str(7200 + i), "Christen", f"Other{i}x", f"19{60 + i}-03-04",
                    address_1=f"{i + 2} Side Street", **place) for i in range(10)]  # fmt: skip
    rows.append(person("7101", "Christen", "Bauer", "1974-02-13", address_1="1609 Ellicott Road",
                       **place))  # fmt: skip
    rows.append(person("7102", "Christen", "Baver", "", address_1="Ellicott Road", **place))
    found = _found(rows)
    assert ("7101", "7102") in found


@pytest.mark.parametrize(
    ("first", "last", "address"),
    [
        ("Howwrd", "Caballero", "1116 Gathering Dr"),  # a slip that changes how the name sounds
        ("Howard", "Cavallero", "1116 Gathering Dr"),  # ... in the surname
        ("", "Caballero", "10367 W Columbus St"),  # no first name, a slip in the house number
    ],
)
def test_a_record_without_a_birth_date_is_found_by_what_is_left_of_its_names(
    first: str, last: str, address: str
) -> None:
    """Howard Caballero, dated, and a copy without a birth date whose name slipped in a way
    that changes its sound (or lost its first name): no name, date or address key is shared
    unless the surname and first initial, the given name and surname initial, or the street
    and surname are."""
    place = {"city": "Tacoma", "post_code": "98404"}
    # Ten more Caballeros and ten more Howards in the postcode: the keys of a name's sound
    # and the postcode are too big a block.
    others = [
        person(f"{base + i}", name, other, f"19{50 + i}-05-06", address_1=f"{i + 2} Side St",
               **place)
        for i in range(10)
        for base, name, other in ((7310, f"Zed{i}x", "Caballero"), (7320, "Howard", f"Zimmer{i}x"))
    ]  # fmt: skip
    rows = [
        *clinic(60),
        *others,
        person("7301", "Howard", "Caballero", "1981-11-08", address_1="10376 W Columbus St",
               **place),
        person("7302", first, last, "", address_1=address, **place),
    ]  # fmt: skip
    assert ("7301", "7302") in _found(rows)


@pytest.mark.parametrize(
    ("hugo", "harriet", "paired"),
    [
        ("1981-11-08", "1984-02-17", False),  # their dates would have paired them
        ("1981-11-08", "", True),
        ("", "", False),  # nothing but two names: a clinic without birth dates is not flooded
    ],
)
def test_the_surname_and_first_initial_pair_a_dated_record_with_an_undated_one(
    hugo: str, harriet: str, paired: bool
) -> None:
    """Hugo and Harriet Caballero, at two addresses."""
    rows = [
        *clinic(60),
        person("7401", "Hugo", "Caballero", hugo, address_1="3 Side St"),
        person("7402", "Harriet", "Caballero", harriet, address_1="9 Other Rd"),
    ]
    assert (("7401", "7402") in _found(rows)) is paired


def test_a_street_address_pairs_records_only_within_one_suburb_or_postcode():
    """The same street line in another suburb and postcode is another address; a slip in
    the suburb or the postcode alone still leaves the records a shared key."""
    street = {"address_1": "12 High Street"}
    home = {**street, "city": "Kew", "post_code": "3101"}
    rows = [
        *clinic(60),
        person("8001", "Maeve", "Quill", "1951-03-02", **home),
        person("8002", "Dunstan", "Rook", "1988-11-30", **street, city="Mosman", post_code="2088"),
        person("8003", "Tansy", "Abernethy", "1962-07-19", **{**home, "post_code": "3110"}),
        person("8004", "Ewart", "Fennimore", "1977-05-05", **{**home, "city": "Kwe"}),
    ]
    found = _found(rows)
    assert ("8001", "8003") in found  # same suburb, postcode mistyped
    assert ("8001", "8004") in found  # same postcode, suburb mistyped
    assert not {("8001", "8002"), ("8002", "8003"), ("8002", "8004")} & found


def _imported(rows: list[dict], day: str) -> list[dict]:
    return [{**r, "created_at": f"{day}T03:{i % 60:02d}:00Z"} for i, r in enumerate(rows)]


def test_records_of_a_bulk_import_are_not_taken_as_registered_together():
    home = {"address_1": "12 Wattle St", "post_code": "3053"}
    robert = person("8001", "Robert", "Nguyen", "1980-03-04", **home)
    bob = person("8002", "Bob", "Nguyen", "1980-03-04", **home)
    everyday = [
        {**r, "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z"}
        for i, r in enumerate(clinic(300)[150:])
    ]
    # Both made on an ordinary day: a parent registering twins with related names.
    together = MatchEngine().scan(
        _imported([robert, bob], "2022-05-05") + _imported(clinic(150), "2018-11-01") + everyday
    )
    pair = next(p for p in together.pairs if {p.id_a, p.id_b} == {"8001", "8002"})
    assert "twins" in pair.flags and pair.band != "likely"
    # Both came in with 150 others in the clinic's data import: that says nothing of twins.
    imported = MatchEngine().scan(_imported([robert, bob, *clinic(150)], "2018-11-01") + everyday)
    pair = next(p for p in imported.pairs if {p.id_a, p.id_b} == {"8001", "8002"})
    assert pair.band == "likely" and pair.flags == ()
    assert len(imported.model["import_days"]) == 1
    # A re-score with the saved model agrees with the full scan.
    again = MatchEngine().rescore(
        _imported([robert, bob, *clinic(150)], "2018-11-01") + everyday, ["8002"], imported.model
    )
    assert next(p for p in again.pairs if p.id_a == "8001").band == "likely"


def test_duplicates_that_only_their_names_confirm_still_teach_the_model():
    """Records made from a form without birth date, phone or email, at another street of the
    same postcode (a move): held at 'possible', they still show EM that a duplicate's street
    often differs, so the model stops reading every moved duplicate as two people."""
    rows = clinic()
    for i, row in enumerate(rows):
        row.update(address_1=f"{i + 1} Long St", city="Carlton", post_code="3053")
    moved = []
    for i in range(0, 120, 2):
        src = rows[i]
        src["first_name"] = f"Given{i}name"  # names nobody else here has
        place = {"address_1": f"{i} Short Rd", "city": "Carlton", "post_code": "3053"}
        moved.append(person(str(7000 + i), src["first_name"], src["last_name"], "", **place))
    model = MatchEngine().scan(rows + moved).model
    from desktop.matching.levels import level
    from desktop.matching.model import default_m

    moved_level = level("address", "post_code")
    assert model["m"]["address"][moved_level] > 2 * default_m()["address"][moved_level]


def test_a_name_only_the_two_records_carry_counts_as_rare_as_a_name_can_be():
    """A first name on exactly the two records of one pair is shared by no other patient: it
    weighs one bit more than a first name that one other patient also has (1 other vs 2
    others), not log2(3/2) more as when the pair's own records were counted."""
    rows = clinic()
    rows += [
        person("1", "Yannick", "Zyxwvuts", "1970-01-02"),
        person("2", "Yannick", "Zyxwvuts", "1970-01-02"),
        person("3", "Quentin", "Qwertyui", "1971-01-02"),
        person("4", "Quentin", "Qwertyui", "1971-01-02"),
        person("5", "Quentin", "Otherwise", "1990-05-06"),
    ]
    pairs = MatchEngine(MatchSettings(include_unlikely=True)).scan(rows).pairs

    def first_name_weight(a: str, b: str) -> float:
        pair = next(p for p in pairs if {p.id_a, p.id_b} == {a, b})
        return next(e.weight for e in pair.evidence if e.field == "First name")

    assert first_name_weight("1", "2") - first_name_weight("3", "4") == pytest.approx(1.0, abs=0.01)


def test_a_record_without_a_birth_date_counts_for_a_duplicate_where_this_clinics_lack_one():
    """Where the clinic's second registrations (a phone call, a tax form) leave the birth date
    out, a record without one beside a dated record of the same name is evidence for a
    duplicate, learned from the clinic's own pairs; its explanation says why."""
    rows = clinic()
    quick = []
    for i in range(0, 120, 2):
        src = rows[i]
        quick.append(person(str(7000 + i), src["first_name"], src["last_name"], "",
                            json.loads(src["phones"])[0]["number"]))  # fmt: skip
    result = MatchEngine().scan(rows + quick)
    pair = next(p for p in result.pairs if {p.id_a, p.id_b} == {"1000", "7000"})
    recorded = next(e for e in pair.evidence if e.field == "Birth date recorded")
    assert recorded.level == "one"
    assert recorded.weight > 1.0
    assert "only one record has a birth date" in recorded.text


def test_a_model_saved_before_a_comparison_existed_scores_as_it_did():
    """A queue's saved model from before "birth date recorded" existed gives that comparison
    no weight until the next full scan fits it: the saved scores do not move."""
    from desktop.matching.model import ModelParams

    rows = clinic()
    model = MatchEngine().scan(rows).model
    old = {**model, "m": dict(model["m"]), "u": dict(model["u"])}
    del old["m"]["birth_date_recorded"], old["u"]["birth_date_recorded"]
    weights = ModelParams.from_dict(old).level_weights()
    from desktop.matching.levels import FIELD_NAMES

    assert weights[FIELD_NAMES.index("birth_date_recorded")].tolist() == [0.0] * weights.shape[1]
    pair = MatchEngine().score_pair(rows[0], dict(rows[0], id="9", date_of_birth=""), old)
    assert [e.weight for e in pair.evidence if e.field == "Birth date recorded"] == [0.0]
