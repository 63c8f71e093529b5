"""Cutting a too-deep value out of one record of a list page, and only there."""

from __future__ import annotations

import json

from desktop.cliniko.deep_json import MAX_DEPTH, TOO_DEEP, loads_cutting_deep_values


def test_only_the_deep_value_is_cut_and_text_with_brackets_and_quotes_is_kept() -> None:
    tricky = 'a ]} "[{ \\ b'
    deep = "[" * 5000 + "1" + "]" * 5000
    body = (
        '{"patients": ['
        f'{{"id": "1", "notes": {json.dumps(tricky)}}}, '
        f'{{"id": "2", "occupation": {deep}, "last_name": "Kept"}}'
        '], "total_entries": 2}'
    )

    page = loads_cutting_deep_values(body.encode())

    first, second = page["patients"]
    assert first == {"id": "1", "notes": tricky}
    assert second["last_name"] == "Kept"
    value, depth = second["occupation"], 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert value == TOO_DEEP and depth == MAX_DEPTH - 3  # page, list and record open above it


def test_a_page_that_is_deep_outside_any_record_is_not_rescued() -> None:
    body = b'{"patients": [' + b"[" * 5000 + b"]" * 5000 + b'], "total_entries": 1}'

    assert loads_cutting_deep_values(body) is None
