"""The embedding assets: `dataset_embedding_units` (the catalog in independent units, for
backfills fanned out over workers) and `dataset_embeddings` (every active dataset's vector, then
the work that reads all of them once: the vector index and the reference counts)."""

import os
import socket

import dagster as dg
from pydantic import Field

from dataset_catalog.catalog.keyword_index import ensure_keyword_index
from dataset_catalog.catalog.vector_matrix import prepare_vectors
from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.catalog_sources import catalog_source_asset_keys
from dataset_catalog.defs.common.metadata import records_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.sync import DEFAULT_CHUNK_SIZE, EmbedReport, embed_datasets
from dataset_catalog.embeddings.units import EmbeddingUnit, all_units
from dataset_catalog.search.references import refresh_reference_counts


class DatasetEmbeddingsConfig(dg.Config):
    chunk_size: int = Field(
        default=DEFAULT_CHUNK_SIZE, ge=1, le=100_000, description="Rows per encode call and transaction."
    )
    limit: int | None = Field(default=None, ge=1, description="Embed at most this many rows this run; unset = all.")


EMBEDDING_UNITS_POOL = "embedding_units"
embedding_units = dg.StaticPartitionsDefinition([unit.key for unit in all_units()])


def _report_metadata(report: EmbedReport) -> dict:
    return {
        "embedded": report.embedded,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "removed_inactive": report.removed,
        "deferred": report.deferred,
        "model": report.model,
        "dimension": report.dimension,
        "texts_per_second": round(report.texts_per_second, 2),
        "seconds": round(report.seconds, 2),
        "failures": records_table(report.failures[:20], ("dataset_id", "error")),
    }


@catalog_asset(
    # A unit reads its rows whatever day or harvest wrote them: every partition of every source.
    deps=[dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping()) for key in catalog_source_asset_keys()],
    group_name="embeddings",
    kinds={"python", "pytorch"},
    partitions_def=embedding_units,
    # A backfill of every unit is one run per unit through the run queue; the pool caps how many
    # embed at once (`dagster instance concurrency set embedding_units N`, one per worker).
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    pool=EMBEDDING_UNITS_POOL,
    description=(
        "The vectors of one embedding unit (a source's rows whose id falls in one of 16 buckets): "
        "the same work as dataset_embeddings split so that a backfill runs on as many workers as "
        "there are. Each unit is idempotent and killable; dataset_embeddings follows once after."
    ),
)
def dataset_embedding_units(
    context: dg.AssetExecutionContext,
    config: DatasetEmbeddingsConfig,
    embedding_model: EmbeddingModelResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    unit = EmbeddingUnit.parse(context.partition_key)
    store = catalog.get_store()
    encoder = embedding_model.get_encoder()
    report = embed_datasets(
        store,
        encoder,
        chunk_size=config.chunk_size,
        limit=config.limit,
        run_id=context.run.run_id,
        log=context.log,
        unit=unit,
    )
    # Which process did the work: a distributed backfill shows its spread over the workers.
    worker = f"{socket.gethostname()}:{os.getpid()}"
    return dg.MaterializeResult(metadata={**_report_metadata(report), "worker": worker})


# After units, once: the vector index and reference counts read every vector, so they run when
# the last unit of a batch has landed (no unit in progress), not once per unit.
AFTER_UNITS = (
    dg.AutomationCondition.any_deps_updated().allow(dg.AssetSelection.assets(dataset_embedding_units))
    & ~dg.AutomationCondition.any_deps_in_progress().allow(dg.AssetSelection.assets(dataset_embedding_units))
    & ~dg.AutomationCondition.in_progress()
)


@catalog_asset(
    deps=[*catalog_source_asset_keys(), dataset_embedding_units],
    group_name="embeddings",
    automation_condition=AFTER_UNITS,
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
            **_report_metadata(report),
            "referenced_datasets": references.referenced,
            "reference_counts_changed": references.changed,
            "vector_index": index,
        }
    )
