"""Cliniko's list-query grammar: ``q[]`` filters, ``sort``, ``page``/``per_page`` and links.

String matching (``=``, ``!=``, ``~``, ``~~``) is case-insensitive here; Cliniko does not document
it. As in SQL, a null value never matches a comparison (only ``?``, ``!?`` and ``*`` see nulls).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100

# Operators per field type (Cliniko API docs, "Filtering results").
OPERATORS: dict[str, tuple[str, ...]] = {
    "date": ("=", "!=", ">=", ">", "<=", "<", "?", "!?"),
    "datetime": (">=", ">", "<=", "<", "?", "!?", "*"),
    "int": ("=", "!=", ">=", ">", "<=", "<", "?", "!?"),
    "string": ("=", "!=", "~~", "~", "?", "!?"),
    "bool": ("=", "!="),
}
# Longest first, so "!?" wins over "!=" and "~~" over "~".
_ALL_OPS = ("!?", "!=", ">=", "<=", "~~", "=", ">", "<", "~", "?", "*")
_NO_VALUE_OPS = ("?", "!?", "*")

Record = Mapping[str, Any]
SortedRecord = TypeVar("SortedRecord", bound=Record)
# Epoch seconds now: ``time.time`` by default, a test's manual clock, or live mode's.
Clock = Callable[[], float]


class QueryError(ValueError):
    """A bad filter, sort or paging parameter: the API answers 400 with this message."""


@dataclass(frozen=True)
class Filter:
    """One parsed ``q[]`` filter, with a predicate over stored records."""

    field: str
    op: str
    raw: str
    kind: str
    value: Any = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Hashable identity, for caches."""
        return (self.field, self.op, self.raw)

    def matches(self, record: Record) -> bool:
        """True if ``record`` passes this filter."""
        current = record.get(self.field)
        op = self.op
        if op == "*":
            return True
        if op == "?":
            return current is not None and current != ""
        if op == "!?":
            return current is None or current == ""
        if current is None:
            return False
        if self.kind == "int":
            return _compare(int(current), op, self.value)
        if self.kind == "string":
            return _match_string(str(current), op, self.value)
        if self.kind == "date" and isinstance(self.value, re.Pattern):
            hit = self.value.fullmatch(str(current)) is not None
            return hit if op == "=" else not hit
        return _compare(current, op, self.value)


def _compare(current: Any, op: str, value: Any) -> bool:
    if op == "=":
        return current in value if isinstance(value, frozenset) else current == value
    if op == "!=":
        return current != value
    if op == ">":
        return current > value
    if op == ">=":
        return current >= value
    if op == "<":
        return current < value
    if op == "<=":
        return current <= value
    raise QueryError(f"Invalid operator {op}")


def _match_string(current: str, op: str, value: Any) -> bool:
    text = current.casefold()
    if op == "=":
        return text == value
    if op == "!=":
        return text != value
    if op == "~":
        return value in text
    return value.fullmatch(text) is not None  # "~~", a compiled LIKE pattern


def _like_pattern(raw: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in raw.casefold().split("%")]
    return re.compile(".*".join(parts), re.DOTALL)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def canonical_datetime(raw: str) -> str:
    """Parse an ISO date-time and return it as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    if _CANONICAL.fullmatch(raw):
        return raw
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _datetime_value(field: str, op: str, raw: str) -> tuple[str, str]:
    """Value and (possibly adjusted) operator; stored times have whole seconds."""
    try:
        text = raw.strip().replace("z", "Z")
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise QueryError(f"Filter value for {field} must be a date-time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed.microsecond:
        parsed = parsed.replace(microsecond=0)
        op = {">=": ">", "<": "<="}.get(op, op)  # t > x.5 <=> t > x for whole seconds
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ"), op


def _date_value(field: str, op: str, raw: str) -> Any:
    if "*" in raw:
        if op not in ("=", "!=") or not re.fullmatch(r"[\d*]{4}-[\d*]{2}-[\d*]{2}", raw):
            raise QueryError(f"Filter value for {field} must be a date")
        return re.compile(raw.replace("*", r"\d"))
    try:
        return datetime.strptime(raw, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError as exc:
        raise QueryError(f"Filter value for {field} must be a date") from exc


def parse_filter(text: str, fields: Mapping[str, str]) -> Filter:
    """Parse one ``field:<op><value>`` expression for a resource with ``fields`` (name -> kind)."""
    name, sep, rest = text.partition(":")
    name = name.strip()
    if not sep or not name:
        raise QueryError(f"Invalid filter: {text}")
    if name not in fields:
        raise QueryError(f"{name} is not filterable")
    kind = fields[name]
    op = next((o for o in _ALL_OPS if rest.startswith(o)), None)
    if op is None or op not in OPERATORS[kind]:
        raise QueryError(f"Invalid filter operator for {name}")
    raw = rest[len(op) :]
    if op in _NO_VALUE_OPS:
        return Filter(name, op, "", kind)
    value: Any
    if kind == "int":
        try:
            numbers = [int(v) for v in raw.split(",")] if op == "=" else [int(raw)]
        except ValueError as exc:
            raise QueryError(f"Filter value for {name} must be a number") from exc
        value = frozenset(numbers) if op == "=" else numbers[0]
    elif kind == "bool":
        if raw.lower() not in ("true", "false"):
            raise QueryError(f"Filter value for {name} must be true or false")
        value = raw.lower() == "true"
    elif kind == "datetime":
        value, op = _datetime_value(name, op, raw)
    elif kind == "date":
        value = _date_value(name, op, raw)
    elif op == "~~":
        value = _like_pattern(raw)
    else:
        value = raw.casefold()
    return Filter(name, op, raw, kind, value)


def parse_filters(
    raw_filters: Iterable[str], fields: Mapping[str, str], *, hide_archived: bool = True
) -> list[Filter]:
    """Parse every ``q[]``; without an ``archived_at`` filter, archived rows are hidden."""
    filters = [parse_filter(text, fields) for text in raw_filters if text != ""]
    if (
        hide_archived
        and "archived_at" in fields
        and not any(f.field == "archived_at" for f in filters)
    ):
        filters.append(Filter("archived_at", "!?", "", "datetime"))
    return filters


def parse_sort(
    sort: str | None, order: str | None, sortable: Iterable[str], default: str = "created_at"
) -> tuple[tuple[str, bool], ...]:
    """``sort=col1,col2:desc`` (and deprecated ``order``) as ((column, descending), ...)."""
    allowed = set(sortable)
    columns: list[tuple[str, bool]] = []
    for part in (sort or default).split(","):
        name, _, direction = part.strip().partition(":")
        if not name:
            continue
        if name not in allowed:
            raise QueryError(f"Invalid sort column: {name}")
        if direction and direction.lower() not in ("asc", "desc"):
            raise QueryError(f"Invalid sort direction: {direction}")
        columns.append((name, direction.lower() == "desc"))
    if order:
        if order.lower() not in ("asc", "desc"):
            raise QueryError("order must be asc or desc")
        if not sort:
            columns = [(c, order.lower() == "desc") for c, _ in columns]
    return tuple(columns)


def sort_records(
    records: Sequence[SortedRecord],
    columns: Sequence[tuple[str, bool]],
    int_columns: Iterable[str],
    *,
    presorted: bool = False,
) -> list[SortedRecord]:
    """Sort like PostgreSQL (nulls last ascending, first descending), ties broken by id.

    ``presorted``: the records already come in ascending id order.
    """
    ints = set(int_columns)
    result = list(records) if presorted else sorted(records, key=lambda r: int(r["id"]))
    for name, desc in reversed(columns):
        if name in ints:

            def key(r: Record, n: str = name) -> tuple[bool, Any]:
                v = r.get(n)
                return (v is None, int(v) if v is not None else 0)
        else:

            def key(r: Record, n: str = name) -> tuple[bool, Any]:
                v = r.get(n)
                return (v is None, v if v is not None else "")

        result.sort(key=key, reverse=desc)
    return result


def _int_param(params: Mapping[str, Sequence[str]], name: str) -> int | None:
    values = params.get(name)
    if not values or values[-1] == "":
        return None
    try:
        return int(values[-1])
    except ValueError as exc:
        raise QueryError(f"{name} must be a number") from exc


def parse_paging(params: Mapping[str, Sequence[str]]) -> tuple[int, int]:
    """``page`` (1-based) and ``per_page`` (default 50, capped at 100)."""
    page = _int_param(params, "page") or 1
    per_page = _int_param(params, "per_page") or DEFAULT_PER_PAGE
    return max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)


def page_links(
    url: str, pairs: Sequence[tuple[str, str]], page: int, per_page: int, total: int
) -> dict[str, str]:
    """``self``, plus ``previous``/``next`` only where such a page exists; other params kept."""
    kept = [(k, v) for k, v in pairs if k != "page"]

    def link(number: int) -> str:
        return f"{url}?{urlencode([('page', str(number)), *kept])}"

    links = {"self": link(page)}
    if page > 1:
        links["previous"] = link(page - 1)
    if page * per_page < total:
        links["next"] = link(page + 1)
    return links


def utc_now(clock: Clock = time.time) -> datetime:
    """The current UTC time on ``clock`` (epoch seconds), whole seconds."""
    return datetime.fromtimestamp(int(clock()), UTC)


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bump_time(previous: str | None, clock: Clock = time.time) -> str:
    """A new ``updated_at``: now on ``clock``, but strictly later than ``previous``."""
    now = utc_now(clock)
    if previous:
        before = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if now <= before:
            now = before + timedelta(seconds=1)
    return format_time(now)
