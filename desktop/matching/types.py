"""Public result types of the matching engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Band = Literal["likely", "possible", "unlikely"]


@dataclass(frozen=True)
class MatchSettings:
    """Tunable settings of a scan; the defaults suit a typical Australian clinic."""

    country: str = "AU"
    likely_threshold: float = 0.95
    possible_threshold: float = 0.30
    block_cap: int = 150  # blocks larger than this are compared by name-order neighbours only
    name_block_cap: int = 6  # the same for keys of names (or an address) alone
    block_window: int = 8
    name_block_window: int = 2  # neighbours compared in an oversized block of names alone
    random_pairs: int = 60_000  # random record pairs used to estimate u
    em_iterations: int = 25
    include_unlikely: bool = False
    today: str | None = None  # "YYYY-MM-DD" for age rules; None: the computer's date
    build_index: bool = False  # also return a stable blocking-key index (for incremental use)
    seed: int = 20240601
    # Look-alike rules this clinic's answers showed to hold back one person (see learning).
    relaxed_flags: tuple[str, ...] = ()
    # Id pairs the administrator said are one person: labelled matches for the model's EM.
    confirmed_pairs: tuple[tuple[str, str], ...] = ()


@dataclass
class Evidence:
    """One piece of evidence for (weight > 0) or against (weight < 0) a pair."""

    field: str
    value_a: str
    value_b: str
    level: str
    weight: float
    text: str


@dataclass
class ScoredPair:
    """A candidate pair with its score, band, look-alike flags and explanation."""

    id_a: str
    id_b: str
    probability: float
    weight: float
    band: Band
    flags: tuple[str, ...] = ()
    evidence: list[Evidence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    updated_a: str = ""
    updated_b: str = ""


@dataclass(frozen=True)
class Cluster:
    """Three or more records that the pairs join into one person."""

    ids: tuple[str, ...]
    weakest_link: tuple[str, str, float]


@dataclass
class ScanResult:
    """What a scan found: pairs (possible and likely), clusters, and what blocking skipped."""

    pairs: list[ScoredPair]
    clusters: list[Cluster]
    skipped_blocks: list[tuple[str, int, str]]  # per key kind: (kind, largest block, what)
    model: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)
    key_index: Any = None  # a matching.keyindex.KeyIndex when settings.build_index
