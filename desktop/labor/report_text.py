"""The labor summary as a list of simple blocks: the one document model every output draws.

:func:`report_blocks` decides the wording, order and numbers; the PDF, the printer and the
print preview (``desktop.ui.report_document``) only lay the blocks out, and
:func:`render_plain` prints them for the command line. Counts, times and money only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from desktop.labor.summary import DUPLICATE_SHARE_LIMIT, LaborSummary

TITLE = "Duplicate patient records: labor-cost summary"
NO_NAMES = (
    "Counts, times and money only: this report contains no patient names, dates of birth or "
    "contact details."
)


@dataclass(frozen=True)
class Title:
    """The document's title and the line under it."""

    text: str
    subtitle: str


@dataclass(frozen=True)
class Heading:
    """A section heading."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """Running text; ``tone`` is ``normal``, ``note`` (small, grey) or ``warning``."""

    text: str
    tone: str = "normal"


@dataclass(frozen=True)
class Figures:
    """Label/value lines; labels in ``strong`` are set in bold."""

    lines: tuple[tuple[str, str], ...]
    strong: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Table:
    """A table; ``align`` holds ``l`` or ``r`` per column."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str


@dataclass(frozen=True)
class Chart:
    """Bars of hours with a line of cost, per week or month."""

    title: str
    labels: tuple[str, ...]
    hours: tuple[float, ...]
    costs: tuple[float, ...]
    currency: str


Block = Title | Heading | Paragraph | Figures | Table | Chart


def minutes(value: float | None) -> str:
    """``12.5 min`` (``–`` for none)."""
    return "–" if value is None else f"{value:,.1f} min"


def hours_text(value: Decimal) -> str:
    """``3.25 h``."""
    return f"{value:,.2f} h"


def _rate(s: LaborSummary) -> str:
    rate = s.model.money(s.model.hourly_rate) + " per hour"
    if s.model.on_cost_percent:
        return f"{rate} x (1 + {s.model.on_cost_percent.normalize():f}% on-cost)"
    return rate


def _work(s: LaborSummary) -> list[Block]:
    money = s.model.money
    basis = "wall-clock" if s.model.use_wall_time else "active"
    lines = (
        ("Merges completed", f"{s.merges_completed:,}"),
        ('Reviews ended "not the same person"', f"{s.reviews_not_same:,}"),
        ("Merges planned in the period, not yet done", f"{s.planned_in_period:,}"),
        ("Other pairs looked at (later, skipped)", f"{s.other_cases:,}"),
        ("Work sessions", f"{s.sessions:,}"),
        (f"Minutes per merge ({basis}): total / median",
         f"{minutes(s.merge_minutes)} / {minutes(s.merge_median)}"),
        (f"Minutes per review ({basis}): total / median",
         f"{minutes(s.review_minutes)} / {minutes(s.review_median)}"),
        ("Labor hours", hours_text(s.hours)),
        ("Labor cost", money(s.cost)),
    )  # fmt: skip
    out: list[Block] = [Heading("Work done in the period")]
    if not s.has_work:
        out.append(Paragraph("No merges or reviews were recorded in this period."))
    out.append(Figures(lines, frozenset({"Labor hours", "Labor cost"})))
    out.append(
        Paragraph(
            f"Labor hours = {basis} minutes of all work sessions ({s.total_minutes:,.2f} min) "
            f"/ 60. Labor cost = hours x {_rate(s)}.",
            "note",
        )
    )
    return out


def _still_to_do(s: LaborSummary) -> list[Block]:
    money = s.model.money
    lines = (
        ("Merges planned (not yet ready)", f"{s.planned_now:,}"),
        ("Merges ready to apply", f"{s.ready_now:,}"),
        ("Merges being applied", f"{s.applying_now:,}"),
        ("Pairs left in the queue", f"{s.remaining_queue:,}"),
        ("Projected time for the queue", hours_text(s.projected_hours)),
        ("Projected cost of the queue", money(s.projected_cost)),
    )
    note = (
        f"Projection: {s.remaining_queue:,} pairs x {s.projection_minutes:,.1f} min per merge "
        f"({s.projection_source})."
    )
    return [
        Heading("Still to do (as of today)"),
        Figures(lines, frozenset({"Projected cost of the queue"})),
        Paragraph(note, "note"),
    ]


def _chart(s: LaborSummary) -> list[Block]:
    unit = "week" if s.granularity == "week" else "month"
    return [
        Heading(f"Hours and cost per {unit}"),
        Chart(
            f"Hours (bars) and cost (line) per {unit}",
            tuple(p.label for p in s.series),
            tuple(float(p.hours) for p in s.series),
            tuple(float(p.cost) for p in s.series),
            s.model.currency,
        ),
    ]


def _sources(s: LaborSummary) -> list[Block]:
    months = [(label, f"{n:,}") for label, n in s.duplicates_by_month]
    per_column = -(-len(months) // 3)  # three month/count pairs side by side
    columns = [months[i : i + per_column] for i in range(0, len(months), per_column)]
    rows = tuple(
        tuple(cell for col in columns for cell in (col[r] if r < len(col) else ("", "")))
        for r in range(per_column)
    )
    width = len(columns)
    out: list[Block] = [
        Heading("Where duplicates come from"),
        Paragraph(
            "Duplicates created per month: records since merged away, by the month they were "
            "created. A jump points at a new integration or booking channel."
        ),
        Table(("Month", "Duplicates") * width, rows, "lr" * width),
    ]
    limit = f"{DUPLICATE_SHARE_LIMIT:.0%}"
    if s.duplicate_share is None:
        out.append(Paragraph("No new patients were created in this period."))
    else:
        verdict = (
            f"This is above {limit}: the intake matching is too rigid and lets duplicates in."
            if s.duplicate_share_high
            else f"This is within the {limit} guide."
        )
        out.append(
            Paragraph(
                f"Of {s.new_patients:,} new patients in the period, {s.new_duplicates:,} "
                f"({s.duplicate_share:.1%}) turned out to be duplicates. {verdict}",
                "warning" if s.duplicate_share_high else "normal",
            )
        )
    return out


def _comparison(s: LaborSummary) -> list[Block]:
    money = s.model.money
    saved_word = "Time saved" if s.saved_minutes >= 0 else "Extra time"
    lines = [
        ("Merging by hand (baseline)",
         f"{s.manual_minutes_per_merge:,.1f} min per merge = {minutes(s.manual_minutes)}"),
        ("With MergeDesk", minutes(s.merge_minutes)),
        (saved_word, f"{hours_text(abs(s.saved_hours))} ({money(abs(s.saved_cost))})"),
    ]  # fmt: skip
    out: list[Block] = [Heading("Compared with merging by hand")]
    if s.automation_hours is None:
        return [*out, Figures(tuple(lines))]
    ratio = "–" if s.debt_ratio is None else f"{s.debt_ratio:.2f}"
    lines.append(("Semantic debt ratio", ratio))
    out += [
        Figures(tuple(lines), frozenset({"Semantic debt ratio"})),
        Paragraph(
            f"{hours_text(s.hours)} spent correcting imported data against "
            f"{hours_text(s.automation_hours)} the automation saves in this period. "
            "Above 1.00, the integration costs more staff time than it saves.",
            "note",
        ),
    ]
    return out


def _per_admin(s: LaborSummary) -> list[Block]:
    if s.per_admin is None:
        return []
    money = s.model.money
    rows = tuple(
        (a.who, f"{a.merges:,}", f"{a.reviews:,}", f"{a.sessions:,}", hours_text(a.hours),
         money(a.cost))
        for a in s.per_admin
    )  # fmt: skip
    headers = ("Administrator", "Merges", "Reviews", "Sessions", "Hours", "Cost")
    body: list[Block] = [Heading("Per administrator")]
    if rows:
        body.append(Table(headers, rows, "lrrrrr"))
    else:
        body.append(Paragraph("No work recorded in this period."))
    return body


def report_blocks(summary: LaborSummary, clinic: str | None = None) -> list[Block]:
    """The whole report, in order."""
    s = summary
    where = f"{clinic} · " if clinic else ""
    dates = f"{s.period.start:%d %b %Y} to {s.period.last_day:%d %b %Y}"
    label = s.period.label if s.period.label == dates else f"{s.period.label} ({dates})"
    subtitle = f"{where}{label}"
    generated = f"Prepared {s.generated_at:%d %b %Y %H:%M} · {s.model.describe()}."
    return [
        Title(TITLE, subtitle),
        Paragraph(generated, "note"),
        *_work(s),
        *_chart(s),
        *_still_to_do(s),
        *_comparison(s),
        *_sources(s),
        *_per_admin(s),
        Paragraph(NO_NAMES, "note"),
    ]


def render_plain(blocks: list[Block]) -> str:
    """The blocks as plain text (the command line's output)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Title):
            out += [block.text, block.subtitle, ""]
        elif isinstance(block, Heading):
            out += ["", block.text, "-" * len(block.text)]
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Figures):
            width = max(len(label) for label, _ in block.lines)
            out += [f"  {label:<{width}}  {value}" for label, value in block.lines]
        elif isinstance(block, Table):
            table = [block.headers, *block.rows]
            widths = [max(len(r[i]) for r in table) for i in range(len(block.headers))]
            for r in table:
                cells = [
                    c.ljust(w) if a == "l" else c.rjust(w)
                    for c, w, a in zip(r, widths, block.align, strict=True)
                ]
                out.append("  " + "  ".join(cells))
        elif isinstance(block, Chart):
            out.append(f"  {block.title}:")
            out += [
                f"  {label:>8}  {h:7.2f} h  {block.currency}{c:,.2f}"
                for label, h, c in zip(block.labels, block.hours, block.costs, strict=True)
            ]
    return "\n".join(out) + "\n"
