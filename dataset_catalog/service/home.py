"""The home page's content: example searches that find something in this catalog, what there is
to browse (task, modality, language, source, with counts), what changed lately, and each
source's coverage and freshness. Worked out once and refreshed in the background every
HOME_TTL_SECONDS: it reads every active row's facet columns, which costs seconds at 500k rows."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from dataset_catalog.catalog.browse import active_facet_rows, recently_updated, source_freshness
from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.search.facets import facet_counts
from dataset_catalog.search.finder import SearchRequest, find
from dataset_catalog.search.records import aware, record_from_row

HOME_TTL_SECONDS = 600.0
BROWSE_FACETS = ("task", "modality", "language", "source")
BROWSE_BUCKETS = 10
SHOWN_EXAMPLES = 6
# Searches a finder might try first, across kinds of data; only those with a good match in this
# catalog are shown, so the page never suggests a search that comes back empty.
EXAMPLE_QUERIES = (
    "movie reviews for sentiment analysis",
    "German named entity recognition",
    "handwritten digits",
    "speech recognition in Spanish",
    "question answering over Wikipedia",
    "chest x-ray images",
    "customer churn tabular data",
    "machine translation English to French",
    "code generation benchmark",
    "house prices regression",
    "news articles classification",
    "medical question answering",
)

_lock = threading.Lock()
log = logging.getLogger("dataset_catalog.service")


def home_page(app) -> dict[str, Any]:
    """The home page's content for the app's catalog. Worked out on the first visit; once older
    than HOME_TTL_SECONDS it is still served while one background thread works out the next, so
    no visitor after the first waits for it."""
    cached = getattr(app.state, "home", None)
    if cached is None:
        with _lock:  # the first visitors wait for one computation rather than each doing it
            cached = getattr(app.state, "home", None)
            if cached is None:
                cached = app.state.home = {"at": time.monotonic(), "content": build_home(app.state.catalog)}
    elif time.monotonic() - cached["at"] >= HOME_TTL_SECONDS and _lock.acquire(blocking=False):
        threading.Thread(target=_refresh, args=(app,), name="home-refresh", daemon=True).start()
    return cached["content"]


def _refresh(app) -> None:
    try:
        app.state.home = {"at": time.monotonic(), "content": build_home(app.state.catalog)}
    except Exception:  # the old content stays; the next stale visit tries again
        log.exception("Could not refresh the home page's content")
    finally:
        _lock.release()


def _working_examples(catalog) -> list[str]:
    found = []
    for query in EXAMPLE_QUERIES:
        page = find(catalog.store, SearchRequest(query, limit=1), encoder=catalog.encoder, model=catalog.model)
        if page.good_matches:
            found.append(query)
        if len(found) == SHOWN_EXAMPLES:
            break
    return found


def build_home(catalog) -> dict[str, Any]:
    store = catalog.store
    sources = catalog_summary(store, catalog.model).per_source()
    facets = facet_counts(active_facet_rows(store), {})
    freshness = source_freshness(store)
    coverage = [
        {
            "source": source,
            "active": stats["active"],
            "newest_change": aware(freshness.get(source, {}).get("newest_change")),
            "catalog_written": aware(freshness.get(source, {}).get("catalog_written")),
        }
        for source, stats in sources.items()
    ]
    return {
        "examples": _working_examples(catalog) if sources else [],
        "browse": {
            name: [b for b in facets[name] if b.value not in ("unknown",)][:BROWSE_BUCKETS] for name in BROWSE_FACETS
        },
        "recent": [record_from_row(row) for row in recently_updated(store, list(sources))],
        "coverage": coverage,
        "total": sum(c["active"] for c in coverage),
    }
