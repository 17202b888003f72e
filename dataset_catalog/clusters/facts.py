"""One row's facts for duplicate decisions, as stored between runs, and the blocking keys that
choose which rows are compared at all.

A run reads a changed row once (its texts can be large), keeps what `links.decide` needs as a
small JSON document, and compares it with the rows sharing a blocking key: a normalised name, a
word of a name, or an identifier it owns or cites. Rows that share nothing are never compared,
so a run costs what changed, not the catalog's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dataset_catalog.clusters.links import RowFacts
from dataset_catalog.clusters.names import name_key, row_phrases, text_words
from dataset_catalog.clusters.signals import RowSignals, row_signals

# The columns a row's facts are read from.
FACT_COLUMNS = (
    "id",
    "external_id",
    "title",
    "subtitle",
    "url",
    "description",
    "citation",
    "source_meta",
    "row_count",
    "column_names",
)
MAX_WORDS = 400  # the first distinct words of a row's title and description, for near names
MAX_COLUMNS = 200
MAX_KEYS = 40  # per row: a card citing hundreds of pages blocks on the first of them
MAX_KEY_LENGTH = 250


def row_facts(row: Mapping[str, Any]) -> RowFacts:
    """The facts of one catalog row (a dict with FACT_COLUMNS)."""
    return RowFacts(
        signals=row_signals(row),
        names=frozenset(row_phrases(row.get("title"), row.get("external_id"))),
        words=text_words(row.get("title"), row.get("subtitle"), row.get("description"), limit=MAX_WORDS),
    )


def facts_to_json(facts: RowFacts) -> dict[str, Any]:
    s = facts.signals
    return {
        "own": sorted(s.own),
        "cited": sorted(s.cited),
        "origins": sorted(s.origins),
        "pwc": s.paperswithcode,
        "rows": s.row_count,
        "columns": sorted(s.columns)[:MAX_COLUMNS],
        "names": sorted(list(n) for n in facts.names),  # each in its order: the leading word counts
        "words": sorted(facts.words),
    }


def facts_from_json(row_id: int, value: Mapping[str, Any]) -> RowFacts:
    signals = RowSignals(
        row_id=row_id,
        own=frozenset(value.get("own") or ()),
        cited=frozenset(value.get("cited") or ()),
        origins=frozenset(value.get("origins") or ()),
        paperswithcode=value.get("pwc"),
        row_count=value.get("rows"),
        columns=frozenset(value.get("columns") or ()),
    )
    names = frozenset(tuple(n) for n in value.get("names") or ())
    return RowFacts(signals=signals, names=names, words=frozenset(value.get("words") or ()))


def blocking_keys(facts: RowFacts) -> list[str]:
    """The keys under which a row meets its candidates: "n:" a whole name, "w:" a name's word
    (letters, so "mnist 784" meets "mnist"; numbers alone block nothing), "i:" an identifier it
    owns or cites (a row citing a page meets that page's row), "p:" its Papers with Code id,
    "o:" a data address outside the catalogs."""
    s = facts.signals
    keys = {f"n:{name_key(n)}" for n in facts.names}
    keys |= {f"w:{t}" for n in facts.names for t in n if not t[0].isdigit() and len(t) > 1}
    keys |= {f"i:{i}" for i in s.own | s.cited}
    keys |= {f"o:{o}" for o in s.origins}
    if s.paperswithcode:
        keys.add(f"p:{s.paperswithcode}")
    # Names and own identifiers first: they are what a copy shares; cited pages can be many.
    own = {f"i:{i}" for i in s.own}
    ordered = sorted(keys, key=lambda k: (0 if k[0] in "nwp" else 1 if k in own else 2, k))
    return [k for k in ordered if len(k) <= MAX_KEY_LENGTH][:MAX_KEYS]
