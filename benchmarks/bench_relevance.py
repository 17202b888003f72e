"""Search relevance on the DataFinder development set: keyword-only, vector-only and the shipped
ranking, for both query kinds (research ideas as sentences, and keyphrases).

    PYTHONPATH=. python benchmarks/bench_relevance.py [--eval-dir ../shared/eval/datafinder] [--keep DIR]

`--keep DIR` keeps the ingested and embedded catalog in DIR and reuses it on the next run (the
embedding takes minutes), so ranking changes can be measured one after another.

The corpus (3,294 Papers with Code datasets as Hub items) is served by the fake Hub and ingested
through `hf_datasets` (every daily partition of its lastModified span, in one run), then embedded
with the configured model (default all-MiniLM-L6-v2) by the code `dataset_embeddings` runs.
Metrics: hit@5, recall@5, MRR@10, nDCG@10 (dataset_catalog/search/evaluation.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
from common import ROOT, load_conditions

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.keyword_index import keyword_candidates
from dataset_catalog.catalog.search_queries import SearchFilters, fetch_hit_rows
from dataset_catalog.catalog.vector_store import nearest_datasets
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.embeddings.encoder import encode_query, load_encoder
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.search.evaluation import FIELDS, evaluate, load_judgments, shipped_search
from dataset_catalog.search.ranking import query_tokens
from dataset_catalog.search.references import refresh_reference_counts
from dataset_catalog_tests.fakes.hf_hub import FakeHub

K = 10


def ingest(store_url: str, items: list[dict]) -> None:
    days = sorted(i["lastModified"][:10] for i in items)
    with FakeHub(items) as hub, dg.instance_for_test() as instance:
        started = time.perf_counter()
        result = dg.materialize(
            [hf_datasets],
            resources={
                "catalog": CatalogResource(database_url=store_url),
                "huggingface": HuggingFaceResource(endpoint=hub.url),
            },
            tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
            instance=instance,
        )
        assert result.success
    print(
        f"ingested {len(items)} Hub items through hf_datasets ({days[0]} .. {days[-1]}) in {time.perf_counter() - started:.1f} s"
    )


def rankers(store: CatalogStore, encoder):
    def ids(dataset_ids: list[int]) -> list[tuple[str, str]]:
        rows = fetch_hit_rows(store, dataset_ids, ("source", "external_id"))
        return [(rows[i]["source"], rows[i]["external_id"]) for i in dataset_ids if i in rows]

    def keyword(text: str):
        return ids([i for i, _ in keyword_candidates(store, query_tokens(text), SearchFilters(), K)])

    def vector(text: str):
        return ids(
            [i for i, _ in nearest_datasets(store, encoder.name, encode_query(encoder, text), SearchFilters(), K)]
        )

    return {
        "keyword only (bm25)": keyword,
        "vector only (cosine)": vector,
        "shipped (hybrid)": shipped_search(store, encoder),
    }


def main() -> None:
    args = sys.argv[1:]
    eval_dir = (
        Path(args[args.index("--eval-dir") + 1])
        if "--eval-dir" in args
        else ROOT.parent / "shared" / "eval" / "datafinder"
    )
    items = json.loads((eval_dir / "corpus_hub_items.json").read_text())
    encoder = load_encoder()
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder}/relevance.sqlite3"
        reuse = keep is not None and (folder / "relevance.sqlite3").exists()
        if not reuse:
            ingest(url, items)
        with CatalogStore(url) as store:
            started = time.perf_counter()
            embed_datasets(store, encoder)
            references = refresh_reference_counts(store)
            print(
                f"embedded {store.count_datasets()} datasets with {encoder.name} in {time.perf_counter() - started:.1f} s"
                f"{' (reused: ' + str(folder) + ')' if reuse else ''}; {load_conditions()}"
            )
            print(
                f"reference counts: {references.referenced} of {references.datasets} datasets named by others ({references.seconds} s)"
            )
            print(
                f"\n{'ranking':<22} {'queries':<10} {'n':>4} {'hit@5':>7} {'recall@5':>9} {'MRR@10':>7} {'nDCG@10':>8}"
            )
            figures = {}
            for name, search in rankers(store, encoder).items():
                for field in FIELDS:
                    judgments = load_judgments(eval_dir / "dev_queries.json", field)
                    m, _ = evaluate(judgments, search)
                    figures[(name, field)] = m
                    print(
                        f"{name:<22} {field:<10} {m['queries']:>4} {m['hit@5']:>7.3f} {m['recall@5']:>9.3f} {m['mrr@10']:>7.3f} {m['ndcg@10']:>8.3f}"
                    )
            for field in FIELDS:
                base, ours = figures[("vector only (cosine)", field)], figures[("shipped (hybrid)", field)]
                print(
                    f"shipped / vector-only, {field}: recall@5 {ours['recall@5'] / base['recall@5']:.2f}x, "
                    f"MRR@10 {ours['mrr@10'] / base['mrr@10']:.2f}x  [goal >= 1.5x]"
                )


if __name__ == "__main__":
    main()
