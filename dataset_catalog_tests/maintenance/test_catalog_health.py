"""`catalog_health`: the per-source numbers the UI plots, one point per materialization."""

import dagster as dg
import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.vector_store import EmbeddingRow, ensure_embedding_schema, write_embeddings
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.defs.maintenance.assets import catalog_health


def materialize_health(database_url: str, instance) -> dict:
    result = dg.materialize(
        [catalog_health],
        resources={
            "catalog": CatalogResource(database_url=database_url),
            "embedding_model": EmbeddingModelResource(model="m"),
        },
        instance=instance,
    )
    return {k: v.value for k, v in result.asset_materializations_for_node("catalog_health")[0].metadata.items()}


def test_health_numbers_per_source_over_time(database_url, store):
    with dg.instance_for_test() as instance:
        empty = materialize_health(database_url, instance)
        assert empty["huggingface/rows"] == 0 and empty["kaggle/rows"] == 0 and empty["dagster/row_count"] == 0
        assert empty["zenodo/rows"] == 0 and empty["openml/active"] == 0  # every source plotted from day one
        store.upsert_datasets(
            [
                {"source": "huggingface", "external_id": f"h/{i}", "title": "t", "enrichment_status": "enriched"}
                for i in range(3)
            ]
            + [
                {"source": "kaggle", "external_id": f"k/{i}", "title": "t", "enrichment_status": "pending"}
                for i in range(2)
            ]
        )
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(datasets).where(datasets.c.external_id == "h/0").values(link_status="broken", is_active=False)
            )
            conn.execute(sa.update(datasets).where(datasets.c.external_id == "k/1").values(enrichment_status="failed"))
        ensure_embedding_schema(store, 4)
        ids = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
        write_embeddings(store, "m", [EmbeddingRow(ids["h/1"], "x", np.ones(4, dtype=np.float32) / 2)])
        later = materialize_health(database_url, instance)
        points = instance.fetch_materializations(dg.AssetKey("catalog_health"), limit=10).records
    hf = {k.split("/", 1)[1]: v for k, v in later.items() if k.startswith("huggingface/")}
    kg = {k.split("/", 1)[1]: v for k, v in later.items() if k.startswith("kaggle/")}
    assert hf == {"rows": 3, "active": 2, "enriched": 3, "pending": 0, "failed": 0, "embedded": 1, "link_broken": 1}
    assert kg == {"rows": 2, "active": 2, "enriched": 0, "pending": 1, "failed": 1, "embedded": 0, "link_broken": 0}
    assert later["dagster/row_count"] == 5 and "| kaggle | pending | active | 1 | 0 |" in later["catalog_state"]
    assert len(points) == 2  # two points on each plot
