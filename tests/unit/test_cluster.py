"""Clusters: the fast build orders only the edges of groups big enough to be clusters; it must
give exactly what ordering every edge gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.matching.cluster import build_clusters
from desktop.matching.types import Cluster


def reference_clusters(edges: list[tuple[str, str, float]], min_size: int = 3) -> list[Cluster]:
    """Kruskal over every edge, strongest first (the plain algorithm the fast one replaces)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    tree = []
    for a, b, p in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            tree.append((a, b, p))
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    weakest: dict[str, tuple[str, str, float]] = {}
    for a, b, p in tree:
        root = find(a)
        if root not in weakest or p < weakest[root][2]:
            weakest[root] = (a, b, p)
    out = [
        Cluster(tuple(sorted(ids)), weakest[root])
        for root, ids in members.items()
        if len(ids) >= min_size
    ]
    out.sort(key=lambda c: (-len(c.ids), c.ids))
    return out


node = st.integers(0, 40).map(lambda n: f"p{n:02d}")
probability = st.sampled_from([0.3, 0.5, 0.5, 0.9, 0.95, 0.99, 1.0])
edges = st.lists(st.tuples(node, node, probability), max_size=80)


@settings(max_examples=300, deadline=None)
@given(edges, st.integers(2, 5))
def test_fast_clusters_equal_the_plain_algorithm(found: list, min_size: int) -> None:
    pairs = [(min(a, b), max(a, b), p) for a, b, p in found]
    assert build_clusters(pairs, min_size) == reference_clusters(pairs, min_size)


def test_weakest_link_is_the_first_lowest_tree_edge() -> None:
    chain = [("a", "b", 0.9), ("b", "c", 0.5), ("c", "d", 0.5), ("a", "c", 0.4), ("x", "y", 1.0)]
    (cluster,) = build_clusters(chain)
    assert cluster.ids == ("a", "b", "c", "d")
    assert cluster.weakest_link == ("b", "c", 0.5)
