"""The matcher's comparisons and their levels of agreement, as arrays index them.

Read from the field registry (:mod:`desktop.fields`); nothing here declares a field.
"""

from __future__ import annotations

from desktop.fields import COMPARED_FIELDS

# Comparison -> level names, from least to most agreement. Level 0 is always "missing".
FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    name: field.level_names for name, field in COMPARED_FIELDS.items()
}
# The comparisons in the order of the columns of a level array.
FIELD_NAMES = tuple(FIELD_LEVELS)
# Comparisons whose exact level is adjusted for how common the value is -> Features attribute.
TF_FIELDS = {name: f.frequency_key for name, f in COMPARED_FIELDS.items() if f.frequency_key}


def level(field: str, name: str) -> int:
    """The integer of a named level of a comparison."""
    return FIELD_LEVELS[field].index(name)
