import dagster as dg
import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets, enrichment_log
from dataset_catalog.catalog.vector_store import read_embeddings
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.assets import dataset_embeddings
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.embeddings.text import build_embedding_text, content_hash
from dataset_catalog_tests.fakes.corpus import ds


def _ids(store) -> dict[str, int]:
    return {r["external_id"]: r["id"] for r in store.fetch_datasets()}


def test_first_run_embeds_all_second_run_embeds_nothing(store, corpus, encoder):
    first = embed_datasets(store, encoder, chunk_size=7)
    assert (first.embedded, first.unchanged, first.failed) == (len(corpus), 0, 0)
    assert first.dimension == 384 and first.texts_per_second > 0
    stored = read_embeddings(store)
    assert len(stored) == len(corpus)
    imdb = next(r for r in store.fetch_datasets() if r["external_id"] == "stanfordnlp/imdb")
    text = build_embedding_text(imdb)
    entry = stored[imdb["id"]]
    assert entry["model"] == encoder.name and entry["content_hash"] == content_hash(text)
    assert np.allclose(entry["vector"], encoder.encode([text])[0], atol=1e-5)  # float32 blob / pgvector round trip

    second = embed_datasets(store, encoder)
    assert (second.embedded, second.unchanged, second.failed) == (0, len(corpus), 0)


def test_editing_one_description_re_embeds_exactly_that_row(store, corpus, encoder):
    embed_datasets(store, encoder)
    before = read_embeddings(store)
    edited = dict(next(r for r in corpus if r["external_id"] == "ylecun/mnist"))
    edited["description"] = "Handwritten digits, now with a longer description."
    store.upsert_datasets([edited])
    popularity_only = dict(next(r for r in corpus if r["external_id"] == "rajpurkar/squad"), download_count=1)
    store.upsert_datasets([popularity_only])  # not part of the text: no re-embedding

    report = embed_datasets(store, encoder)
    assert (report.embedded, report.unchanged) == (1, len(corpus) - 1)
    after = read_embeddings(store)
    mnist_id = _ids(store)["ylecun/mnist"]
    changed = [i for i in after if after[i]["content_hash"] != before[i]["content_hash"]]
    assert changed == [mnist_id]
    assert after[mnist_id]["embedded_at"] > before[mnist_id]["embedded_at"]
    assert all(after[i]["embedded_at"] == before[i]["embedded_at"] for i in after if i != mnist_id)


def test_switching_model_re_embeds_all_with_the_new_dimension_and_back(store, corpus, encoder, small_encoder):
    embed_datasets(store, encoder)
    switched = embed_datasets(store, small_encoder)
    assert (switched.embedded, switched.unchanged, switched.dimension) == (len(corpus), 0, 128)
    stored = read_embeddings(store)
    assert {(e["model"], e["dimension"], e["vector"].shape[0]) for e in stored.values()} == {
        (small_encoder.name, 128, 128)
    }
    assert embed_datasets(store, small_encoder).embedded == 0
    back = embed_datasets(store, encoder)
    assert (back.embedded, back.dimension) == (len(corpus), 384)


def test_deactivated_and_deleted_rows_lose_their_vectors(store, corpus, encoder):
    embed_datasets(store, encoder)
    ids = _ids(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(datasets).where(datasets.c.id == ids["ylecun/mnist"]).values(is_active=False))
        conn.execute(sa.delete(datasets).where(datasets.c.id == ids["rajpurkar/squad"]))
    report = embed_datasets(store, encoder)
    assert (report.removed, report.embedded, report.unchanged) == (1, 0, len(corpus) - 2)
    assert set(read_embeddings(store)) == set(ids.values()) - {ids["ylecun/mnist"], ids["rajpurkar/squad"]}
    with store.engine.begin() as conn:  # reactivated: embedded again
        conn.execute(sa.update(datasets).where(datasets.c.id == ids["ylecun/mnist"]).values(is_active=True))
    assert embed_datasets(store, encoder).embedded == 1


def test_one_bad_row_never_fails_the_batch(store, corpus, encoder):
    """Fault injection around the real model: texts of two rows make encoding raise / return NaN."""

    def flaky_encode(texts):
        if any(t.split("\n")[0] == "IMDB Large Movie Review Dataset" for t in texts):
            raise RuntimeError("tokenizer exploded")
        vectors = encoder.encode(texts)
        for i, t in enumerate(texts):
            if t.split("\n")[0] == "MNIST":
                vectors[i] = np.nan
        return vectors

    report = embed_datasets(store, encoder, encode=flaky_encode, chunk_size=8, run_id="run-1")
    assert (report.embedded, report.failed) == (len(corpus) - 2, 2)
    ids = _ids(store)
    assert {f["dataset_id"] for f in report.failures} == {ids["stanfordnlp/imdb"], ids["ylecun/mnist"]}
    with store.engine.connect() as conn:
        logged = conn.execute(
            sa.select(enrichment_log.c.dataset_id, enrichment_log.c.stage, enrichment_log.c.run_id)
        ).all()
    assert sorted(logged) == sorted((ids[e], "embedding", "run-1") for e in ("stanfordnlp/imdb", "ylecun/mnist"))
    retry = embed_datasets(store, encoder)  # next run picks the failed rows up again
    assert (retry.embedded, retry.unchanged) == (2, len(corpus) - 2)


def test_limit_defers_the_rest_to_the_next_run(store, corpus, encoder):
    first = embed_datasets(store, encoder, limit=5, chunk_size=2)
    assert (first.embedded, first.deferred) == (5, len(corpus) - 5)
    assert embed_datasets(store, encoder).embedded == len(corpus) - 5


def test_asset_materializes_with_metadata(database_url, store, corpus, encoder, monkeypatch):
    monkeypatch.delenv("DATASET_CATALOG_EMBEDDING_MODEL", raising=False)
    mentions = ds("kaggle", "someone/digits-plus", "Digits plus", "MNIST digits with SQuAD-style questions about them.")
    store.upsert_datasets([mentions])
    corpus = [*corpus, mentions]
    resources = {"catalog": CatalogResource(database_url=database_url), "embedding_model": EmbeddingModelResource()}
    with dg.instance_for_test() as instance:
        for expected_embedded in (len(corpus), 0):
            result = dg.materialize([dataset_embeddings], resources=resources, instance=instance)
            assert result.success
            meta = instance.get_latest_materialization_event(
                dg.AssetKey("dataset_embeddings")
            ).asset_materialization.metadata
            assert meta["embedded"].value == expected_embedded
            assert meta["unchanged"].value == len(corpus) - expected_embedded
            assert meta["failed"].value == 0
            assert meta["model"].value == encoder.name and meta["dimension"].value == 384
            assert "texts_per_second" in meta
            # the two mentioned datasets' counts are written once, then nothing changes
            assert meta["reference_counts_changed"].value == (2 if expected_embedded else 0)
            assert meta["referenced_datasets"].value == 2  # MNIST and SQuAD
    assert len(read_embeddings(store)) == len(corpus)
