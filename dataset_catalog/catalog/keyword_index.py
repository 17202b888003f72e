"""The keyword index (FTS5 / tsvector) and the keyword side of search: ranked candidate ids.

The index is kept in sync by the database itself so every writer (source syncs, enrichment)
updates it incrementally:
- SQLite: an external-content FTS5 table `datasets_fts` over the text columns of `datasets`,
  maintained by AFTER INSERT/UPDATE/DELETE triggers (porter stemming, diacritics folded).
- PostgreSQL: a stored generated `search_tsv` tsvector column on `datasets` (title weight A,
  subtitle B, tags and task categories C, description D) with a GIN index.
User text never becomes SQL: tokens travel as bind parameters (PostgreSQL: one
plainto_tsquery per token; SQLite: an FTS5 query of double-quoted tokens, itself a parameter).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.search_queries import SearchFilters, filter_clauses
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.errors import CatalogConfigError

FTS_COLUMNS = ("title", "subtitle", "description", "tags", "task_categories")
BM25_WEIGHTS = "10.0, 4.0, 1.0, 2.0, 2.0"  # title, subtitle, description, tags, task categories
_SQLITE_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS datasets_fts USING fts5("
    + ", ".join(FTS_COLUMNS)
    + ", content='datasets', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS datasets_fts_ai AFTER INSERT ON datasets BEGIN "
    "INSERT INTO datasets_fts(rowid, {cols}) VALUES (new.id, {new}); END",
    "CREATE TRIGGER IF NOT EXISTS datasets_fts_ad AFTER DELETE ON datasets BEGIN "
    "INSERT INTO datasets_fts(datasets_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
    "CREATE TRIGGER IF NOT EXISTS datasets_fts_au AFTER UPDATE OF {cols} ON datasets BEGIN "
    "INSERT INTO datasets_fts(datasets_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
    "INSERT INTO datasets_fts(rowid, {cols}) VALUES (new.id, {new}); END",
]
_PG_TSV = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(subtitle, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(tags::text, '') || ' ' || coalesce(task_categories::text, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)


def ensure_keyword_index(store: CatalogStore) -> None:
    """Create the keyword index (and fill it from existing rows) if missing; checked once per store."""
    if store.keyword_index_ready:
        return
    if store.server_read_only:  # a read replica: its primary's writer creates the index
        _check_keyword_index(store)
        store.keyword_index_ready = True
        return
    with store.lock, store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7426005)"))
            conn.execute(
                sa.text(
                    f"ALTER TABLE datasets ADD COLUMN IF NOT EXISTS search_tsv tsvector GENERATED ALWAYS AS ({_PG_TSV}) STORED"
                )
            )
            conn.execute(
                sa.text("CREATE INDEX IF NOT EXISTS ix_datasets_search_tsv ON datasets USING gin (search_tsv)")
            )
        else:
            existed = conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'datasets_fts'")).first()
            cols = ", ".join(FTS_COLUMNS)
            fmt = {
                "cols": cols,
                "new": ", ".join(f"new.{c}" for c in FTS_COLUMNS),
                "old": ", ".join(f"old.{c}" for c in FTS_COLUMNS),
            }
            for ddl in _SQLITE_FTS_DDL:
                conn.execute(sa.text(ddl.format(**fmt)))
            if not existed:
                conn.execute(sa.text("INSERT INTO datasets_fts(datasets_fts) VALUES ('rebuild')"))
    store.keyword_index_ready = True


def _check_keyword_index(store: CatalogStore) -> None:
    with store.engine.connect() as conn:
        column = conn.execute(
            sa.text(
                "SELECT 1 FROM pg_attribute WHERE attrelid = 'datasets'::regclass "
                "AND attname = 'search_tsv' AND NOT attisdropped"
            )
        ).first()
    if column is None:
        raise CatalogConfigError(
            f"The catalog database {store.display_url} is read-only (a hot standby or read-only server) and has "
            "no keyword index (datasets.search_tsv) yet. Materialize dataset_embeddings against the primary "
            "first, which creates it, wait for the replica to replay it, then start this again."
        )


# Ranking every match of a very common word costs ~1 us per match (bm25/ts_rank), so the
# keyword side bounds its work: documents matching ALL tokens first (at most as many as the
# rarest token has), then, if that is short, ANY of the rarer tokens within a match budget.
# Words more common than DF_CAP add little to bm25 anyway; the semantic side still sees them.
# ts_rank costs ~5x bm25 per row, so PostgreSQL gets the smaller budget. SQLite's went from
# 20k/30k to 10k/15k for the search service (100k synthetic catalog, keyword top-100: p50 24.6 ->
# ~12 ms, p95 52 -> ~25 ms); catalogs under 10k rows are ranked exactly as before.
DF_CAP = {"sqlite": 10_000, "postgresql": 10_000}
OR_MATCH_BUDGET = {"sqlite": 15_000, "postgresql": 12_000}


def _document_frequencies(conn: sa.Connection, store: CatalogStore, tokens: Sequence[str]) -> dict[str, int]:
    """Matching rows per token (at most DF_CAP + 1 when counted). SQLite: counted, an FTS doclist walk that
    stops early (~1 ms). PostgreSQL: estimated from ANALYZE's lexeme statistics (counting there
    visits heap rows: ~200 ms); tokens that are English stopwords for PostgreSQL are left out."""
    if store.dialect == "postgresql":
        estimates = _pg_estimated_frequencies(conn, store, tokens)
        if estimates is not None:
            return estimates
        tokens = [t for t in tokens if _pg_lexemes(conn, [t])[t]]
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM datasets WHERE search_tsv @@ plainto_tsquery('english', :t) "
            f"LIMIT {DF_CAP[store.dialect] + 1}) AS m"
        )
        return {t: conn.execute(sa.text(sql), {"t": t}).scalar_one() for t in tokens}
    sql = f"SELECT count(*) FROM (SELECT 1 FROM datasets_fts WHERE datasets_fts MATCH :q LIMIT {DF_CAP[store.dialect] + 1})"
    if not store.read_only:
        return {t: conn.execute(sa.text(sql), {"q": _fts_phrase(t)}).scalar_one() for t in tokens}
    # A read-only store (the search service) remembers counts: unseen queries share most words.
    now, counts = time.monotonic(), {}
    for token in tokens:
        cached = store.token_counts.get(token)
        if cached is None or cached[0] <= now:
            cached = (
                now + KEYWORD_RESULTS_TTL_SECONDS,
                conn.execute(sa.text(sql), {"q": _fts_phrase(token)}).scalar_one(),
            )
            with _results_lock:
                store.token_counts[token] = cached
                while len(store.token_counts) > TOKEN_COUNTS_CACHED:
                    store.token_counts.popitem(last=False)
        counts[token] = cached[1]
    return counts


def _pg_lexemes(conn: sa.Connection, tokens: Sequence[str]) -> dict[str, list[str]]:
    rows = conn.execute(
        sa.text("SELECT t, tsvector_to_array(to_tsvector('english', t)) FROM unnest(CAST(:tokens AS text[])) AS t"),
        {"tokens": list(tokens)},
    )
    return {t: list(lexemes or []) for t, lexemes in rows}


PG_STATS_TTL_SECONDS = 600


def _pg_estimated_frequencies(conn: sa.Connection, store: CatalogStore, tokens: Sequence[str]) -> dict[str, int] | None:
    """df estimates from pg_stats (most common lexemes of search_tsv); None before any ANALYZE.
    A lexeme missing from the statistics is rarer than every listed one: estimated as 1.
    The statistics are kept on the store (`word_statistics`) for PG_STATS_TTL_SECONDS."""
    cached = store.word_statistics
    if cached is None or cached[0] < time.monotonic():
        row = conn.execute(
            sa.text(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
                "FROM pg_stats s JOIN pg_class c ON c.oid = 'datasets'::regclass "
                "WHERE s.schemaname = current_schema() AND s.tablename = 'datasets' AND s.attname = 'search_tsv'"
            )
        ).first()
        if row is None or row[0] is None:
            return None
        cached = (time.monotonic() + PG_STATS_TTL_SECONDS, float(row[2]), dict(zip(row[0], row[1], strict=False)))
        store.word_statistics = cached
    _, reltuples, frequencies = cached
    out = {}
    for token, lexemes in _pg_lexemes(conn, tokens).items():
        if lexemes:  # no lexeme = a PostgreSQL stopword: it can match nothing
            out[token] = max(1, int(max(frequencies.get(lexeme, 0.0) for lexeme in lexemes) * reltuples))
    return out


def _fts_phrase(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'  # a quoted FTS5 string: never an operator


def _ranked_matches(
    conn: sa.Connection,
    store: CatalogStore,
    tokens: Sequence[str],
    mode: str,
    filters: SearchFilters,
    limit: int,
    best_only: int | None = None,
) -> tuple[list[tuple[int, float]], bool]:
    """(the best `limit` matches passing the filters, whether every match was looked at)."""
    if store.dialect == "postgresql":
        binds = [sa.bindparam(f"kw{i}", token) for i, token in enumerate(tokens)]
        joiner = " && " if mode == "all" else " || "
        tsquery = joiner.join(f"plainto_tsquery('english', :kw{i})" for i in range(len(tokens)))
        kwq = sa.text(f"SELECT {tsquery} AS q").bindparams(*binds).columns(sa.column("q")).subquery("kwq")
        tsv = sa.literal_column("datasets.search_tsv")
        score = sa.func.ts_rank(tsv, kwq.c.q, 1).label("score")
        stmt = (
            sa.select(datasets.c.id, score)
            .select_from(datasets)
            .join(kwq, sa.true())
            .where(tsv.op("@@")(kwq.c.q), *filter_clauses(store, filters))
            .order_by(score.desc(), datasets.c.id)
            .limit(limit)
        )
        return [(r[0], float(r[1])) for r in conn.execute(stmt)], True
    match = (" " if mode == "all" else " OR ").join(_fts_phrase(t) for t in tokens)
    fts = sa.table("datasets_fts", sa.column("rowid"))
    score = sa.literal_column(f"bm25(datasets_fts, {BM25_WEIGHTS})").label("score")
    # Rank in the FTS index alone, then read the rows of the best matches only to check "active"
    # and the filters, instead of visiting the row of every match (500k catalog, 8k matches:
    # unfiltered 38 -> 14 ms, filtered ~32 -> ~18 ms). Exact whenever `limit` of the window pass
    # or the window holds every match: no match outside it ranks better.
    window = 2 * limit if filters == SearchFilters() else FILTERED_WINDOW_FACTOR * limit
    if best_only is not None:
        window = max(window, best_only)
    ranked = conn.execute(
        sa.select(fts.c.rowid, score)
        .where(sa.literal_column("datasets_fts").op("MATCH")(sa.bindparam("fts_query", match)))
        .order_by(sa.literal_column("score"), fts.c.rowid)
        .limit(window)
    ).all()
    found: list[tuple[int, float]] = []
    for start in range(0, len(ranked), CHECK_CHUNK):
        chunk = ranked[start : start + CHECK_CHUNK]
        passing = set(
            conn.execute(
                sa.select(datasets.c.id).where(
                    in_list(conn, datasets.c.id, [r[0] for r in chunk]), *filter_clauses(store, filters)
                )
            ).scalars()
        )
        # bm25 is "lower is better" (negative): flip so every backend reports higher = better.
        found += [(r[0], -float(r[1])) for r in chunk if r[0] in passing]
        if len(found) >= limit:
            return found[:limit], len(ranked) < window
    if len(ranked) < window or best_only is not None:
        return found, len(ranked) < window
    # Too few of the best matches pass a selective filter: every match's row, ranked in SQL.
    stmt = (
        sa.select(datasets.c.id, score)
        .select_from(fts.join(datasets, datasets.c.id == fts.c.rowid))
        .where(sa.literal_column("datasets_fts").op("MATCH")(sa.bindparam("fts_query", match)))
        .where(*filter_clauses(store, filters))
        .order_by(sa.literal_column("score"), datasets.c.id)
        .limit(limit)
    )
    return [(r[0], -float(r[1])) for r in conn.execute(stmt)], True


FILTERED_WINDOW_FACTOR = 8  # with filters, the best 8 x limit matches are checked before all of them
CHECK_CHUNK = 800  # rows read per check: a short window stops early, a long one reads no more than needed


def keyword_candidates(
    store: CatalogStore, tokens: Sequence[str], filters: SearchFilters, limit: int, best_only: int | None = None
) -> list[tuple[int, float]]:
    """(dataset id, keyword score) best first: rows with every token, then rows with any of the
    rarer tokens (bm25 on SQLite, ts_rank on PostgreSQL). `best_only`: on SQLite, look for rows
    passing the filters among about that many best matches only (None: among all of them)."""
    if not tokens:
        return []
    ensure_keyword_index(store)
    if not store.read_only:
        return _keyword_candidates(store, tokens, filters, limit, best_only)
    # A read-only store (the search service) remembers recent answers: paging through results
    # and sorting them repeat the same keyword query. Other processes' writes show after at most
    # KEYWORD_RESULTS_TTL_SECONDS.
    key = (tuple(tokens), filters, limit, best_only)
    now = time.monotonic()
    with _results_lock:
        cached = store.keyword_results.get(key)
        if cached is not None and cached[0] > now:
            store.keyword_results.move_to_end(key)
            return cached[1]
    found = _keyword_candidates(store, tokens, filters, limit, best_only)
    with _results_lock:
        store.keyword_results[key] = (now + KEYWORD_RESULTS_TTL_SECONDS, found)
        while len(store.keyword_results) > KEYWORD_RESULTS_CACHED:
            store.keyword_results.popitem(last=False)
    return found


KEYWORD_RESULTS_TTL_SECONDS = 30.0
KEYWORD_RESULTS_CACHED = 512
TOKEN_COUNTS_CACHED = 20_000
_results_lock = threading.Lock()  # not store.lock: that one is held while vectors load


def _keyword_candidates(
    store: CatalogStore, tokens: Sequence[str], filters: SearchFilters, limit: int, best_only: int | None
) -> list[tuple[int, float]]:
    with store.engine.connect() as conn:
        df = _document_frequencies(conn, store, tokens)
        tokens = [t for t in tokens if t in df]  # PostgreSQL drops its own stopwords
        present = sorted((t for t in tokens if df[t] > 0), key=lambda t: df[t])
        if not present:
            return []
        found: list[tuple[int, float]] = []
        complete = True
        cap, budget_left = DF_CAP[store.dialect], OR_MATCH_BUDGET[store.dialect]
        if len(present) == len(tokens) and df[present[0]] <= cap:
            found, complete = _ranked_matches(conn, store, tokens, "all", filters, limit, best_only)
        # Looking among the best matches only, and more rows have every word than were looked
        # at: rows with only some of the words mostly rank below those (500k: ~15 ms a query saved).
        if len(found) < limit and complete:
            rare, budget = [], 0
            for token in present:
                if df[token] > cap or budget + df[token] > budget_left:
                    break
                rare.append(token)
                budget += df[token]
            if rare and (len(rare) > 1 or len(tokens) > 1 or not found):
                seen = {i for i, _ in found}
                more, _ = _ranked_matches(conn, store, rare, "any", filters, limit, best_only)
                found += [(i, s) for i, s in more if i not in seen][: limit - len(found)]
    return found


def refresh_statistics(store: CatalogStore) -> None:
    """Planner statistics after a bulk load (PostgreSQL's autovacuum does this on its own later);
    keyword search reads word frequencies from them."""
    with store.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE datasets" if store.dialect == "postgresql" else "PRAGMA optimize"))
