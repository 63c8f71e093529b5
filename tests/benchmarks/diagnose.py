"""Where a matcher goes wrong: misses by duplicate kind, leaks by look-alike kind, examples.

Run on demand::

    UV_SYSTEM_CERTS=1 UV_PYTHON_DOWNLOADS=never uv run --group bench \\
        python tests/benchmarks/diagnose.py --dataset clinic-5000 --method ours-engine

Datasets: febrl3, febrl4, clinic-<size>. Methods: ours-engine, splink, exact. Febrl has no
labelled duplicate kinds, so its misses are grouped by which fields differ instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.benchmarks import metrics  # noqa: E402
from tests.benchmarks.datasets import Dataset, Pair, load  # noqa: E402
from tests.benchmarks.metrics import LIKELY, POSSIBLE, Scored  # noqa: E402

SHOWN_FIELDS = (
    "first_name",
    "preferred_first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "email",
    "phones",
    "medicare",
    "address_1",
    "post_code",
)
COMPARED = ("first_name", "last_name", "date_of_birth", "email", "phones", "medicare", "post_code")


def run_method(method: str, dataset: Dataset) -> tuple[list[Scored], dict[Pair, Any]]:
    """Run a method in this process; for our engine also return each pair's full result."""
    details: dict[Pair, Any] = {}
    if method == "ours-engine":
        from desktop.matching import MatchEngine, MatchSettings

        result = MatchEngine(MatchSettings(country="AU")).scan(dataset.rows)
        scored = []
        for p in result.pairs:
            s = Scored(str(p.id_a), str(p.id_b), str(p.band), float(p.probability))
            scored.append(s)
            details[s.key] = p
        return scored, details
    if method == "splink":
        from tests.benchmarks import splink_runner

        return splink_runner.run(dataset.rows)[0], details
    if method == "exact":
        from tests.benchmarks import exact_runner

        return exact_runner.run(dataset.rows)[0], details
    raise ValueError(f"unknown method {method!r}")


def _phones(value: Any) -> str:
    """Phone numbers of a row, comma-separated."""
    try:
        return ", ".join(p.get("number") or "" for p in json.loads(value or "[]"))
    except (TypeError, ValueError, AttributeError):
        return str(value)


def _value(row: dict[str, Any], field: str) -> str:
    """A row's field as display text."""
    return _phones(row.get(field)) if field == "phones" else str(row.get(field) or "")


def _plain(value: Any) -> str:
    """A field folded for the literal look-alike test: lower case, no spaces."""
    return "".join(str(value or "").lower().split())


def same_person_number(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Both records carry one person's number: the same Medicare card with the same individual
    reference number (a card alone is often a whole family's), or a number that is not a
    Medicare card (one per person) the same or one slip apart."""
    from rapidfuzz.distance import DamerauLevenshtein

    from desktop.matching.normalise import medicare_parts, medicare_valid

    card_a, irn_a = medicare_parts(a.get("medicare"), a.get("medicare_reference_number"))
    card_b, irn_b = medicare_parts(b.get("medicare"), b.get("medicare_reference_number"))
    if not (card_a and card_b):
        return False
    if medicare_valid(card_a) or medicare_valid(card_b):
        return card_a == card_b and bool(irn_a) and irn_a == irn_b
    return DamerauLevenshtein.distance(card_a, card_b) <= 1


def issue_lookalike(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Issue 3's own look-alike definitions, and no more: twins (same birth date, surname and
    street address; first names neither one slip nor a close spelling apart) or a parent and
    child sharing a name (birth years 12 or more apart). Never when a personal identifier
    agrees: that names one person. Names and addresses are compared folded ("Ave" is
    "Avenue"), as the engine reads them; nothing else is forgiven."""
    from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

    from desktop.matching.normalise import address_key
    from desktop.matching.text import name_tokens, surname_key

    if same_person_number(a, b):
        return False
    first_a, first_b = ("".join(name_tokens(r.get("first_name"))) for r in (a, b))
    last_a, dob_a = surname_key(a.get("last_name")), _plain(a.get("date_of_birth"))
    same_surname = bool(last_a) and last_a == surname_key(b.get("last_name"))
    other_first = (
        bool(first_a and first_b)
        and JaroWinkler.normalized_similarity(first_a, first_b) < 0.8
        and DamerauLevenshtein.distance(first_a, first_b) > 1
    )
    street = address_key(a.get("address_1"))
    twins = (
        bool(dob_a)
        and dob_a == _plain(b.get("date_of_birth"))
        and same_surname
        and bool(street)
        and street == address_key(b.get("address_1"))
        and other_first
    )
    years = [str(r.get("date_of_birth") or "")[:4] for r in (a, b)]
    apart = all(y.isdigit() for y in years) and abs(int(years[0]) - int(years[1])) >= 12
    return twins or (bool(first_a) and first_a == first_b and same_surname and apart)


def differing_fields(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Which compared fields differ (both filled) or are missing on one side: "dob+email"."""
    out = []
    for field in COMPARED:
        va, vb = _value(a, field).strip().lower(), _value(b, field).strip().lower()
        if va and vb and va != vb:
            out.append(field)
        elif bool(va) != bool(vb):
            out.append(f"{field}?")
    return "+".join(out) or "none"


def describe(
    key: Pair,
    rows: dict[str, dict[str, Any]],
    scores: dict[Pair, Scored],
    details: dict[Pair, Any],
    dataset: Dataset,
) -> str:
    """Both records side by side with the method's verdict (and our evidence, if any)."""
    a, b = sorted(key)
    got = scores.get(key)
    verdict = f"{got.band} p={got.score:.3f}" if got else "not proposed"
    lines = [f"  {a} / {b}: {verdict}"]
    if dataset.labels:
        lines[0] += f"  [{dataset.labels.get(a)} / {dataset.labels.get(b)}]"
    for field in SHOWN_FIELDS:
        va, vb = _value(rows[a], field), _value(rows[b], field)
        if va or vb:
            mark = " " if va == vb else "*"
            lines.append(f"    {mark} {field:21} {va!r:38} {vb!r}")
    detail = details.get(key)
    if detail is not None:
        if getattr(detail, "flags", None):
            lines.append(f"    flags: {', '.join(detail.flags)}")
        for ev in getattr(detail, "evidence", [])[:12]:
            lines.append(f"    {ev.weight:+6.2f} {ev.field}: {ev.level} ({ev.text})")
    return "\n".join(lines)


def report(
    dataset: Dataset, method: str, scored: list[Scored], details: dict[Pair, Any], examples: int
) -> str:
    """The whole diagnosis as text."""
    rows = {str(r["id"]): r for r in dataset.rows}
    scores: dict[Pair, Scored] = {}
    for s in scored:
        if s.key not in scores or s.score > scores[s.key].score:
            scores[s.key] = s
    likely = metrics.pairs_in(scored, [LIKELY])
    both = metrics.pairs_in(scored, [LIKELY, POSSIBLE])
    ev = metrics.evaluate(scored, dataset)
    out = [
        f"{dataset.name} / {method}: {len(dataset.true_pairs)} true pairs; "
        f"likely P={ev.likely.precision:.3f} R={ev.likely.recall:.3f} F1={ev.likely.f1:.3f}; "
        f"likely+possible P={ev.likely_possible.precision:.3f} "
        f"R={ev.likely_possible.recall:.3f} F1={ev.likely_possible.f1:.3f}",
    ]
    if details:
        from desktop.matching import MatchSettings

        # What the look-alike rules cost: flagged pairs scored at the likely threshold or above
        # would be "likely" without them.
        cut = MatchSettings().likely_threshold
        unruled = [
            Scored(s.id_a, s.id_b, LIKELY if s.score >= cut else s.band, s.score) for s in scored
        ]
        free = metrics.evaluate(unruled, dataset).likely
        out.append(
            f"  without the look-alike rules (p >= {cut} counted as likely): "
            f"likely P={free.precision:.3f} R={free.recall:.3f} F1={free.f1:.3f}"
        )
        # The same, holding back only what the issue's own definitions call a look-alike.
        literal = [
            Scored(
                s.id_a,
                s.id_b,
                POSSIBLE if issue_lookalike(rows[s.id_a], rows[s.id_b]) else s.band,
                s.score,
            )
            for s in unruled
        ]
        narrow = metrics.evaluate(literal, dataset)
        held = narrow.likely
        out.append(
            f"  with only issue 3's own twin and parent/child definitions as rules: "
            f"likely P={held.precision:.3f} R={held.recall:.3f} F1={held.f1:.3f}"
            + (f"; look-alikes in likely {dict(narrow.leaks)}" if dataset.lookalikes else "")
        )
    out.append("")

    def kind_of(key: Pair) -> str:
        if dataset.duplicate_kinds:
            return dataset.duplicate_kinds.get(key, "?")
        return differing_fields(rows[min(key)], rows[max(key)])

    by_kind: dict[str, list[Pair]] = defaultdict(list)
    for key in dataset.true_pairs:
        by_kind[kind_of(key)].append(key)
    title = "duplicate kind" if dataset.duplicate_kinds else "fields that differ (? = one empty)"
    out.append(f"True pairs by {title}: total / in likely / in likely+possible / missed")
    ranked = sorted(by_kind.items(), key=lambda kv: -sum(k not in likely for k in kv[1]))
    shown = ranked if dataset.duplicate_kinds else ranked[:15]
    for kind, keys in shown:
        n_l = sum(k in likely for k in keys)
        n_b = sum(k in both for k in keys)
        out.append(f"  {kind:44} {len(keys):6} {n_l:6} {n_b:6} {len(keys) - n_b:6}")
    if len(shown) < len(ranked):
        out.append(f"  ... {len(ranked) - len(shown)} more signatures")
    out.append("")

    not_likely = [k for k in dataset.true_pairs if k not in likely]
    field_tally = Counter(
        field.rstrip("?")
        for k in not_likely
        for field in differing_fields(rows[min(k)], rows[max(k)]).split("+")
    )
    out.append(
        f"True pairs not in likely ({len(not_likely)}), by field that differs or is "
        f"missing on one side: {dict(field_tally.most_common())}"
    )
    if details:
        flag_tally = Counter(
            flag for k in not_likely if k in details for flag in (details[k].flags or ("none",))
        )
        out.append(f"  ... and by the engine's look-alike flags: {dict(flag_tally.most_common())}")
    out.append("")

    if dataset.lookalikes:
        out.append("Look-alike pairs by kind: total / in likely / in possible")
        kinds = Counter(dataset.lookalikes.values())
        for kind, total in sorted(kinds.items()):
            keys = [k for k, v in dataset.lookalikes.items() if v == kind]
            n_l = sum(k in likely for k in keys)
            n_p = sum(k in both and k not in likely for k in keys)
            out.append(f"  {kind:40} {total:6} {n_l:6} {n_p:6}")
        out.append("")

    false_likely = [k for k in likely if k not in dataset.true_pairs]
    fp_kinds = Counter(dataset.lookalikes.get(k, "unlabelled") for k in false_likely)
    out.append(f"False positives in likely: {len(false_likely)} {dict(fp_kinds)}")
    out.append("")

    if examples:
        out.append("Examples of true pairs not in likely, per kind:")
        for kind, keys in ranked:
            missed = sorted((k for k in keys if k not in likely), key=sorted)
            if not missed:
                continue
            out.append(f"- {kind} ({len(missed)} not in likely)")
            out += [describe(k, rows, scores, details, dataset) for k in missed[:examples]]
        out.append("")
        out.append("Examples of false positives in likely:")
        for kind in sorted(fp_kinds):
            keys = sorted(
                (k for k in false_likely if dataset.lookalikes.get(k, "unlabelled") == kind),
                key=sorted,
            )
            out.append(f"- {kind} ({len(keys)})")
            out += [describe(k, rows, scores, details, dataset) for k in keys[:examples]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the method, print the diagnosis."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="clinic-5000")
    parser.add_argument(
        "--method", default="ours-engine", choices=("ours-engine", "splink", "exact")
    )
    parser.add_argument("--seed", type=int, default=1, help="sample clinic seed")
    parser.add_argument("--examples", type=int, default=3, help="examples per kind (0: none)")
    args = parser.parse_args(argv)
    dataset = load(args.dataset, args.seed)
    scored, details = run_method(args.method, dataset)
    print(report(dataset, args.method, scored, details, args.examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
