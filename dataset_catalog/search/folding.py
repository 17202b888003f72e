"""One hit per dataset however many sites host it: a result list folded by duplicate cluster
(the `dataset_clusters` asset), and the other homes of the datasets shown.

A cluster holds its best-ranked member's place in the list and is shown by its best-documented,
most-used member among those the ranking found (the most standard fields filled, then downloads
and likes, then rank); its other members become the hit's "also on".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.clusters import cluster_ids, links_of, other_members
from dataset_catalog.common.sources import source_name
from dataset_catalog.search.ranking import popularity

T = TypeVar("T")
HOME_COLUMNS = ("source", "external_id", "url", "title")


# Standard fields whose presence makes a copy the better one to show (what a finder filters on).
DOCUMENTED_FIELDS = ("license", "task_categories", "languages", "file_formats", "size_category")


def standing(row: Mapping[str, Any]) -> tuple[int, float]:
    """How well documented and how used a copy is: fields filled, then popularity."""
    documented = sum(1 for f in DOCUMENTED_FIELDS if row.get(f) not in (None, "", [], "unknown"))
    return documented, popularity(row.get("download_count"), row.get("like_count"))


def fold(
    store: CatalogStore, ranked: Sequence[T], id_of: Callable[[T], int], row_of: Callable[[T], Mapping] | None = None
) -> list[T]:
    """`ranked` with one item per cluster, in its best-ranked member's place: the member with the
    best `standing` of its row when `row_of` is given, else the best-ranked one."""
    clusters = cluster_ids(store, [id_of(item) for item in ranked])
    if not clusters:
        return list(ranked)
    shown: dict[int, T] = {}
    if row_of is not None:
        for item in ranked:
            cluster = clusters.get(id_of(item))
            if cluster is None:
                continue
            best = shown.get(cluster)
            if best is None or standing(row_of(item)) > standing(row_of(best)):
                shown[cluster] = item  # ties keep the earlier (better-ranked) copy
    seen: set[int] = set()
    kept = []
    for item in ranked:
        cluster = clusters.get(id_of(item))
        if cluster is not None:
            if cluster in seen:
                continue
            seen.add(cluster)
            item = shown.get(cluster, item)
        kept.append(item)
    return kept


def other_homes(store: CatalogStore, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """For each of `ids` with copies elsewhere: those copies (source, its name, external id, url,
    title), other sources first, in source order."""
    homes = {}
    for dataset_id, members in other_members(store, ids, HOME_COLUMNS).items():
        homes[dataset_id] = [
            {
                "source": m["source"],
                "source_name": source_name(m["source"]),
                "external_id": m["external_id"],
                "url": m["url"],
                "title": m["title"] or m["external_id"],
                "id": m["id"],
            }
            for m in sorted(members, key=lambda m: (m["source"], m["external_id"]))
        ]
    return homes


def also_on_text(homes: list[dict[str, Any]]) -> str:
    """ "Kaggle (2), OpenML": the sources of a dataset's other homes, with counts above one."""
    counts: dict[str, int] = {}
    for home in homes:
        counts[home["source_name"]] = counts.get(home["source_name"], 0) + 1
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in counts.items())


def duplicates_of(store: CatalogStore, dataset_id: int) -> list[dict[str, Any]]:
    """The other homes of one dataset, each with the evidence of its link: the link to this row
    when there is one, else its strongest link into the cluster (`through` names that member)."""
    homes = other_homes(store, [dataset_id]).get(dataset_id, [])
    if not homes:
        return []
    members = {dataset_id, *(h["id"] for h in homes)}
    by_id = {h["id"]: h for h in homes}
    direct = links_of(store, dataset_id)
    out = []
    for home in homes:
        link, through = direct.get(home["id"]), None
        if link is None:
            inside = {i: x for i, x in links_of(store, home["id"]).items() if i in members}
            if inside:
                through, link = max(inside.items(), key=lambda x: (x[1]["confidence"], -x[0]))
        entry = {k: v for k, v in home.items() if k != "id"}
        entry["confidence"] = link["confidence"] if link else None
        entry["evidence"] = link["evidence"] if link else []
        if through is not None:
            entry["through"] = {k: by_id[through][k] for k in ("source", "external_id")} if through in by_id else None
        out.append(entry)
    return out
