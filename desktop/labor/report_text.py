"""The labor summary as a list of simple blocks: the one document model every output draws.

:func:`report_blocks` decides the wording, order and numbers; the PDF, the printer and the
print preview (``desktop.ui.report_document``) only lay the blocks out, and
:func:`render_plain` prints them for the command line. Counts, times and money only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from desktop.intake import CreationWindow
from desktop.labor.summary import KindLine, LaborSummary
from desktop.merge_states import RESTORE_STEP, Step
from desktop.timestamps import day_words, moment_words

STEP_LABELS: dict[str, str] = {
    Step.COMPARE: "Compare the records",
    Step.CHOOSE_SURVIVOR: "Choose the record that stays",
    Step.RECONCILE: "Choose the fields",
    Step.REVIEW: "Review the changes",
    Step.READY: "Ready to apply",
    Step.UPDATE_SURVIVOR: "Update the record that stays",
    Step.MERGE_IN_CLINIKO: "Merge in Cliniko (the wait counts)",
    Step.WAIT_FOR_MERGE: "Wait for Cliniko's merge (the wait counts)",
    RESTORE_STEP: "Restore a merge (back it out)",
}

# Every pair opened starts at the compare step, whatever its outcome (the table is not merges').
STEPS_NOTE = (
    "Every pair looked at counts under “Compare the records”, whether it was merged, answered "
    "“not the same person” or left for later; the steps after it are the merges' own."
)

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
    """Bars of hours with a line of cost, per week or month; ``rate``: what an hour costs."""

    title: str
    labels: tuple[str, ...]
    hours: tuple[float, ...]
    costs: tuple[float, ...]
    currency: str
    rate: float


@dataclass(frozen=True)
class PageBreak:
    """Start a new page (the per-administrator pages)."""


Block = Title | Heading | Paragraph | Figures | Table | Chart | PageBreak


def minutes(value: float | None) -> str:
    """A duration for people: ``4.3 min`` under ten minutes (whole minutes there made a table's
    4 + 2 + 2 sit over a total of 9), ``16 min`` under an hour, ``2.35 h`` from an hour
    (``–``: none)."""
    if value is None:
        return "–"
    if value == 0:
        return "0 min"
    if abs(value) < 10:
        return f"{value:.1f} min"
    if abs(value) < 60:
        return f"{value:.0f} min"
    return f"{value / 60:,.2f} h"


def hours_text(value: Decimal) -> str:
    """``3.25 h``."""
    return f"{value:,.2f} h"


def hours_and_minutes(value: Decimal, mins: float) -> str:
    """``0.11 h (6 min)``: the hours a finance sheet wants, and the minutes people read."""
    return hours_text(value) if abs(mins) >= 60 else f"{hours_text(value)} ({minutes(mins)})"


def _rate(s: LaborSummary) -> str:
    rate = s.model.money(s.model.hourly_rate) + " per hour"
    if s.model.on_cost_percent:
        return f"{rate} x (1 + {s.model.on_cost_percent.normalize():f}% on-cost)"
    return rate


def _kind_table(s: LaborSummary, kinds: tuple[KindLine, ...]) -> Table:
    money = s.model.money
    rows = tuple(
        (k.label, f"{k.count:,}", minutes(k.minutes), minutes(k.median),
         money(s.model.cost(k.minutes)))
        for k in kinds
    )  # fmt: skip
    return Table(("Work", "Count", "Time", "Median", "Cost"), rows, "lrrrr")


def idle_rule(s: LaborSummary) -> str:
    """How time is counted, in words (the idle rule and the merge wait's cap)."""
    basis = "wall-clock" if s.model.use_wall_time else "active"
    hits = (
        f"Merges that waited on Cliniko in the period: {s.waits:,}; the wait reached the cap "
        f"in {s.wait_cap_hits:,}."
        if s.waits
        else "No merge waited on Cliniko in the period."
    )
    return (
        f"How time is counted ({basis} time): a gap between two inputs (keys, clicks, steps) of "
        f"up to {s.idle_threshold_seconds:,.0f} s counts as work; a longer gap counts nothing "
        "(the person was away). While the merge wizard is open on the Cliniko merge step, the "
        f"whole wait counts, up to {s.wait_cap_minutes:,.0f} min per merge; a merge detected "
        f"after Cliniko made it is timed to Cliniko's merge time. {hits}"
    )


def _work(s: LaborSummary) -> list[Block]:
    money = s.model.money
    basis = "wall-clock" if s.model.use_wall_time else "active"
    out: list[Block] = [Heading("Work done in the period")]
    if not s.has_work:
        out.append(Paragraph("No merges or reviews were recorded in this period."))
    out.append(_kind_table(s, s.kinds))
    lines = (
        ("Work sessions", f"{s.sessions:,}"),
        ("Labor hours", hours_and_minutes(s.hours, s.total_minutes)),
        ("Labor cost", money(s.cost)),
    )
    out.append(Figures(lines, frozenset({"Labor hours", "Labor cost"})))
    out.append(
        Paragraph(
            f"Labor hours = {basis} minutes of all work sessions ({s.total_minutes:,.2f} min) "
            f"/ 60. Labor cost = hours x {_rate(s)}. A merge is one record merged into "
            "another: a group of three records merged at once is two merges.",
            "note",
        )
    )
    out.append(Paragraph(idle_rule(s), "note"))
    return out


def _steps(s: LaborSummary) -> list[Block]:
    if not s.steps:
        return []
    rows = tuple(
        (STEP_LABELS.get(st.step, st.step), f"{st.sessions:,}", minutes(st.minutes))
        for st in s.steps
    )
    return [
        Heading("Time per step"),
        Table(("Step", "Sessions", "Time"), rows, "lrr"),
        Paragraph(STEPS_NOTE, "note"),
    ]


def _chart(s: LaborSummary) -> list[Block]:
    unit = "week" if s.granularity == "week" else "month"
    return [
        Heading(f"Hours and cost per {unit}"),
        Chart(
            f"Hours (bars) and cost (line) per {unit}, up to today",
            tuple(p.label for p in s.series),
            # Unrounded: 12 seconds are a bar too, beside the cent they cost ("0.00 h").
            tuple(p.minutes / 60 for p in s.series),
            tuple(float(p.cost) for p in s.series),
            s.model.currency,
            float(s.model.loaded_rate),
        ),
    ]


def _still_to_do(s: LaborSummary) -> list[Block]:
    money, p = s.model.money, s.projection
    lines = (
        ("Merges planned (not yet ready)", f"{s.planned_now:,}"),
        ("Merges ready to apply", f"{s.ready_now:,}"),
        ("Merges being applied", f"{s.applying_now:,}"),
        ("Pairs left in the queue", f"{s.remaining_queue:,}"),
        ('Pairs put off "for later" (not projected)', f"{p.later:,}"),
        ("Groups of records still to look at", f"{p.groups:,} ({p.records:,} records)"),
        ("Expected merges", f"{p.expected_merges:,.1f}"),
        ('Expected reviews ending "not the same"', f"{p.expected_reviews:,.1f}"),
        ("Projected time for the queue", hours_and_minutes(s.projected_hours, p.minutes())),
        ("Projected cost of the queue",
         f"{money(s.projected_cost)} (range {money(s.projected_cost_low)} to "
         f"{money(s.projected_cost_high)})"),
    )  # fmt: skip
    bands = [Paragraph("Band precision: " + b.describe() + ".", "note")
             for b in p.precision.values()]  # fmt: skip
    return [
        Heading("Still to do (as of today)"),
        Figures(lines, frozenset({"Projected cost of the queue"})),
        Paragraph(projection_note(s), "note"),
        *bands,
    ]


def projection_note(s: LaborSummary) -> str:
    """How the projection of the queue is made, with this summary's figures."""
    p = s.projection
    needed = ", ".join(f"{n:,} {band}" for band, n in sorted(p.merges_needed.items())) or "none"
    return (
        f"How it is made: a group of n linked records needs n - 1 merges ({needed} undecided; "
        f"{p.decided:,} already planned or ready count as certain). Each undecided merge is "
        "weighted by its band's precision in this clinic, the rest of it is a review ending "
        f'"not the same person". Minutes = expected merges x {p.merge.median:,.1f} min per '
        f"merge ({p.merge.source}) + expected reviews x {p.review.median:,.1f} min per review "
        f"({p.review.source}). The range takes each band's 80% range and the quartiles of "
        f"those minutes ({p.merge.low:,.1f} to {p.merge.high:,.1f} min per merge, "
        f"{p.review.low:,.1f} to {p.review.high:,.1f} min per review). Pairs put off for later "
        'and pairs found "not the same" are left out.'
    )


def _comparison(s: LaborSummary) -> list[Block]:
    money = s.model.money
    saved_word = "Time saved" if s.saved_minutes >= 0 else "Extra time"
    lines = (
        ("Merging by hand (baseline)",
         f"{s.manual_minutes_per_merge:,.1f} min per merge = {minutes(s.manual_minutes)}"),
        ("With MergeDesk", minutes(s.merge_minutes)),
        (saved_word, f"{minutes(abs(s.saved_minutes))} ({money(abs(s.saved_cost))})"),
    )  # fmt: skip
    return [Heading("Compared with merging by hand"), Figures(lines)]


def _debt(s: LaborSummary) -> list[Block]:
    money, d = s.model.money, s.debt
    ratio = "not set" if d.ratio is None else f"{d.ratio:.2f}"
    saved = (
        "not set (Settings: hours the integration saves per month)"
        if d.saved_per_month is None
        else f"{d.saved_per_month:,.2f} h per month x {d.months:,.2f} months = "
        f"{d.saved_in_period:,.2f} h"
    )
    lines = (
        ("Merges of duplicates from the integration", f"{d.cases:,}"),
        ("Hours correcting them", hours_and_minutes(d.correction_hours, d.correction_minutes)),
        ("Hours the integration saves in the period", saved),
        ("Semantic debt ratio", ratio),
        ("Vendor subscription per month", money(d.subscription)),
        ("API access fees per month", money(d.api_fees)),
        ("Remediation labor per month",
         f"{money(d.remediation_per_month)} ({money(d.correction_cost)} over "
         f"{d.months:,.2f} months)"),
        ("Total cost of ownership per month", money(d.tco_per_month)),
    )  # fmt: skip
    text = (
        f"Integration rule (Settings): {d.rule.describe()}. A merge counts when a newer record "
        "of the pair matches it. Semantic debt ratio = hours correcting those duplicates / "
        "hours the integration saves in the period; above 1.00 the integration costs more staff "
        "time than it saves. Monthly TCO = subscription + API fees + remediation labor cost "
        "per month."
    )
    return [
        Heading("The integration: semantic debt and total cost"),
        Figures(lines, frozenset({"Semantic debt ratio", "Total cost of ownership per month"})),
        Paragraph(text, "note"),
    ]


def _intake(s: LaborSummary) -> list[Block]:
    report = s.intake
    total = report.total
    out: list[Block] = [Heading("New patients arriving as duplicates")]
    if total.new_patients == 0:
        out.append(Paragraph("No new patients were recorded by a scan in this period."))
        return out
    out.append(
        Paragraph(
            f"Intake exception rate: {total.arrived_as_duplicates:,} of {total.new_patients:,} "
            f"new patients ({total.rate:.1%}) were, when first scanned, a likely duplicate of "
            "an earlier record (counted whether or not they were merged since)."
        )
    )
    weeks = tuple(
        (f"Week of {start.day} {start:%b}", f"{c.new_patients:,}",
         f"{c.arrived_as_duplicates:,}", f"{c.rate:.1%}")
        for start, c in report.by_week
    )  # fmt: skip
    out.append(Table(("Week", "New", "Duplicates", "Rate"), weeks, "lrrr"))
    windows = tuple(
        (w.value.capitalize(), f"{c.new_patients:,}", f"{c.arrived_as_duplicates:,}",
         f"{c.rate:.1%}")
        for w, c in ((w, report.by_window[w]) for w in CreationWindow)
    )  # fmt: skip
    out.append(Table(("Created", "New", "Duplicates", "Rate"), windows, "lrrr"))
    if report.alarm:
        out.append(Paragraph(report.alarm_text(), "warning"))
    elif total.new_patients < report.minimum:
        out.append(
            Paragraph(
                f"No alarm, too few to judge: {total.new_patients:,} new "
                f"patient{'s' if total.new_patients != 1 else ''}, and the "
                f"{report.threshold:.0%} alarm counts from {report.minimum:,}.",
                "note",
            )
        )
    else:
        out.append(Paragraph(f"Within the {report.threshold:.0%} alarm threshold.", "note"))
    return out


def _record_keeping(audit_head: str | None, last_reconciliation: str | None) -> list[Block]:
    """The optional record-keeping line: the audit chain's head and the last reconciliation."""
    parts = [text for text in (audit_head, last_reconciliation) if text]
    return [Paragraph("Records: " + " ".join(parts), "note")] if parts else []


def _per_admin(s: LaborSummary) -> list[Block]:
    if s.per_admin is None:
        return []
    money = s.model.money
    body: list[Block] = []
    if not s.per_admin:
        return [Heading("Per administrator"), Paragraph("No work recorded in this period.")]
    for a in s.per_admin:
        body += [
            PageBreak(),
            Heading(f"Per administrator: {a.who}"),
            _kind_table(s, a.kinds),
            Figures((("Work sessions", f"{a.sessions:,}"),
                     ("Labor hours", hours_and_minutes(a.hours, a.minutes)),
                     ("Labor cost", money(a.cost)))),
        ]  # fmt: skip
    return body


METHOD = (
    "Method: every stretch of work on a pair is timed by the app from opening it to its outcome "
    "(merged, not the same, restored, later, skipped, or left unfinished), ids only. Time is "
    "counted by the idle rule above and costed at the rate and on-cost in Settings; totals are "
    "costed from the summed minutes and rounded to the cent once, so the CSV export's rows add "
    "up to the same total. Work counts in the period it started. The projection and the "
    "integration figures are estimates from this clinic's own records and the inputs printed "
    "with them; the intake rate comes from the scans, which record each new patient once."
)


def report_blocks(
    summary: LaborSummary,
    clinic: str | None = None,
    *,
    audit_head: str | None = None,
    last_reconciliation: str | None = None,
) -> list[Block]:
    """The whole report, in order (``audit_head`` / ``last_reconciliation``: optional
    record-keeping line, left out when None)."""
    s = summary
    where = f"{clinic} · " if clinic else ""
    dates = f"{day_words(s.period.start)} to {day_words(s.period.last_day)}"
    label = s.period.label if s.period.label == dates else f"{s.period.label} ({dates})"
    subtitle = f"{where}{label}"
    zone = s.generated_at.tzname() or ""  # the clinic's clock, named: "AEDT"
    generated = f"Prepared {moment_words(s.generated_at)} {zone} · {s.model.describe()}."
    return [
        Title(TITLE, subtitle),
        Paragraph(generated, "note"),
        *_record_keeping(audit_head, last_reconciliation),
        *_work(s),
        *_steps(s),
        *_chart(s),
        *_still_to_do(s),
        *_comparison(s),
        *_debt(s),
        *_intake(s),
        Heading("How the figures are made"),
        Paragraph(METHOD, "note"),
        Paragraph(NO_NAMES, "note"),
        *_per_admin(s),
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
        elif isinstance(block, PageBreak):
            out.append("")
        elif isinstance(block, Chart):
            out.append(f"  {block.title}:")
            out += [
                f"  {label:>8}  {h:7.2f} h  {block.currency}{c:,.2f}"
                for label, h, c in zip(block.labels, block.hours, block.costs, strict=True)
            ]
    return "\n".join(out) + "\n"
