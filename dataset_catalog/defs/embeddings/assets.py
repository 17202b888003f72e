"""The `dataset_embeddings` asset: vectors for every active dataset of every source."""

import dagster as dg
from pydantic import Field

from dataset_catalog.catalog.keyword_index import ensure_keyword_index
from dataset_catalog.catalog.vector_matrix import prepare_vectors
from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.catalog_sources import catalog_source_asset_keys
from dataset_catalog.defs.common.metadata import records_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.sync import DEFAULT_CHUNK_SIZE, embed_datasets
from dataset_catalog.search.references import refresh_reference_counts


class DatasetEmbeddingsConfig(dg.Config):
    chunk_size: int = Field(
        default=DEFAULT_CHUNK_SIZE, ge=1, le=100_000, description="Rows per encode call and transaction."
    )
    limit: int | None = Field(default=None, ge=1, description="Embed at most this many rows this run; unset = all.")


@catalog_asset(
    deps=catalog_source_asset_keys(),
    group_name="embeddings",
    kinds={"python", "pytorch"},
    description=(
        "One sentence-transformers vector per active catalog dataset (title, subtitle, tasks, tags, "
        "description); re-embeds only rows whose text or model changed, keeps the keyword index, "
        "and recounts how often datasets mention each other (a search prior)."
    ),
)
def dataset_embeddings(
    context: dg.AssetExecutionContext,
    config: DatasetEmbeddingsConfig,
    embedding_model: EmbeddingModelResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    ensure_keyword_index(store)  # create/fill the keyword index here, not in someone's first search
    encoder = embedding_model.get_encoder()
    context.log.info(
        f"Embedding with {encoder.name} ({encoder.dimension}-d, from {encoder.source}) on {encoder.device}"
    )
    report = embed_datasets(
        store, encoder, chunk_size=config.chunk_size, limit=config.limit, run_id=context.run.run_id, log=context.log
    )
    index = "pgvector"
    if store.dialect == "sqlite":
        # Build and save the ANN index for the new vectors here, so a CLI search (a process that exits
        # after one query) finds it saved instead of scanning exactly.
        index = prepare_vectors(store, encoder.name)["index"]
        context.log.info(f"Vector index: {index}")
    references = refresh_reference_counts(store)
    context.log.info(
        f"Reference counts: {references.referenced} of {references.datasets} datasets are named by others; "
        f"{references.changed} counts changed ({references.seconds} s)"
    )
    return dg.MaterializeResult(
        metadata={
            "referenced_datasets": references.referenced,
            "reference_counts_changed": references.changed,
            "embedded": report.embedded,
            "unchanged": report.unchanged,
            "failed": report.failed,
            "removed_inactive": report.removed,
            "deferred": report.deferred,
            "model": report.model,
            "dimension": report.dimension,
            "vector_index": index,
            "texts_per_second": round(report.texts_per_second, 2),
            "seconds": round(report.seconds, 2),
            "failures": records_table(report.failures[:20], ("dataset_id", "error")),
        }
    )
