"""Storing duplicate clusters: each compared row's facts and blocking keys, the links between
rows with their evidence, and each clustered row's cluster (tables in schema.py).

The decisions are plain code (clusters/); this module reads and writes them, the same way on
SQLite and PostgreSQL. A batch of compared rows is written in one transaction (their facts, keys
and links together), and the cluster table is brought to a new grouping by changing only the
rows that differ: a rerun, or a run killed half way and rerun, leaves the same clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list, utcnow
from dataset_catalog.catalog.schema import (
    dataset_apart,
    dataset_cluster_facts,
    dataset_cluster_keys,
    dataset_clusters,
    dataset_links,
    datasets,
)
from dataset_catalog.catalog.store import CatalogStore

WRITE_BATCH = 2_000


@dataclass(frozen=True)
class StoredLink:
    low_id: int
    high_id: int
    confidence: float
    evidence: list[dict[str, Any]]  # [{"kind", "detail", "strength"}], strongest first


@dataclass(frozen=True)
class ComparedRow:
    dataset_id: int
    read_at_update: datetime  # the row's datasets.updated_at when its facts were read
    facts: dict[str, Any]
    keys: list[str]


def _batches(values: Sequence, size: int = WRITE_BATCH) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def rows_to_compare(store: CatalogStore, everything: bool = False) -> list[int]:
    """Active rows whose facts are missing or older than the row (all active rows if `everything`)."""
    d, f = datasets.c, dataset_cluster_facts.c
    query = sa.select(d.id).where(d.is_active.is_(True))
    if not everything:
        query = query.outerjoin(dataset_cluster_facts, f.dataset_id == d.id).where(
            sa.or_(f.dataset_id.is_(None), f.read_at_update != d.updated_at)
        )
    with store.engine.connect() as conn:
        return sorted(int(i) for (i,) in conn.execute(query))


def read_rows(store: CatalogStore, ids: Sequence[int], columns: Sequence[str]) -> list[dict[str, Any]]:
    """`columns` (and updated_at) of the rows `ids`, for reading their facts."""
    cols = [datasets.c[name] for name in dict.fromkeys((*columns, "id", "updated_at"))]
    out = []
    with store.engine.connect() as conn:
        for batch in _batches(ids):
            out += [dict(r._mapping) for r in conn.execute(sa.select(*cols).where(in_list(conn, datasets.c.id, batch)))]
    return out


def forget_inactive(store: CatalogStore) -> int:
    """Drop the facts, keys, links and clusters of rows no longer active; returns how many rows."""
    inactive = sa.select(datasets.c.id).where(datasets.c.is_active.is_(False))
    with store.engine.begin() as conn:
        gone = [
            int(i)
            for (i,) in conn.execute(inactive.where(datasets.c.id.in_(sa.select(dataset_cluster_facts.c.dataset_id))))
        ]
        for batch in _batches(gone):
            _delete_rows(conn, batch)
            conn.execute(sa.delete(dataset_clusters).where(in_list(conn, dataset_clusters.c.dataset_id, batch)))
    return len(gone)


def _delete_rows(conn: sa.Connection, ids: list[int]) -> None:
    """Delete the facts, keys and links of `ids` (one batch)."""
    conn.execute(sa.delete(dataset_cluster_facts).where(in_list(conn, dataset_cluster_facts.c.dataset_id, ids)))
    conn.execute(sa.delete(dataset_cluster_keys).where(in_list(conn, dataset_cluster_keys.c.dataset_id, ids)))
    conn.execute(sa.delete(dataset_links).where(in_list(conn, dataset_links.c.low_id, ids)))
    conn.execute(sa.delete(dataset_links).where(in_list(conn, dataset_links.c.high_id, ids)))
    conn.execute(sa.delete(dataset_apart).where(in_list(conn, dataset_apart.c.low_id, ids)))
    conn.execute(sa.delete(dataset_apart).where(in_list(conn, dataset_apart.c.high_id, ids)))


def rows_by_key(store: CatalogStore, keys: Sequence[str], max_rows: int) -> dict[str, list[int]]:
    """The stored rows of each of `keys`, leaving out keys that more than `max_rows` rows share
    (a common word compares everything with everything and decides nothing)."""
    k = dataset_cluster_keys.c
    found: dict[str, list[int]] = {}
    with store.engine.connect() as conn:
        for batch in _batches(sorted(set(keys))):
            counts = sa.select(k.key).where(in_list(conn, k.key, batch)).group_by(k.key)
            usable = [key for (key,) in conn.execute(counts.having(sa.func.count() <= max_rows))]
            for usable_batch in _batches(usable):
                for key, dataset_id in conn.execute(
                    sa.select(k.key, k.dataset_id).where(in_list(conn, k.key, usable_batch))
                ):
                    found.setdefault(key, []).append(int(dataset_id))
    return found


def stored_facts(store: CatalogStore, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    f = dataset_cluster_facts.c
    out = {}
    with store.engine.connect() as conn:
        for batch in _batches(sorted(set(ids))):
            out.update(
                {
                    int(i): v
                    for i, v in conn.execute(sa.select(f.dataset_id, f.facts).where(in_list(conn, f.dataset_id, batch)))
                }
            )
    return out


def write_compared(
    store: CatalogStore,
    rows: Sequence[ComparedRow],
    links: Iterable[StoredLink],
    apart: Iterable[tuple[int, int]] = (),
) -> int:
    """Store one batch of compared rows: their facts and keys, and `links` and `apart` pairs (each
    touching one of them) in place of every pair they had; one transaction. Returns how many
    links were stored."""
    ids = [r.dataset_id for r in rows]
    chosen = {(min(x.low_id, x.high_id), max(x.low_id, x.high_id)): x for x in links}
    apart_rows = [{"low_id": a, "high_id": b} for a, b in sorted({(min(p), max(p)) for p in apart})]
    now = utcnow()
    with store.engine.begin() as conn:
        for batch in _batches(ids):
            _delete_rows(conn, batch)
        facts = [{"dataset_id": r.dataset_id, "read_at_update": r.read_at_update, "facts": r.facts} for r in rows]
        keys = [{"key": key, "dataset_id": r.dataset_id} for r in rows for key in dict.fromkeys(r.keys)]
        link_rows = [
            {"low_id": low, "high_id": high, "confidence": x.confidence, "evidence": x.evidence, "linked_at": now}
            for (low, high), x in sorted(chosen.items())
        ]
        tables = (dataset_cluster_facts, facts), (dataset_cluster_keys, keys), (dataset_links, link_rows)
        for table, values in (*tables, (dataset_apart, apart_rows)):
            for batch in _batches(values):
                conn.execute(sa.insert(table), batch)
    return len(chosen)


def stored_links(store: CatalogStore) -> list[tuple[int, int, float]]:
    """(low_id, high_id, confidence) of every stored link between two active rows."""
    link, d_low, d_high = dataset_links.c, datasets.alias("low"), datasets.alias("high")
    query = (
        sa.select(link.low_id, link.high_id, link.confidence)
        .join(d_low, d_low.c.id == link.low_id)
        .join(d_high, d_high.c.id == link.high_id)
        .where(d_low.c.is_active.is_(True), d_high.c.is_active.is_(True))
        .order_by(link.low_id, link.high_id)
    )
    with store.engine.connect() as conn:
        return [(int(a), int(b), float(c)) for a, b, c in conn.execute(query)]


def stored_apart(store: CatalogStore) -> set[tuple[int, int]]:
    """(low_id, high_id) of every pair stored as different data."""
    a = dataset_apart.c
    with store.engine.connect() as conn:
        return {(int(x), int(y)) for x, y in conn.execute(sa.select(a.low_id, a.high_id))}


def write_clusters(store: CatalogStore, cluster_of: Mapping[int, int]) -> int:
    """Store the grouping `cluster_of` (row id -> cluster id; rows alone are not stored); returns
    how many rows' stored cluster changed."""
    sizes = Counter(cluster_of.values())
    wanted = {r: c for r, c in cluster_of.items() if sizes[c] > 1}
    now = utcnow()
    c = dataset_clusters.c
    with store.engine.begin() as conn:
        stored = {int(r): int(k) for r, k in conn.execute(sa.select(c.dataset_id, c.cluster_id))}
        changed = [r for r in stored if wanted.get(r) != stored[r]]
        new = [
            {"dataset_id": r, "cluster_id": k, "updated_at": now}
            for r, k in sorted(wanted.items())
            if stored.get(r) != k
        ]
        for batch in _batches(changed):
            conn.execute(sa.delete(dataset_clusters).where(in_list(conn, c.dataset_id, batch)))
        for batch in _batches(new):
            conn.execute(sa.insert(dataset_clusters), batch)
    return len(set(changed) | {n["dataset_id"] for n in new})


def cluster_ids(store: CatalogStore, ids: Sequence[int]) -> dict[int, int]:
    """The cluster of each of `ids` that is in a cluster of several rows."""
    if not ids:
        return {}
    c = dataset_clusters.c
    with store.engine.connect() as conn:
        query = sa.select(c.dataset_id, c.cluster_id).where(in_list(conn, c.dataset_id, list(ids)))
        return {int(i): int(k) for i, k in conn.execute(query)}


def other_members(store: CatalogStore, ids: Sequence[int], columns: Sequence[str]) -> dict[int, list[dict[str, Any]]]:
    """For each of `ids` in a cluster of several rows, the other active members' `columns`, by id."""
    own = cluster_ids(store, ids)
    if not own:
        return {}
    c, d = dataset_clusters.c, datasets.c
    cols = [d[name] for name in dict.fromkeys(("id", *columns))]
    members: dict[int, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        query = (
            sa.select(c.cluster_id, *cols)
            .join(datasets, d.id == c.dataset_id)
            .where(in_list(conn, c.cluster_id, sorted(set(own.values()))), d.is_active.is_(True))
            .order_by(d.id)
        )
        for row in conn.execute(query):
            values = dict(row._mapping)
            members.setdefault(int(values.pop("cluster_id")), []).append(values)
    return {i: [m for m in members.get(own[i], []) if m["id"] != i] for i in ids if i in own}


def links_of(store: CatalogStore, dataset_id: int) -> dict[int, dict[str, Any]]:
    """The stored links of one row, by the other row's id: {"confidence", "evidence"}."""
    link = dataset_links.c
    query = sa.select(link.low_id, link.high_id, link.confidence, link.evidence).where(
        sa.or_(link.low_id == dataset_id, link.high_id == dataset_id)
    )
    with store.engine.connect() as conn:
        return {
            int(high if low == dataset_id else low): {"confidence": float(conf), "evidence": evidence}
            for low, high, conf, evidence in conn.execute(query)
        }


def multi_member_pairs(store: CatalogStore) -> dict[tuple[str, str], int]:
    """Rows in clusters of several rows, by the pair of sources found together in those clusters:
    (source, other source) -> rows of `source` clustered with a row of `other source`."""
    c, d = dataset_clusters.c, datasets.c
    query = sa.select(c.cluster_id, d.id, d.source).join(datasets, d.id == c.dataset_id).where(d.is_active.is_(True))
    sources: dict[int, list[tuple[int, str]]] = {}
    with store.engine.connect() as conn:
        for cluster, dataset_id, source in conn.execute(query):
            sources.setdefault(int(cluster), []).append((int(dataset_id), source))
    counts: Counter[tuple[str, str]] = Counter()
    for members in sources.values():
        if len(members) < 2:
            continue
        for dataset_id, source in members:
            for other in sorted({s for i, s in members if i != dataset_id}):
                counts[(source, other)] += 1
    return dict(sorted(counts.items()))
