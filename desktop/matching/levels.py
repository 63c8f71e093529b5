"""Comparison fields and their levels of agreement, from least to most."""

from __future__ import annotations

# Field -> level names, from least to most agreement. Level 0 is always "missing" (weight 0).
FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("missing", "different", "initial", "similar", "close", "alias", "exact"),
    "last_name": ("missing", "different", "similar", "close", "part", "exact"),
    "date_of_birth": ("missing", "different", "near", "exact"),
    "sex": ("missing", "different", "same"),
    "phone": ("missing", "different", "same"),
    "email": ("missing", "different", "similar", "dots", "exact"),
    "medicare": ("missing", "different", "family", "near", "card", "exact"),
    "address": ("missing", "different", "city", "post_code", "similar", "same"),
}
FIELD_NAMES = tuple(FIELDS)
# Fields whose exact level is adjusted for how common the value is.
TF_FIELDS = {"first_name": "first", "last_name": "last", "email": "email", "address": "address"}


def level(field: str, name: str) -> int:
    """The integer of a named level of a field."""
    return FIELDS[field].index(name)
