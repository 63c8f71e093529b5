"""Property tests: the scorer never crashes on any patient record and is symmetric."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

from desktop.matching import MatchEngine
from desktop.matching.arrays import sorted_unique
from desktop.matching.distinct import distinct_scores
from desktop.matching.features import MATCH_COLUMNS

ENGINE = MatchEngine()
FIELDS = [c for c in MATCH_COLUMNS if c not in ("id", "archived_at", "merged_at")]

text = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "O'Brien",
            "Smith-Jones",
            "1980-03-04",
            "04/03/1980",
            "0412 345 678",
            "+61412345678",
            "a@b.co",
            "2123456701",
            "3000",
            "Bob",
            "Robert",
            "王伟",
            "0",
            "-1",
        ]
    ),
)
phones = st.one_of(
    text,
    st.lists(st.fixed_dictionaries({"number": text, "phone_type": text}), max_size=3).map(
        json.dumps
    ),
)
anything = st.one_of(text, st.integers(), st.floats(allow_nan=True), st.booleans())


@st.composite
def records(draw: st.DrawFn, pid: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": pid}
    for column in FIELDS:
        if column == "phones":
            row[column] = draw(phones)
        else:
            row[column] = draw(anything)
    return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records("1"), records("2"))
def test_score_pair_never_crashes_and_is_symmetric(a: dict[str, Any], b: dict[str, Any]) -> None:
    ab = ENGINE.score_pair(a, b)
    ba = ENGINE.score_pair(b, a)
    assert (ab.id_a, ab.id_b) == (ba.id_a, ba.id_b) == ("1", "2")
    assert ab.weight == pytest.approx(ba.weight, abs=1e-9)
    assert ab.probability == pytest.approx(ba.probability, abs=1e-12)
    assert ab.band == ba.band
    assert ab.flags == ba.flags
    assert 0.0 <= ab.probability <= 1.0
    assert sum(e.weight for e in ab.evidence) == pytest.approx(ab.weight, abs=0.01)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records("x"), min_size=0, max_size=8))
def test_scan_never_crashes(rows: list[dict[str, Any]]) -> None:
    for i, row in enumerate(rows):
        row["id"] = str(i)
    result = ENGINE.scan(rows)
    for pair in result.pairs:
        assert pair.id_a < pair.id_b
        assert pair.band in ("likely", "possible")


@settings(max_examples=200, deadline=None)
@given(text, st.sampled_from(["AU", "NZ", "GB", "IE", "CA", "US", "", "ZZ", "uk"]), text)
def test_phone_and_address_normalisers_never_crash(
    raw: str | None, country: str, line: str | None
) -> None:
    from desktop.matching import normalise as nz

    e164 = nz.phone_e164(raw, nz.country_key(country))
    assert isinstance(e164, str)
    address = nz.address_key(line, raw)
    assert isinstance(address, str)
    assert nz.street_key(address) in address


@settings(max_examples=200, deadline=None)
@given(text, text)
def test_birth_date_and_name_normalisers_never_crash(raw, name):
    from desktop.matching import normalise as nz
    from desktop.matching import text as names

    found = nz.birth_date(raw)
    assert found == "" or (len(found) == 8 and found.isdigit())
    typed = nz.typed_birth_date(raw)
    assert typed == "" or (found == "" and len(typed) == 8 and typed.isascii() and typed.isdigit())
    assert isinstance(names.surname_key(name), str)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcde.@1", min_size=0, max_size=12), min_size=2, max_size=12, unique=True
    ),
    st.data(),
)
def test_a_distance_that_stops_early_tells_slips_from_the_rest_as_the_full_one(
    values: list[str], data: st.DataObject
) -> None:
    """Emails, Medicare numbers and names are "one slip apart" or not; rapidfuzz giving up
    past one edit must never change which."""
    codes = st.integers(min_value=0, max_value=len(values) - 1)
    ca = np.array(data.draw(st.lists(codes, min_size=1, max_size=30)))
    cb = np.array(data.draw(st.lists(codes, min_size=ca.size, max_size=ca.size)))
    mask = ca != cb
    full = distinct_scores(ca, cb, values, DamerauLevenshtein.distance, mask)
    early = distinct_scores(ca, cb, values, DamerauLevenshtein.distance, mask, 1)
    assert ((full <= 1) == (early <= 1)).all()
    assert (early[full <= 1] == full[full <= 1]).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=200))
def test_sorted_unique_gives_what_np_unique_gives(values: list[int]) -> None:
    """The blocking's pair codes are made distinct by sorting; the answer must not change."""
    codes = np.array(values, dtype=np.int64)
    assert np.array_equal(sorted_unique(codes), np.unique(codes))
    assert sorted_unique(codes).dtype == np.int64
