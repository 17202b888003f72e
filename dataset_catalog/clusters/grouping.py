"""Linked rows grouped into clusters, without chaining into blobs.

Links are taken strongest first; two clusters merge only while the merged one stays within
MAX_CLUSTER_SIZE rows, a cluster of several rows takes a further row only through a link as
strong as MERGE_CONFIDENCE (one weak link never joins two groups), and never when the merged
cluster would hold a pair found to be different data (`apart`: "wine quality red" and "white" both
linked to a "wine quality" upload stay in two clusters). A cluster is named by its
smallest row id, so the same links always give the same clusters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_CLUSTER_SIZE = 25  # a dataset has a handful of homes; more means a chain went wrong
MERGE_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Link:
    a: int
    b: int
    confidence: float


@dataclass
class Grouping:
    cluster_of: dict[int, int]  # row id -> cluster id (the cluster's smallest row id)
    refused: list[Link]  # links not followed: past the bounds, or joining rows kept apart


def group(rows: Iterable[int], links: Iterable[Link], apart: Iterable[tuple[int, int]] = ()) -> Grouping:
    """Every row of `rows` in a cluster (most alone), built from `links` strongest first, never
    joining a pair of `apart`."""
    parent: dict[int, int] = {r: r for r in rows}
    size: dict[int, int] = dict.fromkeys(parent, 1)
    members: dict[int, list[int]] = {r: [r] for r in parent}
    not_with: dict[int, set[int]] = {}
    for a, b in apart:
        not_with.setdefault(a, set()).add(b)
        not_with.setdefault(b, set()).add(a)

    def root(r: int) -> int:
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    refused = []
    for link in sorted(links, key=lambda x: (-x.confidence, min(x.a, x.b), max(x.a, x.b))):
        if link.a not in parent or link.b not in parent:
            continue
        ra, rb = root(link.a), root(link.b)
        if ra == rb:
            continue
        grows_group = size[ra] > 1 and size[rb] > 1
        kept_apart = any(not_with.get(x, set()).intersection(members[rb]) for x in members[ra])
        if kept_apart or size[ra] + size[rb] > MAX_CLUSTER_SIZE or (grows_group and link.confidence < MERGE_CONFIDENCE):
            refused.append(link)
            continue
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        parent[gone] = keep
        size[keep] += size.pop(gone)
        members[keep] += members.pop(gone)
    return Grouping({r: root(r) for r in parent}, refused)
