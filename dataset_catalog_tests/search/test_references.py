"""Reference counts: other datasets naming a dataset, counted and stored."""

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.search.references import count_references, refresh_reference_counts
from dataset_catalog_tests.fakes.corpus import ds


def _count(entries: list[tuple[int, str, str]]) -> dict[int, int]:
    return count_references([(i, t) for i, t, _ in entries], ((i, d) for i, _, d in entries))


def test_each_mentioning_dataset_counts_once_and_never_itself():
    counts = _count(
        [
            (1, "SQuAD", "SQuAD is a reading test. SQuAD answers are spans."),
            (2, "Adversarial QA", "Questions written against models trained on SQuAD, SQuAD and SQuAD again."),
            (3, "Natural Questions", "Unlike SQuAD, the questions are real searches."),
            (4, "Unrelated", "Pictures of cats; squad cars; SQuADs."),
        ]
    )
    assert counts == {1: 2, 2: 0, 3: 0, 4: 0}


def test_multi_word_titles_match_as_a_word_sequence_in_their_case():
    counts = _count(
        [
            (1, "Visual Genome", "Objects, attributes and relationships in images."),
            (2, "VG-QA", "Questions over the Visual Genome scene graphs."),
            (3, "Other", "A visual genome of plants is a different thing; so is Visual-Genome."),
            (4, "PASCAL VOC 2012", "Segmentation masks."),
            (5, "Fine seg", "Built on PASCAL VOC 2012 images, not PASCAL VOC 2007."),
        ]
    )
    assert counts[1] == 2  # the hyphenated spelling is the same words
    assert counts[4] == 1


def test_ordinary_words_are_not_names():
    counts = _count(
        [
            (1, "text", "Plain text."),  # an all-lowercase single word: never a name
            (2, "Images", "Images of things."),  # used as a word far more than as a name
            (3, "A", "text text text; Images of cats."),
            (4, "B", "more text, images and images and images."),
            (5, "C", "These images come from Images."),
            (6, "D", "Labelled images of dogs."),
        ]
    )
    assert counts[1] == 0 and counts[2] == 0


def test_refresh_stores_counts_and_a_rerun_changes_nothing(store):
    rows = [
        ds("huggingface", "org/coco", "COCO", "Common objects in context."),
        ds("huggingface", "org/refcoco", "RefCOCO", "Referring expressions for COCO images."),
        ds("kaggle", "someone/coco-captions", "Captions", "Captions of COCO pictures, a COCO subset."),
        ds("kaggle", "someone/gone", "Gone", "Also mentions COCO.", is_active=False),
    ]
    store.upsert_datasets(rows)
    first = refresh_reference_counts(store)
    assert (first.datasets, first.referenced, first.changed) == (3, 1, 1)  # unset (NULL) already means 0
    with store.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(datasets.c.external_id, datasets.c.reference_count)).all())
    assert stored == {"org/coco": 2, "org/refcoco": None, "someone/coco-captions": None, "someone/gone": None}
    assert refresh_reference_counts(store).changed == 0
    store.upsert_datasets([dict(rows[2], description="Captions of everyday pictures.")])
    assert refresh_reference_counts(store).changed == 1
    store.upsert_datasets([dict(rows[1], description="Referring expressions for everyday pictures.")])
    assert refresh_reference_counts(store).changed == 1  # down to 0
    with store.engine.connect() as conn:
        assert (
            conn.execute(sa.select(datasets.c.reference_count).where(datasets.c.external_id == "org/coco")).scalar()
            == 0
        )
