"""How many other datasets mention a dataset by name: the catalog's own citation count.

Papers, cards and descriptions name the datasets they build on ("images from COCO", "a SQuAD-style
reading test"), so a dataset that many others mention is one people use: the same idea as
counting links to a page. Search adds a prior from it (search/ranking.py); it matters most
where a source reports no downloads or likes.

A mention is the dataset's title as a sequence of words (letters and digits; case as written),
counted once per mentioning dataset, the dataset itself and namesakes excluded. A title that is
an ordinary word is not a name: a single all-lowercase word is never counted ("text"), and a title
whose lowercase form appears in more descriptions than the title itself ("Images" vs "images",
"Visual Question Answering" vs "visual question answering") is skipped.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.references import (
    iter_reference_descriptions,
    read_reference_titles,
    write_reference_counts,
)

_WORD = re.compile(r"[^\W_]+")
MIN_TITLE_CHARS = 3
MAX_TITLE_WORDS = 8


def _title_key(title: str | None) -> tuple[str, ...] | None:
    if not title or len(title.strip()) < MIN_TITLE_CHARS:
        return None
    words = tuple(_WORD.findall(title))
    if not words or len(words) > MAX_TITLE_WORDS or not any(c.isalpha() for c in title):
        return None
    if len(words) == 1 and words[0].islower():
        return None  # "text", "wiki": cannot tell a name from a word
    return words


class _PhraseIndex:
    """Word sequences to find, looked up by their first word."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]):
        self.lengths: dict[str, set[int]] = defaultdict(set)
        self.phrases = set(phrases)
        for p in self.phrases:
            self.lengths[p[0]].add(len(p))

    def found_in(self, words: list[str]) -> set[tuple[str, ...]]:
        found = set()
        lengths, phrases = self.lengths, self.phrases
        for i, word in enumerate(words):
            for n in lengths.get(word, ()):
                candidate = tuple(words[i : i + n])
                if candidate in phrases:
                    found.add(candidate)
        return found


def count_references(
    titles: Iterable[tuple[int, str | None]], descriptions: Iterable[tuple[int, str | None]]
) -> dict[int, int]:
    """Per dataset id of `titles`, how many datasets' `descriptions` mention its title (its own
    and its namesakes' excluded). `descriptions` is read once, so it may be a stream."""
    owners: dict[tuple[str, ...], list[int]] = defaultdict(list)
    own_key: dict[int, tuple[str, ...] | None] = {}
    for dataset_id, title in titles:
        key = own_key[dataset_id] = _title_key(title)
        if key:
            owners[key].append(dataset_id)
    exact = _PhraseIndex(owners)
    lowered = _PhraseIndex({tuple(w.lower() for w in k) for k in owners if any(not w.islower() for w in k)})
    mentioned_by: dict[tuple[str, ...], int] = defaultdict(int)
    lowercase_uses: dict[tuple[str, ...], int] = defaultdict(int)
    for dataset_id, description in descriptions:
        words = _WORD.findall(description or "")
        own = own_key.get(dataset_id)
        for key in exact.found_in(words):
            if key != own:
                mentioned_by[key] += 1
        for key in lowered.found_in(words):
            lowercase_uses[key] += 1
    counts = dict.fromkeys(own_key, 0)
    for key, ids in owners.items():
        uses = mentioned_by.get(key, 0)
        if uses and lowercase_uses.get(tuple(w.lower() for w in key), 0) <= uses:
            for dataset_id in ids:
                counts[dataset_id] = uses
    return counts


@dataclass(frozen=True)
class ReferenceReport:
    datasets: int  # active datasets read
    referenced: int  # of those, mentioned by at least one other
    changed: int  # rows whose stored count changed
    seconds: float


def refresh_reference_counts(store: CatalogStore) -> ReferenceReport:
    """Recount every active dataset's mentions and store the counts that changed."""
    started = time.perf_counter()
    counts = count_references(read_reference_titles(store), iter_reference_descriptions(store))
    changed = write_reference_counts(store, counts)
    referenced = sum(1 for c in counts.values() if c > 0)
    return ReferenceReport(len(counts), referenced, changed, round(time.perf_counter() - started, 2))
