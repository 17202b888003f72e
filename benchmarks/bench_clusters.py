"""Benchmark: precision and recall of duplicate links on the labelled set.

Run: `python benchmarks/bench_clusters.py [--postgres-url URL]`

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="a fresh PostgreSQL database instead of a SQLite file")
    args = parser.parse_args()

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
