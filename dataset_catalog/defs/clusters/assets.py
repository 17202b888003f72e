"""The `dataset_clusters` asset: which catalog rows hold the same data, across every source."""

import dagster as dg
from pydantic import Field

from dataset_catalog.clusters.build import update_clusters
from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.assets import dataset_embeddings
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.encoder import configured_model_name


class DatasetClustersConfig(dg.Config):
    rebuild: bool = Field(default=False, description="Compare every active row again, not only new or changed ones.")


@catalog_asset(
    deps=[dataset_embeddings],
    group_name="clusters",
    kinds={"python"},
    description=(
        "Duplicate clusters: links between rows of any sources that hold the same data (named pages "
        "and DOIs, Papers with Code ids, names, row counts, columns, text similarity), with their "
        "evidence, grouped without chaining. Compares only new or changed rows unless `rebuild`."
    ),
)
def dataset_clusters(
    context: dg.AssetExecutionContext,
    config: DatasetClustersConfig,
    embedding_model: EmbeddingModelResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    report = update_clusters(
        catalog.get_store(),
        configured_model_name(embedding_model.model),
        rebuild=config.rebuild,
        progress=context.log.info,
    )
    context.log.info(
        f"{report.clusters:,} clusters hold {report.clustered_rows:,} rows; {report.links:,} links; "
        f"{report.compared:,} rows compared in {report.seconds:.1f} s"
    )
    return dg.MaterializeResult(metadata=report.to_metadata())
