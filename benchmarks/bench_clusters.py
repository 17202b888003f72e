"""Benchmark: precision and recall of duplicate links on the labelled set.

Run: `python benchmarks/bench_clusters.py [--postgres-url URL]`
 or: `python benchmarks/bench_clusters.py --scale-catalog benchmarks/out/service-catalog-100000.sqlite3
      [--planted 1000] [--changed-share 0.01] [--keep PATH]` (timing at scale, on a copy)

The set (dataset_catalog_tests/fakes/duplicates_labelled_set.json: real datasets and their
copies across the four sources, with hard near-misses) is served by the fakes and ingested by
the real source assets; then `dataset_embeddings` and `dataset_clusters` run as Dagster
materializations. A labelled pair is predicted "same" when both rows end in one cluster.
Target (issue 23): pairwise precision >= 0.97 at recall >= 0.80. Prints the figures, the
misses and the false links with their evidence.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def scale(args) -> None:
    """A synthetic catalog (bench_search_service.py's `catalog_file` builds it) copied, then timed
    as it would run: a full rebuild of its clusters, then a day's changes as the daily run sees
    them: `planted` rows copied to another source (same title plus " (CSV)", the copy and its
    original naming one origin, equal row counts) and `changed_share` of the other rows with new
    download and like counts (what a daily sync of the Hub mostly changes; texts stay), embedded
    with the vector index rebuilt as `dataset_embeddings` does, then an incremental run and a run
    with nothing changed. Prints the figures as JSON; `--keep` keeps the clustered copy."""
    import os
    import random
    import resource
    import shutil

    import sqlalchemy as sa

    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.catalog.engine import in_list
    from dataset_catalog.catalog.schema import SYNCED_COLUMNS, dataset_apart, dataset_clusters, datasets
    from dataset_catalog.catalog.vector_matrix import prepare_vectors
    from dataset_catalog.clusters.build import update_clusters
    from dataset_catalog.embeddings.encoder import DEFAULT_MODEL as MODEL
    from dataset_catalog.embeddings.encoder import load_encoder
    from dataset_catalog.embeddings.sync import embed_datasets

    written = SYNCED_COLUMNS - {"sync_hash"}  # a given sync_hash is taken as the row's: the stored one says unchanged

    def peak_mib() -> int:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    def timed(work):
        started = time.perf_counter()
        result = work()
        return round(time.perf_counter() - started, 1), result

    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def rows_of(store, ids) -> list[dict]:
        """Whole rows of `ids` only (never the whole catalog: 500k rows do not fit a list of dicts)."""
        out, ids = [], sorted(ids)
        with store.engine.connect() as conn:
            for start in range(0, len(ids), 2000):
                query = sa.select(datasets).where(in_list(conn, datasets.c.id, ids[start : start + 2000]))
                out += [dict(r._mapping) for r in conn.execute(query)]
        return out

    def clustered(store) -> dict[int, int]:
        with store.engine.connect() as conn:
            return {
                int(i): int(c)
                for i, c in conn.execute(sa.select(dataset_clusters.c.dataset_id, dataset_clusters.c.cluster_id))
            }

    source = Path(args.scale_catalog)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / source.name
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                shutil.copy(f"{source}{suffix}", f"{path}{suffix}")
        if Path(f"{source}.vectors").is_dir():  # the vector index beside the catalog
            shutil.rmtree(f"{path}.vectors", ignore_errors=True)
            shutil.copytree(f"{source}.vectors", f"{path}.vectors")
        rng = random.Random(23)
        homes = {
            "huggingface": "https://huggingface.co/datasets/mirror/{}",
            "kaggle": "https://www.kaggle.com/datasets/mirror/{}",
            "openml": "https://www.openml.org/d/{}",
            "zenodo": "https://zenodo.org/records/{}",
        }
        figures: dict = {}
        progress = (lambda m: say(m)) if args.verbose else (lambda _m: None)
        with CatalogStore(f"sqlite:///{path}") as store:
            figures["rows_before"] = store.count_datasets()
            say(f"{figures['rows_before']} rows; loading the vectors and their index")
            figures["vector_index_seconds"], prepared = timed(lambda: prepare_vectors(store, MODEL))
            figures["vector_index"] = prepared["index"]
            say(f"vectors: {prepared}; full rebuild")
            figures["full_rebuild_seconds"], full = timed(
                lambda: update_clusters(store, MODEL, rebuild=True, progress=progress)
            )
            figures["full_rebuild_compared"] = full.compared
            figures["full_rebuild_pairs_decided"] = full.pairs_decided
            figures["full_rebuild_links"] = full.links
            figures["full_rebuild_clusters"] = full.clusters
            figures["full_rebuild_clustered_rows"] = full.clustered_rows
            figures["peak_rss_mib_after_full_rebuild"] = peak_mib()
            say(f"full rebuild: {full.to_metadata()}; planting {args.planted} copies")

            # The day's changes: planted copies arrive (their originals now name the origin too),
            # and `changed_share` of the other rows get new counts (compared again like any change).
            with store.engine.connect() as conn:
                ids = [int(i) for (i,) in conn.execute(sa.select(datasets.c.id).order_by(datasets.c.id))]
            chosen = rng.sample(ids, args.planted)
            chosen_set = set(chosen)
            edited = rng.sample([i for i in ids if i not in chosen_set], int(len(ids) * args.changed_share))
            originals = {r["id"]: r for r in rows_of(store, chosen)}
            planted, updated = [], []
            for n, dataset_id in enumerate(chosen):
                row = originals[dataset_id]
                synced = {k: v for k, v in row.items() if k in written}
                origin = f"https://data.example.org/{row['external_id']}/"
                row_count = rng.randrange(1_000, 1_000_000)
                updated.append(
                    {**synced, "description": f"{row['description']} Source: {origin}", "row_count": row_count}
                )
                other = rng.choice([s for s in homes if s != row["source"]])
                copy_id = (
                    str(900_000_000 + n)
                    if other in ("openml", "zenodo")
                    else f"mirror-{row['external_id'].replace('/', '-')}"
                )
                planted.append(
                    {
                        **synced,
                        "source": other,
                        "external_id": copy_id,
                        "url": homes[other].format(copy_id.removeprefix("mirror-")),
                        "title": f"{row['title']} (CSV)",
                        "description": f"A CSV copy. {row['description']} Original data: {origin}",
                        "row_count": row_count,
                    }
                )
            changed = [
                {
                    **{k: v for k, v in r.items() if k in written},
                    "download_count": (r["download_count"] or 0) + 1,
                    "like_count": (r["like_count"] or 0) + 1,
                }
                for r in rows_of(store, edited)
            ]
            store.upsert_datasets(updated + planted + changed)
            figures["rows"] = store.count_datasets()
            figures["planted_pairs"] = len(planted)
            figures["edited_rows"] = len(changed)
            encoder = load_encoder()
            say("embedding the new and changed rows")
            figures["embed_seconds"], embedded = timed(lambda: embed_datasets(store, encoder))
            figures["embedded_rows"] = embedded.embedded
            figures["vector_index_rebuild_seconds"], prepared = timed(lambda: prepare_vectors(store, MODEL))
            say(f"embedded {embedded.embedded} rows; vectors: {prepared}; incremental run")
            figures["incremental_seconds"], incremental = timed(
                lambda: update_clusters(store, MODEL, progress=progress)
            )
            figures["incremental_compared"] = incremental.compared
            figures["incremental_pairs_decided"] = incremental.pairs_decided
            figures["incremental_links"] = incremental.links
            figures["incremental_clusters"] = incremental.clusters
            figures["incremental_clustered_rows"] = incremental.clustered_rows
            figures["largest_clusters"] = incremental.largest

            with store.engine.connect() as conn:
                planted_ids = {
                    (s, e): int(i)
                    for i, s, e in conn.execute(
                        sa.select(datasets.c.id, datasets.c.source, datasets.c.external_id).where(
                            in_list(conn, datasets.c.external_id, [p["external_id"] for p in planted])
                        )
                    )
                }
                figures["pairs_kept_apart"] = conn.execute(
                    sa.select(sa.func.count()).select_from(dataset_apart)
                ).scalar_one()
            pairs = [(o, planted_ids[(p["source"], p["external_id"])]) for o, p in zip(chosen, planted, strict=True)]
            cluster = clustered(store)
            figures["planted_pairs_clustered"] = sum(
                1 for a, b in pairs if a in cluster and cluster[a] == cluster.get(b)
            )
            planted_members = {i for pair in pairs for i in pair}
            stray = {i: c for i, c in cluster.items() if i not in planted_members}
            figures["unplanted_rows_clustered"] = len(stray)
            figures["clusters_with_unplanted_rows"] = len(set(stray.values()))
            examples = sorted(set(stray.values()))[:5]
            members = {c: [i for i, k in cluster.items() if k == c] for c in examples}
            titles = {
                r["id"]: f"{r['source']}: {r['title']}"
                for r in rows_of(store, [i for m in members.values() for i in m])
            }
            figures["unplanted_cluster_examples"] = [[titles[i] for i in sorted(m)] for m in members.values()]
            say("no-change run")
            figures["no_change_seconds"], noop = timed(lambda: update_clusters(store, MODEL, progress=progress))
            figures["no_change_compared"] = noop.compared
            figures["peak_rss_mib"] = peak_mib()
            figures["kept_catalog"] = str(path) if args.keep else None
    print(json.dumps(figures, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="a fresh PostgreSQL database instead of a SQLite file")
    parser.add_argument("--scale-catalog", help="time a full rebuild and an incremental run on a copy of this catalog")
    parser.add_argument("--planted", type=int, default=1000, help="datasets copied to another source (--scale-catalog)")
    parser.add_argument("--changed-share", type=float, default=0.01, help="rows changed before the incremental run")
    parser.add_argument("--workdir", help="where the copy goes (default: the system's temporary folder)")
    parser.add_argument(
        "--keep", help="keep the clustered copy at this path (--scale-catalog), e.g. for search latency"
    )
    parser.add_argument("--verbose", action="store_true", help="print the clustering runs' progress")
    args = parser.parse_args()
    if args.scale_catalog:
        scale(args)
        return

    import dagster as dg

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.catalog.clusters import cluster_ids, links_of
    from dataset_catalog.defs.clusters.assets import dataset_clusters
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.embeddings.assets import dataset_embeddings
    from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
    from dataset_catalog_tests.fakes.duplicates import ingest_labelled_set, load_labelled_set

    labelled = load_labelled_set()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres_url or f"sqlite:///{Path(tmp) / 'catalog.sqlite3'}"
        started = time.perf_counter()
        key_to_id = ingest_labelled_set(url, Path(tmp) / "ingest")
        ingest_s = time.perf_counter() - started
        resources = {"catalog": CatalogResource(database_url=url), "embedding_model": EmbeddingModelResource()}
        (Path(tmp) / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(Path(tmp) / "dagster")) as instance:
            dg.materialize([dataset_embeddings], resources=resources, instance=instance)
            started = time.perf_counter()
            result = dg.materialize([dataset_clusters], resources=resources, instance=instance)
            cluster_s = time.perf_counter() - started
        metadata = {
            k: v.value for k, v in result.asset_materializations_for_node("dataset_clusters")[0].metadata.items()
        }
        with CatalogStore(url) as store:
            cluster = cluster_ids(store, list(key_to_id.values()))
            tp = fp = fn = tn = 0
            misses, false_links = [], []
            for pair in labelled.pairs:
                a, b = key_to_id[pair["a"]], key_to_id[pair["b"]]
                together = a in cluster and cluster.get(a) == cluster.get(b)
                if pair["label"] == "same":
                    tp, fn = tp + together, fn + (not together)
                    if not together:
                        misses.append(f"{pair['a']} ~ {pair['b']}: {pair['why']}")
                else:
                    fp, tn = fp + together, tn + (not together)
                    if together:
                        link = links_of(store, a).get(b)
                        evidence = link["evidence"] if link else "linked through other members"
                        false_links.append(f"{pair['a']} ~ {pair['b']}: {evidence}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(
        json.dumps(
            {
                "catalog": "postgresql" if args.postgres_url else "sqlite",
                "pairs": {"same": tp + fn, "different": fp + tn},
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "true_links": tp,
                "false_links": fp,
                "ingest_seconds": round(ingest_s, 1),
                "clusters_seconds": round(cluster_s, 1),
                "asset_metadata": {k: metadata[k] for k in ("compared_rows", "links", "clusters", "clustered_rows")},
            },
            indent=2,
        )
    )
    print("\nMissed same pairs:", *misses, sep="\n  ")
    print("\nFalse links:", *false_links, sep="\n  ")


if __name__ == "__main__":
    main()
