import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.catalog.vector_store import EmbeddingRow, ensure_embedding_schema, write_embeddings


def _rows(source, ids, status):
    return [{"source": source, "external_id": i, "title": i, "enrichment_status": status} for i in ids]


def test_every_view_of_the_summary_counts_real_rows_and_vectors(store):
    store.upsert_datasets(
        _rows("huggingface", ["h1", "h2", "h3"], "enriched") + _rows("kaggle", ["k1", "k2"], "pending")
    )
    ids = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(datasets).where(datasets.c.external_id == "h3").values(is_active=False, link_status="broken")
        )
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "k1").values(link_status="ok"))
    ensure_embedding_schema(store, 4)
    vector = np.ones(4, dtype=np.float32) / 2
    write_embeddings(store, "current", [EmbeddingRow(ids[e], "h", vector) for e in ("h1", "h3", "k1")])
    write_embeddings(store, "older", [EmbeddingRow(ids["h2"], "h", vector)])

    summary = catalog_summary(store, "current")
    assert summary.by_state() == [
        {"source": "huggingface", "enrichment_status": "enriched", "is_active": False, "rows": 1, "embedded": 1},
        {"source": "huggingface", "enrichment_status": "enriched", "is_active": True, "rows": 2, "embedded": 2},
        {"source": "kaggle", "enrichment_status": "pending", "is_active": True, "rows": 2, "embedded": 1},
    ]
    assert summary.enrichment_counts("kaggle") == {"pending": 2}
    assert summary.enrichment_counts("huggingface") == {"enriched": 2}  # the inactive row is not worked on
    assert summary.link_status_counts() == {"broken": 1, "ok": 1, "unchecked": 3}
    assert summary.embedding_coverage() == (3, 4)  # active rows with a vector of any model
    hf, kg = summary.per_source()["huggingface"], summary.per_source()["kaggle"]
    assert (hf["rows"], hf["active"], hf["inactive"]) == (3, 2, 1)
    assert (hf["embedded_any_model"], hf["embedded_current_model"], hf["embedding_coverage"]) == (2, 1, 0.5)
    assert hf["link_status"] == {"broken": 1, "unchecked": 2} and hf["enrichment"] == {"enriched": 3}
    assert (kg["embedded_current_model"], kg["embedding_coverage"]) == (1, 0.5)
    assert catalog_summary(store).per_source()["huggingface"]["embedded_current_model"] == 0  # no model asked about


def test_summary_of_an_empty_catalog(store):
    summary = catalog_summary(store, "m")
    assert summary.groups == [] and summary.per_source() == {} and summary.embedding_coverage() == (0, 0)


def test_the_summary_reads_only_its_covering_index(tmp_path):
    """The grouped count runs after every asset: it must not scan the wide rows (SQLite's plan;
    PostgreSQL's depends on the table's size)."""
    with CatalogStore(f"sqlite:///{tmp_path / 'c.sqlite3'}") as store:
        store.upsert_datasets(_rows("huggingface", [f"h{i}" for i in range(50)], "enriched"))
        seen = []
        sa.event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2:4]))
        catalog_summary(store, "m")
        ((statement, parameters),) = [(s, p) for s, p in seen if "GROUP BY" in s]
        with store.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "COVERING INDEX ix_datasets_summary" in plan, plan
