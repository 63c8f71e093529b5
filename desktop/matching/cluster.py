"""Clusters: records that pairs join into one person, with the weakest link that holds them."""

from __future__ import annotations

from collections.abc import Iterable

from desktop.matching.types import Cluster


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        """The root of ``x``'s set (with path halving)."""
        parent = self.parent.setdefault(x, x)
        while parent != x:
            grand = self.parent.setdefault(parent, parent)
            self.parent[x] = grand
            x, parent = parent, grand
        return x

    def union(self, a: str, b: str) -> bool:
        """Join two sets; False when they already were one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _groups(edges: list[tuple[str, str, float]]) -> dict[str, list[str]]:
    """Each record -> the list of its connected group (one shared list object per group)."""
    group: dict[str, list[str]] = {}
    get = group.get
    for a, b, _p in edges:
        ga, gb = get(a), get(b)
        if ga is None:
            if gb is None:
                group[a] = group[b] = [a] if a == b else [a, b]
            else:
                gb.append(a)
                group[a] = gb
        elif gb is None:
            ga.append(b)
            group[b] = ga
        elif ga is not gb:
            small, large = (ga, gb) if len(ga) < len(gb) else (gb, ga)
            large.extend(small)
            for node in small:
                group[node] = large
    return group


def build_clusters(edges: Iterable[tuple[str, str, float]], min_size: int = 3) -> list[Cluster]:
    """Groups of ``min_size`` or more records joined by edges ``(id_a, id_b, probability)``.

    The weakest link is the lowest-probability edge of the group's maximum spanning tree: the
    one pair whose rejection would split the group.
    """
    edges = list(edges)
    # Most records pair with one other at most: only the edges of big enough groups need the
    # ordering and the spanning tree (each group's tree depends on its own edges alone).
    group = _groups(edges)
    big = [e for e in edges if len(group[e[0]]) >= min_size]
    uf = _UnionFind()
    tree: list[tuple[str, str, float]] = []
    for a, b, p in sorted(big, key=lambda e: (-e[2], e[0], e[1])):
        if uf.union(a, b):
            tree.append((a, b, p))
    members: dict[str, list[str]] = {}
    for node in list(uf.parent):
        members.setdefault(uf.find(node), []).append(node)
    weakest: dict[str, tuple[str, str, float]] = {}
    for a, b, p in tree:
        root = uf.find(a)
        if root not in weakest or p < weakest[root][2]:
            weakest[root] = (a, b, p)
    out = [
        Cluster(tuple(sorted(ids)), weakest[root])
        for root, ids in members.items()
        if len(ids) >= min_size
    ]
    out.sort(key=lambda c: (-len(c.ids), c.ids))
    return out
