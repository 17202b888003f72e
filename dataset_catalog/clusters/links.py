"""Whether two catalog rows hold the same data, with the evidence for it, strongest first.

Each kind of evidence has a strength (the chance it alone is right); a pair's confidence is
1 - prod(1 - strength), and a link needs LINK_CONFIDENCE. Names that disagree veto weaker
evidence: "Fashion-MNIST" citing MNIST's page, or "SQuAD 2.0" sharing SQuAD's paper, is a
relative, not a copy. Text similarity never links alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from dataset_catalog.clusters.names import names_agree
from dataset_catalog.clusters.signals import RowSignals

LINK_CONFIDENCE = 0.9
SIMILAR_TEXT = 0.80  # cosine of the embedding texts from which similarity counts as (weak) evidence
MIN_ROWS_EVIDENCE = 20  # equal row counts below this say little
STRENGTH = {
    "reference": 0.95,  # one row names the other's page or DOI
    "paperswithcode": 0.9,  # the same Papers with Code dataset
    "name": 0.75,
    "near name": 0.5,  # one name adds only a number or words the other row uses ("mnist 784")
    "origin": 0.6,  # both name the same data address outside the catalogs (the author's page)
    "paper": 0.5,  # both cite the same DOI
    "rows": 0.6,
    "columns": 0.6,
    "text": 0.5,  # at SIMILAR_TEXT; more above it
}
STRONG = frozenset({"reference", "paperswithcode"})


class Evidence(NamedTuple):
    kind: str
    detail: str
    strength: float


@dataclass(frozen=True)
class PairDecision:
    confidence: float
    evidence: tuple[Evidence, ...]  # strongest first
    linked: bool


@dataclass(frozen=True)
class RowFacts:
    """What the decision reads of one row: its signals and its names (clusters/names.py)."""

    signals: RowSignals
    names: frozenset[frozenset[str]]
    words: frozenset[str] = frozenset()  # the words of its title and description (names.text_words)


def _name_conflict(a: RowFacts, b: RowFacts) -> str | None:
    """None when the names agree (or either has none); "soft" when one name only adds words the
    other row uses itself ("Iris Species" for a row about iris species) or a number ("mnist 784");
    "hard" when a word tells them apart ("Fashion MNIST", "Spaceship Titanic", "CIFAR 10 / 100")."""
    if not a.names or not b.names or names_agree(set(a.names), set(b.names)):
        return None
    for x in a.names:
        for y in b.names:
            if x <= y and all(t[0].isdigit() or t in a.words for t in y - x):
                return "soft"
            if y <= x and all(t[0].isdigit() or t in b.words for t in x - y):
                return "soft"
    return "hard"


def decide(a: RowFacts, b: RowFacts, similarity: float | None = None) -> PairDecision:
    """The evidence that `a` and `b` are copies of one dataset, and whether it links them."""
    sa, sb = a.signals, b.signals
    evidence: list[Evidence] = []
    cited = sorted((sa.own & sb.cited) | (sb.own & sa.cited))
    if cited:
        evidence.append(Evidence("reference", f"names {cited[0]}", STRENGTH["reference"]))
    if sa.paperswithcode and sa.paperswithcode == sb.paperswithcode:
        evidence.append(Evidence("paperswithcode", sa.paperswithcode, STRENGTH["paperswithcode"]))
    conflict = _name_conflict(a, b)
    if a.names and b.names and conflict is None:
        evidence.append(Evidence("name", "same name", STRENGTH["name"]))
    elif conflict == "soft":
        evidence.append(Evidence("name", "near name", STRENGTH["near name"]))
    origins = sorted(sa.origins & sb.origins)
    if origins:
        evidence.append(Evidence("origin", origins[0], STRENGTH["origin"]))
    papers = sorted(i for i in sa.cited & sb.cited if i.startswith("doi:"))
    if papers:
        evidence.append(Evidence("paper", papers[0], STRENGTH["paper"]))
    if sa.row_count and sa.row_count == sb.row_count and sa.row_count >= MIN_ROWS_EVIDENCE:
        evidence.append(Evidence("rows", f"{sa.row_count} rows", STRENGTH["rows"]))
    if len(sa.columns) >= 2 and len(sb.columns) >= 2:
        overlap = len(sa.columns & sb.columns) / len(sa.columns | sb.columns)
        if overlap >= 0.9:
            evidence.append(Evidence("columns", f"{len(sa.columns & sb.columns)} columns alike", STRENGTH["columns"]))
    if similarity is not None and similarity >= SIMILAR_TEXT:
        strength = min(0.7, STRENGTH["text"] + (similarity - SIMILAR_TEXT))
        evidence.append(Evidence("text", f"similarity {similarity:.2f}", round(strength, 3)))
    evidence.sort(key=lambda e: -e.strength)
    doubt = 1.0
    for item in evidence:
        doubt *= 1 - item.strength
    confidence = round(1 - doubt, 4)
    kinds = {e.kind for e in evidence}
    if conflict == "hard":  # a relative: only a named page plus agreeing data makes it a copy
        linked = bool(kinds & STRONG) and bool(kinds & {"rows", "columns"})
    elif conflict == "soft":  # a near name: a named page, or the data itself agreeing as well
        linked = bool(kinds & STRONG) or (bool(kinds & {"rows", "columns"}) and confidence >= LINK_CONFIDENCE)
    else:
        linked = confidence >= LINK_CONFIDENCE and kinds != {"text"}
    return PairDecision(confidence, tuple(evidence), linked)
