"""The keyword side of search on its own: exact ranked answers with filters, bounded work, and
what a read-only store (the search service) remembers between queries."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.keyword_index import FILTERED_WINDOW_FACTOR, ensure_keyword_index, keyword_candidates
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog_tests.fakes.corpus import HF, ds

ROWS = 240
TOKENS = ["weather", "stations"]


def weather_rows() -> list[dict]:
    """ROWS rows all matching TOKENS, better matches first (the words repeat in the title); every
    8th is a translation dataset, and only the three worst-ranked are summarization datasets."""
    rows = []
    for i in range(ROWS):
        repeats = " ".join(["weather stations"] * (1 + (ROWS - i) // 40))
        task = "summarization" if i >= ROWS - 3 else ("translation" if i % 8 == 0 else "text-classification")
        rows.append(
            ds(
                HF,
                f"org/weather-{i:03d}",
                f"{repeats} {i}",
                f"Readings from weather stations, set {i}.",
                task_categories=[task],
            )
        )
    return rows


@pytest.fixture
def weather(tmp_path) -> CatalogStore:
    with CatalogStore(f"sqlite:///{tmp_path / 'catalog.sqlite3'}") as store:
        store.upsert_datasets(weather_rows())
        ensure_keyword_index(store)
        yield store


def ranked_by_sql(store: CatalogStore, task: str, limit: int) -> list[int]:
    """The answer ranked over every match's row: what the keyword side must equal."""
    sql = (
        "SELECT d.id FROM datasets_fts JOIN datasets d ON d.id = datasets_fts.rowid "
        "WHERE datasets_fts MATCH :q AND d.is_active AND EXISTS (SELECT 1 FROM json_each(d.task_categories) WHERE value = :t) "
        "ORDER BY bm25(datasets_fts, 10.0, 4.0, 1.0, 2.0, 2.0), d.id LIMIT :n"
    )
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), {"q": '"weather" "stations"', "t": task, "n": limit}).scalars())


def statements(store: CatalogStore) -> list[str]:
    """Every statement the database receives from now on, with its parameters."""
    seen: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda _c, _k, sql, params, *_a: seen.append(f"{sql} {params}")
    )
    return seen


@pytest.mark.parametrize(("task", "reads_every_match"), [("translation", False), ("summarization", True)])
def test_filtered_keyword_answers_are_exact_and_read_every_match_only_when_the_best_fail(
    weather, task, reads_every_match
):
    limit = 5  # 8 x 5 = 40 best matches checked first: 5 translation rows among them, no summarization row
    seen = statements(weather)
    found = keyword_candidates(weather, TOKENS, SearchFilters(task=task), limit)
    joined = [s for s in seen if "JOIN datasets" in s]
    assert bool(joined) is reads_every_match, seen
    assert [i for i, _ in found] == ranked_by_sql(weather, task, limit)
    assert len(found) == (limit if task == "translation" else 3)


def test_an_understood_filter_is_looked_for_among_the_best_matches_only(weather):
    limit = 5
    best_only = FILTERED_WINDOW_FACTOR * limit
    filters = SearchFilters(task="summarization")  # its rows rank 238th-240th
    seen = statements(weather)
    assert keyword_candidates(weather, TOKENS, filters, limit, best_only=best_only) == []
    # More rows have both words than were looked at: rows with one of them are not looked for.
    assert not [s for s in seen if " OR " in s], seen
    assert [i for i, _ in keyword_candidates(weather, TOKENS, filters, limit, best_only=ROWS)] == ranked_by_sql(
        weather, "summarization", limit
    )


def test_a_read_only_store_counts_each_word_once(weather):
    weather.make_read_only()
    seen = statements(weather)
    keyword_candidates(weather, TOKENS, SearchFilters(), 5)
    counts = [s for s in seen if "count(*)" in s]
    assert len(counts) == len(TOKENS)
    seen.clear()
    keyword_candidates(weather, TOKENS, SearchFilters(task="translation"), 5)  # a new query with the same words
    assert not [s for s in seen if "count(*)" in s]
    assert seen, "the new query itself still ran"
    assert dict((t, c) for t, (_, c) in weather.token_counts.items()) == {"weather": ROWS, "stations": ROWS}


def test_read_only_sqlite_connections_read_through_a_memory_map(weather):
    weather.make_read_only()
    with weather.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA mmap_size")).scalar_one() > 0
        assert conn.execute(sa.text("PRAGMA query_only")).scalar_one() == 1
