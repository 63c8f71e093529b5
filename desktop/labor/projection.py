"""The projection of the queue still to do, and how it was made (no Qt).

Expected merges = for every group of records the queue links (a pair, or a cluster of 3 or
more), records - 1 merges, each weighted by the measured precision of its band in this clinic:
the share of reviewed pairs in that band that were the same person, blended with a prior until
there are enough reviews (``(same + prior x PRIOR_WEIGHT) / (reviewed + PRIOR_WEIGHT)``). A
merge already planned or ready counts as certain. The rest of each weight is a review that
will end "not the same person". Minutes = expected merges x median minutes per merge +
expected "not the same" reviews x median minutes per review (all recorded work). The low-high
range takes the band precisions' 80% range and the lower / upper quartiles of those minutes
(with fewer than five recorded: from the least recorded to the most, or the baseline if more).
Pairs put off "for later" and pairs found "not the same" are left out.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.merge_states import PairStatus

PRIORS = {"likely": 0.95, "possible": 0.60}  # the matcher's benchmark: a third of "possible"
PRIOR_WEIGHT = 20  # the prior counts as this many reviews
RANGE_Z = 1.2816  # 80% range (normal approximation)
ASSUMED_REVIEW_MINUTES = 3.0  # until a "not the same" review is recorded
MIN_SAMPLE = 5  # recorded times before their quartiles alone make the range


@dataclass(frozen=True)
class BandPrecision:
    """How often a pair in one band turned out to be the same person in this clinic."""

    band: str
    same: int
    not_same: int
    prior: float = 0.5
    prior_weight: int = PRIOR_WEIGHT

    @property
    def reviewed(self) -> int:
        """Pairs of this band decided either way."""
        return self.same + self.not_same

    @property
    def estimate(self) -> float:
        """The blended precision (the prior alone when nothing was reviewed)."""
        return (self.same + self.prior * self.prior_weight) / (self.reviewed + self.prior_weight)

    @property
    def spread(self) -> float:
        """Half the 80% range."""
        e = self.estimate
        return RANGE_Z * math.sqrt(e * (1 - e) / (self.reviewed + self.prior_weight))

    @property
    def low(self) -> float:
        """The low end of the 80% range."""
        return max(0.0, self.estimate - self.spread)

    @property
    def high(self) -> float:
        """The high end of the 80% range."""
        return min(1.0, self.estimate + self.spread)

    def describe(self) -> str:
        """One line for the report: the count, the prior and the result."""
        return (
            f'"{self.band}": {self.same:,} of {self.reviewed:,} reviewed pairs were the same '
            f"person; prior {self.prior:.0%} counted as {self.prior_weight} reviews; precision "
            f"{self.estimate:.1%} (80% range {self.low:.1%} to {self.high:.1%})"
        )


@dataclass(frozen=True)
class Minutes:
    """Minutes per piece of work: median and quartiles, and where they came from."""

    median: float
    low: float
    high: float
    source: str

    @classmethod
    def of(cls, values: Sequence[float], fallback: float, fallback_source: str) -> Minutes:
        """From recorded values (median, quartiles), else the fallback. Until
        :data:`MIN_SAMPLE` are recorded the range runs from the least recorded to the most
        recorded or the fallback, whichever is more: quartiles of one or two merges gave a
        range of a few percent."""
        if not values:
            return cls(fallback, fallback, fallback, fallback_source)
        median = float(statistics.median(values))
        if len(values) < MIN_SAMPLE:
            return cls(
                median, float(min(values)), float(max(*values, fallback)),
                f"median of {len(values)} recorded; the range reaches {fallback:g} min until "
                f"{MIN_SAMPLE} are recorded",
            )  # fmt: skip
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(median, float(q1), float(q3), f"median of {len(values):,} recorded")


@dataclass(frozen=True)
class Projection:
    """The queue still to do, priced; see the module docstring."""

    groups: int
    records: int
    merges_needed: dict[str, int]  # band -> records - 1 over the groups (undecided)
    decided: int  # merges already planned or ready
    later: int
    precision: dict[str, BandPrecision]
    merge: Minutes
    review: Minutes

    def _expected(self, pick: str) -> tuple[float, float]:
        merges = float(self.decided)
        reviews = 0.0
        for band, n in self.merges_needed.items():
            p = getattr(self.precision[band], pick)
            merges += n * p
            reviews += n * (1 - p)
        return merges, reviews

    @property
    def expected_merges(self) -> float:
        """Merges expected (certain ones plus the weighted rest)."""
        return self._expected("estimate")[0]

    @property
    def expected_reviews(self) -> float:
        """Reviews expected to end "not the same person"."""
        return self._expected("estimate")[1]

    def minutes(self, which: str = "median") -> float:
        """Projected minutes: ``median`` (central), ``low`` or ``high``."""
        if which == "median":
            merges, reviews = self._expected("estimate")
            return merges * self.merge.median + reviews * self.review.median
        corners: list[float] = []
        for pick in ("low", "high"):
            merges, reviews = self._expected(pick)
            m, r = float(getattr(self.merge, which)), float(getattr(self.review, which))
            corners.append(merges * m + reviews * r)
        return min(corners) if which == "low" else max(corners)


def spanning_merges(
    pairs: Sequence[tuple[str, str, str, str]],
) -> tuple[int, int, dict[str, int], int]:
    """(groups, records, band -> undecided merges, decided merges) of open pairs.

    ``pairs`` are (id_a, id_b, band, status). A group of n linked records needs n - 1 merges;
    the strongest links are taken first (planned or ready, then likely, then possible).
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order = {"likely": 0, "possible": 1}
    ranked = sorted(pairs, key=lambda p: (p[3] == PairStatus.NEW, order.get(p[2], 2), p[0], p[1]))
    needed: dict[str, int] = {}
    decided = 0
    for a, b, band, status in ranked:
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        parent[ra] = rb
        if status == PairStatus.NEW:
            needed[band] = needed.get(band, 0) + 1
        else:
            decided += 1
    groups = len({root(x) for x in parent})
    return groups, len(parent), needed, decided


def build_projection(
    pairs: Sequence[tuple[str, str, str, str]],
    reviewed: dict[str, tuple[int, int]],
    later: int,
    merge_minutes: Sequence[float],
    review_minutes: Sequence[float],
    manual_minutes_per_merge: float,
) -> Projection:
    """The projection from the queue's open pairs, the reviewed counts and recorded minutes."""
    groups, records, needed, decided = spanning_merges(pairs)
    precision = {
        band: BandPrecision(band, *reviewed.get(band, (0, 0)), prior=prior)
        for band, prior in PRIORS.items()
    }
    for band in needed:
        precision.setdefault(band, BandPrecision(band, *reviewed.get(band, (0, 0))))
    merge = Minutes.of(
        merge_minutes, manual_minutes_per_merge, "the manual baseline (no merge recorded yet)"
    )
    review = Minutes.of(review_minutes, ASSUMED_REVIEW_MINUTES, "assumed (no review recorded yet)")
    return Projection(groups, records, needed, decided, later, precision, merge, review)
