"""Duplicate detection: normalise, block, score, explain, cluster. Pure Python, no I/O.

Usage::

    engine = MatchEngine(MatchSettings(country="AU"))
    result = engine.scan(rows)  # rows shaped like desktop.store.patients rows
    for pair in result.pairs:  # likely and possible pairs, best first
        print(pair.id_a, pair.id_b, pair.band, pair.flags, pair.warnings)
    later = engine.rescore(rows, changed_ids, result.model)  # only pairs touching changed ids

Layers: ``text``/``normalise`` (one value at a time, cached), ``features`` (columns of integer
codes), ``blocking`` (candidate pairs), ``compare`` (agreement levels), ``model``
(Fellegi-Sunter m/u, EM, frequencies), ``lookalike`` (twins, parents, households...),
``explain`` (evidence in words), ``cluster``, ``keyindex`` (stable keys for incremental scans)
and ``engine``, which ties them together.
"""

from desktop.matching.engine import MatchEngine
from desktop.matching.types import Cluster, Evidence, MatchSettings, ScanResult, ScoredPair

__all__ = ["Cluster", "Evidence", "MatchEngine", "MatchSettings", "ScanResult", "ScoredPair"]
