"""Embedding units: one source's rows in one hash bucket, embedded on their own; the schedule
finds the units with changes and asks for those only."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from dataset_catalog.catalog.vector_store import read_embeddings, units_with_changes
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.defs.embeddings.schedules import dataset_embeddings_schedule
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.embeddings.units import UNIT_BUCKETS, EmbeddingUnit, UnknownUnitError, all_units


def _unit_of(row) -> EmbeddingUnit:
    return EmbeddingUnit(row["source"], row["id"] % UNIT_BUCKETS)


def test_units_cover_every_row_once_and_parse_back():
    units = all_units()
    assert len(units) == len({u.key for u in units}) == 4 * UNIT_BUCKETS
    assert all(EmbeddingUnit.parse(u.key) == u for u in units)
    for bad in ("huggingface-16", "nowhere-01", "huggingface", "kaggle-x1"):
        with pytest.raises(UnknownUnitError, match="a unit is <source>-<bucket>"):
            EmbeddingUnit.parse(bad)


def test_a_unit_embeds_its_rows_only_and_the_units_together_embed_all(store, corpus, encoder):
    rows = store.fetch_datasets()
    unit = _unit_of(rows[0])
    report = embed_datasets(store, encoder, unit=unit)
    mine = {r["id"] for r in rows if _unit_of(r) == unit}
    assert set(read_embeddings(store)) == mine and report.embedded == len(mine)
    model = encoder.name
    assert (unit.source, unit.bucket) not in units_with_changes(store, model, UNIT_BUCKETS)
    for other in {_unit_of(r) for r in rows} - {unit}:
        embed_datasets(store, encoder, unit=other)
    assert set(read_embeddings(store)) == {r["id"] for r in rows}
    assert units_with_changes(store, model, UNIT_BUCKETS) == []
    # A changed row puts its unit, and only its unit, back on the list.
    edited = dict(next(r for r in corpus if r["external_id"] == "ylecun/mnist"), description="Digits, rewritten.")
    store.upsert_datasets([edited])
    row = next(r for r in store.fetch_datasets() if r["external_id"] == "ylecun/mnist")
    assert units_with_changes(store, model, UNIT_BUCKETS) == [(row["source"], row["id"] % UNIT_BUCKETS)]


def test_the_schedule_asks_for_the_changed_units_only(store, database_url, corpus, encoder):
    resources = {"catalog": CatalogResource(database_url=database_url), "embedding_model": EmbeddingModelResource()}
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(
            instance=instance, resources=resources, scheduled_execution_time=datetime(2026, 12, 4, 12, 30, tzinfo=UTC)
        ) as context,
    ):
        requests = dataset_embeddings_schedule(context)
        expected = {_unit_of(r).key for r in store.fetch_datasets()}
        assert {r.partition_key for r in requests} == expected  # nothing embedded yet: every unit with rows
        embed_datasets(store, encoder)
        assert isinstance(dataset_embeddings_schedule(context), dg.SkipReason)
        edited = dict(next(r for r in corpus if r["external_id"] == "ylecun/mnist"), title="MNIST digits")
        store.upsert_datasets([edited])
        row = next(r for r in store.fetch_datasets() if r["external_id"] == "ylecun/mnist")
        assert [r.partition_key for r in dataset_embeddings_schedule(context)] == [_unit_of(row).key]


def test_the_whole_catalog_step_follows_the_units_once_after_the_last_lands(database_url, store, corpus, encoder):
    from dataset_catalog.defs.embeddings.assets import dataset_embedding_units, dataset_embeddings

    resources = {"catalog": CatalogResource(database_url=database_url), "embedding_model": EmbeddingModelResource()}
    keys = sorted({_unit_of(r).key for r in store.fetch_datasets()})[:2]
    assets = dg.Definitions(assets=[dataset_embedding_units, dataset_embeddings], resources=resources)
    with dg.instance_for_test() as instance:
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance)
        assert result.total_requested == 0  # no unit has landed: nothing to follow
        for key in keys:
            done = dg.materialize(
                [dataset_embedding_units],
                partition_key=key,
                instance=instance,
                resources=resources,
                selection=[dataset_embedding_units],
            )
            assert done.success
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_requested_partitions(dg.AssetKey("dataset_embeddings")) == {None}  # once, for both units
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.total_requested == 0  # and not again until another unit lands
