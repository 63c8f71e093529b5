"""Baseline: exact first name + last name + phone after trivial normalisation.

This is what most integrations do. Names are lower-cased and stripped; phones are reduced
to their digits (so "0412 345 678" and "+61 412 345 678" still differ). Two records match
when they share first name, last name and at least one phone. Every match is "likely";
there is no "possible" band.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations
from typing import Any

from tests.benchmarks.metrics import LIKELY, Scored


def _name(value: Any) -> str:
    """Lower-case, stripped name ("" when empty)."""
    return str(value).strip().lower() if value else ""


def _phone_digits(phones_json: Any) -> set[str]:
    """Digits-only phone numbers from the row's JSON list."""
    if not phones_json:
        return set()
    try:
        phones = json.loads(phones_json) if isinstance(phones_json, str) else phones_json
    except json.JSONDecodeError:
        return set()
    out: set[str] = set()
    for phone in phones or []:
        number = phone.get("number") if isinstance(phone, dict) else phone
        digits = "".join(ch for ch in str(number or "") if ch.isdigit())
        if digits:
            out.add(digits)
    return out


def run(rows: list[dict[str, Any]]) -> tuple[list[Scored], dict[str, Any]]:
    """Match rows exactly on (first, last, phone); return the pairs and a few counts."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in rows:
        first, last = _name(row.get("first_name")), _name(row.get("last_name"))
        if not first or not last:
            continue
        for digits in _phone_digits(row.get("phones")):
            groups[(first, last, digits)].append(str(row["id"]))
    seen: set[tuple[str, str]] = set()
    out: list[Scored] = []
    for ids in groups.values():
        for a, b in combinations(sorted(set(ids)), 2):
            if (a, b) not in seen:
                seen.add((a, b))
                out.append(Scored(a, b, LIKELY, 1.0))
    return out, {"keys": len(groups)}
