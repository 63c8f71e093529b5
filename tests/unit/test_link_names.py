"""Reading what a patient's link fields point at, from records of any shape."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from desktop.merge.link_names import linked_name
from desktop.merge.plan import link_addresses

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def test_names_read_as_cliniko_gives_them() -> None:
    assert linked_name({"name": " Pensioner "}) == "Pensioner"
    assert linked_name({"title": "Dr", "first_name": "Helen", "last_name": "Nguyen"}) == (
        "Dr Helen Nguyen"
    )
    assert linked_name({"first_name": None, "company_name": "Sunnyside Medical"}) == (
        "Sunnyside Medical"
    )
    assert linked_name({"name": 3, "first_name": ["x"]}) == ""


def test_odd_links_are_left_out() -> None:
    base = "https://api.au1.cliniko.com/v1"
    records: list[dict[str, Any]] = [
        {"concession_type": {"links": {"self": f"{base}/concession_types/7"}}},
        {"concession_type": {"links": {}}},  # no address
        {"concession_type": "7"},  # not a link
        {"referring_doctor": {"links": {"self": 5}}},  # an address that is no text
        {"referring_doctor": None},
    ]
    assert link_addresses(records) == {("concession_type_id", "7"): f"{base}/concession_types/7"}


@given(st.dictionaries(st.text(max_size=20), JSON, max_size=6))
def test_any_record_reads_without_an_error(record: dict[str, Any]) -> None:
    assert isinstance(linked_name(record), str)
    for field in ("concession_type", "referring_doctor"):
        shaped = {field: record}
        assert isinstance(link_addresses([shaped, record]), dict)
