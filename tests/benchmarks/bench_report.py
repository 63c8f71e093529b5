"""The benchmark's work list: recall per class of what a true pair shares, and examples of
MergeDesk's misses and false positives with the two records side by side."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.benchmarks import metrics
from tests.benchmarks.datasets import Dataset, Pair, pair
from tests.benchmarks.metrics import LIKELY, POSSIBLE, Scored

SHOWN = ("first_name", "last_name", "date_of_birth", "sex", "phones", "address_1")
EXAMPLES = 12


def class_table(dataset: Dataset, by_method: dict[str, Iterable[Scored]]) -> list[str]:
    """Markdown rows: per method and pair class, true pairs, likely and likely+possible recall."""
    rows = {r["id"]: r for r in dataset.rows}
    lines = [
        f"{dataset.name}: recall by what a true pair shares",
        "",
        "| method | class | true pairs | R likely | R likely+possible |",
        "|---|---|---|---|---|",
    ]
    for label, scored in by_method.items():
        table = metrics.recall_by_class(scored, dataset.true_pairs, rows)
        for name, (n, r_likely, r_both) in table.items():
            lines.append(f"| {label} | {name} | {n} | {r_likely:.3f} | {r_both:.3f} |")
    return lines


def _cell(row: dict[str, Any], field: str) -> str:
    value = row.get(field)
    if field == "phones" and value:
        import json

        with contextlib.suppress(ValueError, AttributeError):
            value = ",".join(str(p.get("number")) for p in json.loads(value))
    return str(value or "·")


def _show(dataset: Dataset, rows: dict[str, dict[str, Any]], key: Pair, note: str) -> list[str]:
    a, b = sorted(key)
    kind = dataset.lookalikes.get(key, "")
    head = f"  {note}{' [' + kind + ']' if kind else ''}"
    return [
        head,
        "    " + " | ".join(_cell(rows[a], f) for f in SHOWN),
        "    " + " | ".join(_cell(rows[b], f) for f in SHOWN),
    ]


def misses_and_false_positives(dataset: Dataset, scored: Iterable[Scored]) -> list[str]:
    """Examples: true pairs outside 'likely' (by band reached) and false pairs in 'likely'."""
    rows = {r["id"]: r for r in dataset.rows}
    best: dict[Pair, Scored] = {}
    for s in scored:
        best[s.key] = s
    lines = [f"{dataset.name}: MergeDesk's misses and false positives (examples)"]
    missed = sorted(
        (p for p in dataset.true_pairs if p not in best or best[p].band != LIKELY),
        key=lambda p: -(best[p].score if p in best else 0.0),
    )
    held = [p for p in missed if p in best and best[p].band == POSSIBLE]
    lost = [p for p in missed if p not in best or best[p].band not in (LIKELY, POSSIBLE)]
    lines.append(f" true pairs held at 'possible': {len(held)}")
    for key in held[:EXAMPLES]:
        lines += _show(dataset, rows, key, f"p={best[key].score:.3f}")
    lines.append(f" true pairs not proposed at all: {len(lost)}")
    for key in lost[:EXAMPLES]:
        lines += _show(dataset, rows, key, "")
    false = sorted(
        (s for s in best.values() if s.band == LIKELY and s.key not in dataset.true_pairs),
        key=lambda s: -s.score,
    )
    lines.append(f" false pairs in 'likely': {len(false)}")
    for s in false[:EXAMPLES]:
        lines += _show(dataset, rows, s.key, f"p={s.score:.3f}")
    return lines


ADMIN_ANSWERS = 200


@dataclass
class AdminRun:
    """MergeDesk before and after the simulated administrator's answers, and the table."""

    before: metrics.Evaluation
    after: metrics.Evaluation
    lines: list[str]


def simulated_admin(dataset: Dataset, answers: int = ADMIN_ANSWERS) -> AdminRun:
    """MergeDesk before and after an administrator answers the first ``answers`` pairs of
    the 'possible' band (highest probability first) truthfully, and the scan learns from them
    (:mod:`desktop.matching.learning`). Engine in memory, in this process."""
    from desktop.matching import MatchEngine, MatchSettings
    from desktop.matching.learning import learned_relaxations
    from desktop.matching.types import ScoredPair

    def run(settings: MatchSettings) -> tuple[list[ScoredPair], metrics.Evaluation, set[Pair]]:
        result = MatchEngine(settings).scan(dataset.rows)
        scored = [Scored(p.id_a, p.id_b, p.band, p.probability) for p in result.pairs]
        found = {s.key for s in scored if s.band == LIKELY} & dataset.true_pairs
        return result.pairs, metrics.evaluate(scored, dataset), found

    pairs, before, found_before = run(MatchSettings())
    reviewed = sorted((p for p in pairs if p.band == POSSIBLE), key=lambda p: -p.probability)
    told = [(p.flags, pair(p.id_a, p.id_b) in dataset.true_pairs) for p in reviewed[:answers]]
    relaxed = learned_relaxations(told)
    confirmed = tuple(
        (p.id_a, p.id_b) for p in reviewed[:answers] if pair(p.id_a, p.id_b) in dataset.true_pairs
    )
    _, after, found_after = run(MatchSettings(relaxed_flags=relaxed, confirmed_pairs=confirmed))
    same = sum(is_same for _, is_same in told)
    answered = {pair(a, b) for a, b in confirmed}
    gained = found_after - found_before
    lines = [
        f"{dataset.name}: a simulated administrator answers the first {len(told)} 'possible' "
        f"pairs truthfully ({same} one person); rules relaxed: {', '.join(relaxed) or 'none'}; "
        f"true pairs newly 'likely': {len(gained & answered)} answered, "
        f"{len(gained - answered)} not answered (learned)",
        "",
        "| MergeDesk | P likely | R likely | F1 likely | R likely+possible "
        "| look-alikes in likely |",
        "|---|---|---|---|---|---|",
    ]
    for label, ev in (("before the answers", before), ("after the answers", after)):
        leaks = metrics.format_leaks(ev.leaks, bool(dataset.lookalikes))
        lines.append(
            f"| {label} | {ev.likely.precision:.4f} | {ev.likely.recall:.4f} | "
            f"{ev.likely.f1:.4f} | {ev.likely_possible.recall:.4f} | {leaks} |"
        )
    return AdminRun(before, after, lines)
