"""A clustering run: compare the rows that changed since their facts were read with their
candidates, store the links, and regroup.

Candidates of a row are the rows sharing a blocking key with it (clusters/facts.py) and its
nearest neighbours by embedding; a pair's text similarity is read from the stored vectors. Rows
are compared in batches, each written in one transaction with its links (catalog/clusters.py), so
a killed run keeps the batches it finished and the rerun compares the rest; grouping reads every
stored link, so it gives the same clusters however the comparisons were split.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dataset_catalog.catalog import clusters as stored
from dataset_catalog.catalog.neighbours import nearest_neighbours, pair_similarities
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.clusters.facts import FACT_COLUMNS, blocking_keys, facts_from_json, facts_to_json, row_facts
from dataset_catalog.clusters.grouping import MAX_CLUSTER_SIZE, Link, group
from dataset_catalog.clusters.links import RowFacts, decide

log = logging.getLogger(__name__)

BATCH_ROWS = 2_000
NEIGHBOURS = 10  # nearest rows by embedding compared with each changed row
MAX_ROWS_PER_KEY = 200  # a key shared by more rows is too common to block on
MAX_CANDIDATES = 400  # per changed row, rarest keys first


@dataclass
class ClusterReport:
    compared: int = 0  # rows whose facts were read and compared this run
    pairs_decided: int = 0
    links: int = 0  # stored links between active rows after the run
    clustered_rows: int = 0  # rows in clusters of several rows
    clusters: int = 0  # clusters of several rows
    largest: list[tuple[int, int]] = field(default_factory=list)  # (cluster id, size), largest first
    refused_links: int = 0  # links not followed: they would have grown a cluster past its bounds
    forgotten: int = 0  # inactive rows whose facts and links were dropped
    seconds: float = 0.0

    def to_metadata(self) -> dict[str, Any]:
        return {
            "compared_rows": self.compared,
            "pairs_decided": self.pairs_decided,
            "links": self.links,
            "clustered_rows": self.clustered_rows,
            "clusters": self.clusters,
            "largest_clusters": [{"cluster_id": c, "size": s} for c, s in self.largest],
            "refused_links": self.refused_links,
            "forgotten_rows": self.forgotten,
            "seconds": round(self.seconds, 1),
        }


def update_clusters(
    store: CatalogStore,
    model: str,
    *,
    rebuild: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[str], None] = log.info,
) -> ClusterReport:
    """Bring links and clusters up to date with the catalog; `rebuild` compares every row again."""
    started = time.perf_counter()
    report = ClusterReport(forgotten=stored.forget_inactive(store))
    changed = stored.rows_to_compare(store, everything=rebuild)
    progress(f"Comparing {len(changed):,} rows ({'full rebuild' if rebuild else 'new or changed'}).")
    for start in range(0, len(changed), batch_rows):
        batch = changed[start : start + batch_rows]
        report.pairs_decided += _compare_batch(store, model, batch)
        report.compared += len(batch)
        progress(f"Compared {report.compared:,} of {len(changed):,} rows.")
    links = stored.stored_links(store)
    grouping = group(
        {i for a, b, _ in links for i in (a, b)}, [Link(a, b, c) for a, b, c in links], stored.stored_apart(store)
    )
    stored.write_clusters(store, grouping.cluster_of)
    sizes: dict[int, int] = {}
    for cluster in grouping.cluster_of.values():
        sizes[cluster] = sizes.get(cluster, 0) + 1
    multi = {c: s for c, s in sizes.items() if s > 1}
    report.links, report.refused_links = len(links), len(grouping.refused)
    report.clusters, report.clustered_rows = len(multi), sum(multi.values())
    report.largest = sorted(multi.items(), key=lambda x: (-x[1], x[0]))[:5]
    report.seconds = time.perf_counter() - started
    if report.largest and report.largest[0][1] >= MAX_CLUSTER_SIZE:
        progress(f"Cluster {report.largest[0][0]} reached the bound of {MAX_CLUSTER_SIZE} rows: check its links.")
    return report


def _compare_batch(store: CatalogStore, model: str, batch: list[int]) -> int:
    rows = stored.read_rows(store, batch, FACT_COLUMNS)
    facts = {int(r["id"]): row_facts(r) for r in rows}
    keys = {i: blocking_keys(f) for i, f in facts.items()}
    candidates = _key_candidates(store, keys)
    for dataset_id, near in nearest_neighbours(store, model, list(facts), NEIGHBOURS).items():
        candidates.setdefault(dataset_id, set()).update(i for i, _ in near)
    pairs = {(min(a, b), max(a, b)) for a, others in candidates.items() for b in others if a != b}
    others = {i for pair in pairs for i in pair if i not in facts}
    known: dict[int, RowFacts] = dict(facts)
    known.update({i: facts_from_json(i, v) for i, v in stored.stored_facts(store, sorted(others)).items()})
    pairs = {p for p in pairs if p[0] in known and p[1] in known}  # a candidate not compared yet meets us later
    similarity = pair_similarities(store, model, pairs)
    links, apart = [], []
    for a, b in sorted(pairs):
        decision = decide(known[a], known[b], similarity.get((a, b)))
        if decision.apart:
            apart.append((a, b))
        if decision.linked:
            evidence = [{"kind": e.kind, "detail": e.detail, "strength": e.strength} for e in decision.evidence]
            links.append(stored.StoredLink(a, b, decision.confidence, evidence))
    compared = [
        stored.ComparedRow(int(r["id"]), r["updated_at"], facts_to_json(facts[int(r["id"])]), keys[int(r["id"])])
        for r in rows
    ]
    stored.write_compared(store, compared, links, apart)
    return len(pairs)


def _key_candidates(store: CatalogStore, keys: dict[int, list[str]]) -> dict[int, set[int]]:
    """Rows sharing a usable key with each batch row: stored rows, and the batch's own rows."""
    by_key = stored.rows_by_key(store, [k for ks in keys.values() for k in ks], MAX_ROWS_PER_KEY)
    batch_by_key: dict[str, set[int]] = {}
    for dataset_id, row_keys in keys.items():
        for key in row_keys:
            batch_by_key.setdefault(key, set()).add(dataset_id)
    candidates = {}
    for dataset_id, row_keys in keys.items():
        found: set[int] = set()
        usable = [k for k in row_keys if len(batch_by_key[k]) + len(by_key.get(k, ())) <= MAX_ROWS_PER_KEY]
        for key in sorted(usable, key=lambda k: len(by_key.get(k, ())) + len(batch_by_key[k])):
            found |= set(by_key.get(key, ())) | batch_by_key[key]
            if len(found) >= MAX_CANDIDATES:
                break
        found.discard(dataset_id)
        candidates[dataset_id] = found
    return candidates
