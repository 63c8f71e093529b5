"""Duplicate detection: normalise, block, score, explain, cluster. Pure Python, no I/O."""

from desktop.matching.engine import MatchEngine
from desktop.matching.types import Cluster, Evidence, MatchSettings, ScanResult, ScoredPair

__all__ = ["Cluster", "Evidence", "MatchEngine", "MatchSettings", "ScanResult", "ScoredPair"]
