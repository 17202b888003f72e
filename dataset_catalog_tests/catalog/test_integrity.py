import sqlalchemy as sa

from dataset_catalog.catalog.integrity import duplicate_keys, incomplete_active_rows
from dataset_catalog.catalog.schema import datasets


def _rows(source, ids, **extra):
    return [{"source": source, "external_id": i, "title": i, "url": f"https://x/{i}", **extra} for i in ids]


def test_duplicates_ignore_case_and_spaces(store):
    store.upsert_datasets(_rows("huggingface", ["Org/DS", "org/ds", "other/x"]) + _rows("kaggle", ["org/ds"]))
    total, sample = duplicate_keys(store, "huggingface")
    assert total == 1 and sample == [{"source": "huggingface", "key": "org/ds", "rows": 2}]
    assert duplicate_keys(store, "kaggle")[0] == 0
    assert duplicate_keys(store)[0] == 1


def test_incomplete_active_rows(store):
    store.upsert_datasets(_rows("huggingface", ["a", "b", "c", "d"]))
    with store.engine.begin() as conn:
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "a").values(title="  "))
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "b").values(url=None))
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "c").values(url=None, is_active=False))
    total, sample = incomplete_active_rows(store, "huggingface")
    assert total == 2 and [r["external_id"] for r in sample] == ["a", "b"]
