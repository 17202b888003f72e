"""Whether two catalog rows hold the same data, with the evidence for it, strongest first.

Each kind of evidence has a strength (the chance it alone is right); a pair's confidence is
1 - prod(1 - strength), and a link needs LINK_CONFIDENCE. Names that conflict veto everything
but a named page with agreeing data: "Fashion-MNIST" citing MNIST's page, or "SQuAD 2.0" sharing
SQuAD's paper, is a relative, not a copy. Row counts far apart veto all but a named page (a
subset or a sample shares a name and an origin). Within one catalog a shared name says less: a
catalog holding two rows of one name mostly holds versions or variants. Text similarity never
links alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from dataset_catalog.clusters.names import name_relation
from dataset_catalog.clusters.signals import RowSignals

LINK_CONFIDENCE = 0.9
SIMILAR_TEXT = 0.80  # cosine of the embedding texts from which similarity counts as (weak) evidence
MIN_ROWS_EVIDENCE = 20  # equal row counts below this say little
ROWS_APART = 2.0  # row counts further apart than this factor are different data
APART_CONFIDENCE = 0.5  # a relative sharing this much evidence is stored as kept apart
LISTS_PAGES = 3  # a row citing more pages of one catalog than this is a collection listing them
STRENGTH = {
    "reference": 0.95,  # one row names the other's page or DOI
    "paperswithcode": 0.9,  # the same Papers with Code dataset
    "name": 0.75,
    "near name": 0.75,  # describing words added, or an abbreviation ("Adult Census Income", "wdbc")
    "name in one catalog": 0.5,
    "near name in one catalog": 0.4,
    "origin": 0.6,  # both name the same data address outside the catalogs (the author's page)
    "listed": 0.5,  # a collection's card lists the other's page among many
    "paper": 0.5,  # both cite the same DOI
    "rows": 0.6,
    "columns": 0.6,
    "text": 0.6,  # at SIMILAR_TEXT; more above it
}
DATA = frozenset({"rows", "columns"})


class Evidence(NamedTuple):
    kind: str
    detail: str
    strength: float


@dataclass(frozen=True)
class PairDecision:
    confidence: float
    evidence: tuple[Evidence, ...]  # strongest first
    linked: bool
    apart: bool = False  # different data that shares evidence: never to be clustered together


@dataclass(frozen=True)
class RowFacts:
    """What the decision reads of one row: its signals and its names (clusters/names.py)."""

    signals: RowSignals
    names: frozenset[frozenset[str]]
    words: frozenset[str] = frozenset()  # the words of its title and description (names.text_words)


def _catalogs(signals: RowSignals) -> set[str]:
    return {i.split(":", 1)[0] for i in signals.own if not i.startswith("doi:")}


def _named(citing: RowSignals, cited: RowSignals) -> str | None:
    """The kind of evidence when `citing` names a page of `cited`: "reference", or "listed" when
    `citing` names many pages of that catalog (a benchmark's card listing its parts)."""
    hits = sorted(citing.cited & cited.own)
    if not hits:
        return None
    per_catalog = Counter(i.split(":", 1)[0] for i in citing.cited)
    return "listed" if per_catalog[hits[0].split(":", 1)[0]] > LISTS_PAGES else "reference"


def decide(a: RowFacts, b: RowFacts, similarity: float | None = None) -> PairDecision:
    """The evidence that `a` and `b` are copies of one dataset, and whether it links them."""
    sa, sb = a.signals, b.signals
    evidence: list[Evidence] = []
    named = {_named(sa, sb), _named(sb, sa)} - {None}
    cited = sorted((sa.own & sb.cited) | (sb.own & sa.cited))
    if named:
        kind = "reference" if "reference" in named else "listed"
        evidence.append(Evidence(kind, f"names {cited[0]}", STRENGTH[kind]))
    if sa.paperswithcode and sa.paperswithcode == sb.paperswithcode:
        evidence.append(Evidence("paperswithcode", sa.paperswithcode, STRENGTH["paperswithcode"]))
    relation = name_relation(a.names, a.words, b.names, b.words)
    one_catalog = bool(_catalogs(sa) & _catalogs(sb))
    if relation in ("same", "near"):
        label = ("name" if relation == "same" else "near name") + (" in one catalog" if one_catalog else "")
        detail = ("same name" if relation == "same" else "near name") + (" in one catalog" if one_catalog else "")
        evidence.append(Evidence("name", detail, STRENGTH[label]))
    origins = sorted(sa.origins & sb.origins)
    if origins:
        evidence.append(Evidence("origin", origins[0], STRENGTH["origin"]))
    papers = sorted(i for i in sa.cited & sb.cited if i.startswith("doi:"))
    if papers:
        evidence.append(Evidence("paper", papers[0], STRENGTH["paper"]))
    counts = (sa.row_count or 0, sb.row_count or 0)
    rows_apart = min(counts) >= MIN_ROWS_EVIDENCE and max(counts) > ROWS_APART * min(counts)
    if sa.row_count and sa.row_count == sb.row_count and sa.row_count >= MIN_ROWS_EVIDENCE:
        evidence.append(Evidence("rows", f"{sa.row_count} rows", STRENGTH["rows"]))
    if len(sa.columns) >= 2 and len(sb.columns) >= 2:
        overlap = len(sa.columns & sb.columns) / len(sa.columns | sb.columns)
        if overlap >= 0.9:
            evidence.append(Evidence("columns", f"{len(sa.columns & sb.columns)} columns alike", STRENGTH["columns"]))
    if similarity is not None and similarity >= SIMILAR_TEXT:
        strength = min(0.75, STRENGTH["text"] + (similarity - SIMILAR_TEXT))
        evidence.append(Evidence("text", f"similarity {similarity:.2f}", round(strength, 3)))
    evidence.sort(key=lambda e: -e.strength)
    doubt = 1.0
    for item in evidence:
        doubt *= 1 - item.strength
    confidence = round(1 - doubt, 4)
    kinds = {e.kind for e in evidence}
    if relation == "conflict":  # a relative: only a named page plus agreeing data makes it a copy
        linked = "reference" in kinds and bool(kinds & DATA) and not rows_apart
    elif rows_apart:  # a subset or a sample: only a named page makes it a copy
        linked = "reference" in kinds
    else:
        linked = confidence >= LINK_CONFIDENCE and kinds != {"text"}
    # Only pairs with some evidence in common are kept apart: those are what a chain could join.
    apart = not linked and (relation == "conflict" or rows_apart) and confidence >= APART_CONFIDENCE
    return PairDecision(confidence, tuple(evidence), linked, apart)
