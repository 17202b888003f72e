"""Search relevance on the development sets: keyword-only, vector-only, the ranking before
issue 22 (additive priors, no query understanding) and the shipped search, over
- DataFinder (../shared/eval/datafinder): both query kinds (research ideas as sentences, and keyphrases);
- constraint queries (../shared/eval/constraints): "question answering dataset in Japanese", with
  precision@5 (top-5 hits meeting every constraint over min(5, cards meeting them)) and hit@5.

    PYTHONPATH=. python benchmarks/bench_relevance.py [--eval-dir ../shared/eval/datafinder]
        [--constraints-dir ../shared/eval/constraints] [--keep DIR]

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
from dataset_catalog.search.ranking import query_tokens, rank_catalog
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

    def before(text: str):
        ranked = rank_catalog(text, store=store, encoder=encoder, priors="additive")
        return [(c.row["source"], c.row["external_id"]) for c in ranked.candidates[:K]]

    return {
        "keyword only (bm25)": keyword,
        "vector only (cosine)": vector,
        "before (issue 22)": before,
        "shipped": shipped_search(store, encoder),
    }


def embedded_store(folder: Path, name: str, items: list[dict], encoder, reuse_ok: bool) -> str:
    """The catalog of `items` in folder/name (ingested and embedded unless kept from a former run)."""
    url = f"sqlite:///{folder}/{name}"
    reuse = reuse_ok and (folder / name).exists()
    if not reuse:
        ingest(url, items)
    with CatalogStore(url) as store:
        started = time.perf_counter()
        embed_datasets(store, encoder)
        references = refresh_reference_counts(store)
        print(
            f"{name}: embedded {store.count_datasets()} datasets with {encoder.name} in "
            f"{time.perf_counter() - started:.1f} s{' (reused)' if reuse else ''}; {load_conditions()}; "
            f"{references.referenced} of {references.datasets} named by others"
        )
    return url


def report(store: CatalogStore, encoder, path: Path, fields: tuple[str, ...]) -> dict:
    figures = {}
    for name, search in rankers(store, encoder).items():
        for field in fields:
            m, _ = evaluate(load_judgments(path, field), search)
            figures[(name, field)] = m
            print(
                f"{name:<22} {field:<10} {m['queries']:>4} {m['hit@5']:>7.3f} {m['recall@5']:>9.3f} "
                f"{m['precision@5']:>6.3f} {m['mrr@10']:>7.3f} {m['ndcg@10']:>8.3f}"
            )
    return figures


HEADER = (
    f"\n{'ranking':<22} {'queries':<10} {'n':>4} {'hit@5':>7} {'recall@5':>9} {'P@5':>6} {'MRR@10':>7} {'nDCG@10':>8}"
)


def main() -> None:
    args = sys.argv[1:]
    shared = ROOT.parent / "shared" / "eval"
    eval_dir = Path(args[args.index("--eval-dir") + 1]) if "--eval-dir" in args else shared / "datafinder"
    constraints_dir = (
        Path(args[args.index("--constraints-dir") + 1]) if "--constraints-dir" in args else shared / "constraints"
    )
    encoder = load_encoder()
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        items = json.loads((eval_dir / "corpus_hub_items.json").read_text())
        datafinder_url = embedded_store(folder, "relevance.sqlite3", items, encoder, keep is not None)
        cards = json.loads((constraints_dir / "constraint_dev_cards.json").read_text())
        constraints_url = embedded_store(folder, "constraints.sqlite3", cards, encoder, keep is not None)
        with CatalogStore(datafinder_url) as store:
            print(HEADER + "   [DataFinder]")
            figures = report(store, encoder, eval_dir / "dev_queries.json", FIELDS)
        for field in FIELDS:
            base, ours = figures[("vector only (cosine)", field)], figures[("shipped", field)]
            print(
                f"shipped / vector-only, {field}: recall@5 {ours['recall@5'] / base['recall@5']:.2f}x, "
                f"MRR@10 {ours['mrr@10'] / base['mrr@10']:.2f}x  [goal >= 1.5x]"
            )
        with CatalogStore(constraints_url) as store:
            print(HEADER + "   [constraint queries]")
            figures = report(store, encoder, constraints_dir / "constraint_queries_dev.json", ("query",))
        base, ours = figures[("vector only (cosine)", "query")], figures[("shipped", "query")]
        print(
            f"constraints: shipped precision@5 {ours['precision@5']:.3f} [goal >= 0.80], hit@5 {ours['hit@5']:.3f} "
            f"[>= 0.95], {ours['precision@5'] / max(base['precision@5'], 1e-9):.2f}x cosine's precision@5 [>= 2x]"
        )


if __name__ == "__main__":
    main()
