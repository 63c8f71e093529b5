"""Reading a list page when one of its records holds a value nested too deeply to parse.

Python's JSON parser gives up (``RecursionError``) on nesting about a thousand levels deep, and
that would lose the whole page. Cliniko's own records nest a few levels. So a value nested
deeper than :data:`MAX_DEPTH` inside one record of a list is replaced by :data:`TOO_DEEP`, the
page is read, and the sync keeps that record aside (``desktop.store.quarantine``) while the
rest of the page is stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # brackets from the top of the body; a Cliniko page nests about six
TOO_DEEP = "\x00a value nested too deeply to read\x00"
"""What stands in for a cut-out value (no real Cliniko text holds NUL characters)."""

NOT_AN_OBJECT = "\x00not a JSON object\x00"
"""The key under which a list element that is no object (an array, null) is kept aside."""

_TOO_DEEP_JSON = json.dumps(TOO_DEEP)
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _in_a_record(opened: list[str]) -> bool:
    """True when the open brackets include an object that is an element of a list."""
    return "[{" in "".join(opened)


def cut_deep_values(text: str) -> str | None:
    """``text`` with each value nested deeper than :data:`MAX_DEPTH` replaced by
    :data:`TOO_DEEP`, or None when some deep nesting is not inside a record of a list (the
    body itself is malformed, not one record)."""
    opened: list[str] = []  # the brackets open at the first MAX_DEPTH levels
    depth = 0
    parts: list[str] = []
    copied = 0
    cut_from = -1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            if depth == MAX_DEPTH and cut_from < 0:
                if not _in_a_record(opened):
                    return None
                cut_from = match.start()
            if depth < MAX_DEPTH:
                opened.append(token)
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth < MAX_DEPTH and opened:
                opened.pop()
            if depth == MAX_DEPTH and cut_from >= 0:
                parts += [text[copied:cut_from], _TOO_DEEP_JSON]
                copied, cut_from = match.end(), -1
    if not parts:
        return None
    return "".join(parts) + text[copied:]


def loads_cutting_deep_values(body: bytes) -> Any:
    """The JSON of ``body`` with over-deep values in records cut out; None if that does not
    make it readable."""
    try:
        text = cut_deep_values(body.decode("utf-8"))
        return None if text is None else json.loads(text)
    except (ValueError, RecursionError):
        return None
