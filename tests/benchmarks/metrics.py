"""Precision, recall and F1 on unordered id pairs, and look-alike leaks, per band."""

from __future__ import annotations

import math
import resource
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.datasets import Dataset, Pair, pair

LIKELY = "likely"
POSSIBLE = "possible"


@dataclass(frozen=True)
class Scored:
    """One proposed pair: ids, band ("likely", "possible", "unlikely") and a score."""

    id_a: str
    id_b: str
    band: str
    score: float

    @property
    def key(self) -> Pair:
        """The unordered pair."""
        return pair(self.id_a, self.id_b)


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 with the counts behind them."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was proposed."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when there is nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def cells(self) -> list[str]:
        """Three table cells: precision ("—" when nothing was proposed), recall, F1."""
        precision = f"{self.precision:.3f}" if self.tp + self.fp else "—"
        return [precision, f"{self.recall:.3f}", f"{self.f1:.3f}"]


def prf(predicted: set[Pair], truth: set[Pair]) -> PRF:
    """Score a set of predicted pairs against the true pairs."""
    tp = len(predicted & truth)
    return PRF(tp=tp, fp=len(predicted) - tp, fn=len(truth) - tp)


def pairs_in(scored: Iterable[Scored], bands: Iterable[str]) -> set[Pair]:
    """The unordered pairs whose band is one of ``bands`` (self-pairs dropped)."""
    wanted = set(bands)
    return {s.key for s in scored if s.band in wanted and s.id_a != s.id_b}


def lookalike_leaks(predicted: set[Pair], lookalikes: dict[Pair, str]) -> Counter[str]:
    """How many labelled look-alike pairs are among ``predicted``, by kind."""
    return Counter(kind for p, kind in lookalikes.items() if p in predicted)


def format_leaks(leaks: Counter[str], has_labels: bool) -> str:
    """ "0", or "3 (household 2, common_name 1)"; "n/a" when the set labels none."""
    if not has_labels:
        return "n/a"
    total = sum(leaks.values())
    if not total:
        return "0"
    parts = ", ".join(f"{kind} {n}" for kind, n in sorted(leaks.items()))
    return f"{total} ({parts})"


@dataclass(frozen=True)
class Evaluation:
    """Everything the table prints about one method on one dataset."""

    likely: PRF
    likely_possible: PRF
    leaks: Counter[str]


def evaluate(scored: Iterable[Scored], dataset: Dataset) -> Evaluation:
    """Score a method's pairs: the likely band, likely+possible, and look-alike leaks."""
    scored = list(scored)
    likely = pairs_in(scored, [LIKELY])
    both = pairs_in(scored, [LIKELY, POSSIBLE])
    return Evaluation(
        likely=prf(likely, dataset.true_pairs),
        likely_possible=prf(both, dataset.true_pairs),
        leaks=lookalike_leaks(likely, dataset.lookalikes),
    )


def threshold_for_recall(scored: Iterable[Scored], truth: set[Pair], target: float) -> float | None:
    """The highest score threshold whose ``score >= t`` set reaches ``target`` recall.

    Returns None when even the lowest score in ``scored`` falls short.
    """
    best: dict[Pair, float] = {}
    for s in scored:
        if s.id_a != s.id_b:
            key = s.key
            best[key] = max(best.get(key, float("-inf")), s.score)
    if not truth:
        return None
    hits = sorted((score for key, score in best.items() if key in truth), reverse=True)
    needed = max(1, math.ceil(target * len(truth) - 1e-9))
    if len(hits) < needed:
        return None
    return hits[needed - 1]


def at_threshold(scored: Iterable[Scored], threshold: float) -> list[Scored]:
    """Re-band scored pairs: score >= threshold is "likely", everything else is dropped."""
    return [Scored(s.id_a, s.id_b, LIKELY, s.score) for s in scored if s.score >= threshold]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``. ``ru_maxrss`` would do, except that
    the kernel carries the parent's peak across fork+exec into the child's ``ru_maxrss``, so
    the child of a parent holding 200k patients would report the parent's size. Elsewhere it
    falls back to ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


PAIR_CLASSES = (
    "both birth dates",
    "birth date missing, same street",
    "birth date missing, another street",
    "names only",
)


def _street(row: dict) -> str:
    return " ".join(str(row.get("address_1") or "").lower().split())


def pair_class(row_a: dict, row_b: dict) -> str:
    """What a true pair's two records share, as one of :data:`PAIR_CLASSES`."""
    if row_a.get("date_of_birth") and row_b.get("date_of_birth"):
        return PAIR_CLASSES[0]
    street_a, street_b = _street(row_a), _street(row_b)
    if street_a and street_b:
        return PAIR_CLASSES[1] if street_a == street_b else PAIR_CLASSES[2]
    return PAIR_CLASSES[3]


def recall_by_class(
    scored: Iterable[Scored], truth: set[Pair], rows: dict[str, dict]
) -> dict[str, tuple[int, float, float]]:
    """Per pair class: (true pairs, likely recall, likely+possible recall)."""
    scored = list(scored)
    likely = pairs_in(scored, [LIKELY])
    both = pairs_in(scored, [LIKELY, POSSIBLE])
    groups: dict[str, list[Pair]] = {c: [] for c in PAIR_CLASSES}
    for p in truth:
        a, b = sorted(p)
        groups[pair_class(rows[a], rows[b])].append(p)
    out = {}
    for name, members in groups.items():
        n = len(members)
        if n:
            out[name] = (
                n,
                sum(p in likely for p in members) / n,
                sum(p in both for p in members) / n,
            )
    return out
