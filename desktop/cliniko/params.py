"""Query parameters and path ids, normalised before they go into a URL."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None
"""A mapping, or a list of pairs (which keeps repeated ``q[]`` filters)."""

_ID_RE = re.compile(r"[A-Za-z0-9_-]+")


def param_list(params: Params) -> list[tuple[str, Any]]:
    """Normalise params to a list of pairs; a mapping's list values become repeated pairs."""
    if params is None:
        return []
    if isinstance(params, Mapping):
        pairs: list[tuple[str, Any]] = []
        for name, value in params.items():
            if isinstance(value, list | tuple):
                pairs.extend((name, v) for v in value)
            else:
                pairs.append((name, value))
        return pairs
    return [(name, value) for name, value in params]


def path_id(value: str) -> str:
    """Check an id before it goes into a URL path (ids are strings, never ints).

    Raises:
        ValueError: not a non-empty string of letters, digits, ``_`` or ``-``.
    """
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ValueError("a Cliniko id must be a non-empty string of letters and digits")
    return quote(value, safe="")
