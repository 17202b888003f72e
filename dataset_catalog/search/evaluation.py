"""Measuring search on judged queries: hit@5, recall@5, MRR@10 and nDCG@10 over a judgments
file, with every query's ranks kept for inspection (what Elasticsearch's ranking-evaluation API
does for a search team).

Judgments: a JSON list of {"query": ..., "keyphrase": ... (optional), "relevant": [ids]}, the
format of the DataFinder development set. An id is `source/external_id` when it starts with a
catalog source (`huggingface/stanfordnlp/imdb`), else an external id of any source
(`pwc/SQuAD`). Queries without relevant ids are skipped (their judged dataset is not in the
corpus), as the metrics are means over queries with at least one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.encoder import Encoder
from dataset_catalog.errors import DatasetCatalogError
from dataset_catalog.search.finder import SearchRequest, find

K_HIT = 5
K_RECALL = 5
K_RANKED = 10
FIELDS = ("query", "keyphrase")


class JudgmentsError(DatasetCatalogError):
    """The judgments file cannot be read or has the wrong shape."""


@dataclass(frozen=True)
class Judgment:
    text: str
    relevant: frozenset[str]


@dataclass
class QueryOutcome:
    text: str
    relevant: list[str]
    found: list[str]  # the top K_RANKED ids, best first
    ranks: dict[str, int | None] = field(default_factory=dict)  # relevant id -> 1-based rank in `found`, None if absent

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.text, "relevant": self.relevant, "ranks": self.ranks, "top": self.found}


def load_judgments(path: str | Path, text_field: str) -> list[Judgment]:
    """The judged queries of `path` that have relevant ids, reading `text_field` (query or keyphrase)."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise JudgmentsError(f"Cannot read the judgments file {path}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise JudgmentsError(f"The judgments file {path} is not JSON ({exc}).") from None
    if not isinstance(entries, list):
        raise JudgmentsError(f'The judgments file {path} must hold a JSON list of {{"query": ..., "relevant": [...]}}.')
    judgments = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("relevant", []), list):
            raise JudgmentsError(f'Entry {n} of {path} is not {{"query": "...", "relevant": [ids]}}.')
        text = entry.get(text_field)
        relevant = frozenset(str(r) for r in entry.get("relevant") or [] if str(r).strip())
        if isinstance(text, str) and text.strip() and relevant:
            judgments.append(Judgment(text.strip(), relevant))
    return judgments


def hit_id_matches(source: str, external_id: str, wanted: str) -> bool:
    return wanted in (external_id, f"{source}/{external_id}")


def outcome(judgment: Judgment, hits: Sequence[tuple[str, str]]) -> QueryOutcome:
    """Where each relevant id landed among `hits` ((source, external_id), best first)."""
    found = [f"{s}/{e}" for s, e in hits[:K_RANKED]]
    ranks: dict[str, int | None] = {}
    for wanted in sorted(judgment.relevant):
        ranks[wanted] = next(
            (n for n, (s, e) in enumerate(hits[:K_RANKED], start=1) if hit_id_matches(s, e, wanted)), None
        )
    return QueryOutcome(judgment.text, sorted(judgment.relevant), found, ranks)


def metrics(outcomes: Sequence[QueryOutcome]) -> dict[str, float]:
    """Means over queries: hit@5, recall@5, precision@5, MRR@10, nDCG@10 (binary gains).
    precision@5 is the constraint set's (../shared/eval/constraints/README.md): relevant hits in
    the top 5 over min(5, relevant ids), so a query with 3 relevant datasets scores 1 with all 3."""
    if not outcomes:
        return {"queries": 0, "hit@5": 0.0, "recall@5": 0.0, "precision@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    hit = recall = precision = mrr = ndcg = 0.0
    for o in outcomes:
        ranks = sorted(r for r in o.ranks.values() if r is not None)
        hit += 1.0 if ranks and ranks[0] <= K_HIT else 0.0
        recall += sum(1 for r in ranks if r <= K_RECALL) / len(o.relevant)
        precision += sum(1 for r in ranks if r <= K_HIT) / min(K_HIT, len(o.relevant))
        mrr += 1.0 / ranks[0] if ranks else 0.0
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(o.relevant), K_RANKED) + 1))
        ndcg += sum(1.0 / math.log2(r + 1) for r in ranks) / ideal
    n = len(outcomes)
    return {
        "queries": n,
        "hit@5": hit / n,
        "recall@5": recall / n,
        "precision@5": precision / n,
        "mrr@10": mrr / n,
        "ndcg@10": ndcg / n,
    }


def shipped_search(
    store: CatalogStore, encoder: Encoder | None = None, model: str | None = None
) -> Callable[[str], list[tuple[str, str]]]:
    """The search the CLI and the service run (search/finder.find), as `evaluate` calls it."""

    def search(text: str) -> list[tuple[str, str]]:
        page = find(store, SearchRequest(text, limit=K_RANKED), encoder=encoder, model=model)
        return [(h.source, h.external_id) for h in page.hits]

    return search


def evaluate(
    judgments: Sequence[Judgment], search: Callable[[str], Sequence[tuple[str, str]]]
) -> tuple[dict[str, float], list[QueryOutcome]]:
    """Run every judged query through `search` (text -> (source, external_id) best first)."""
    outcomes = [outcome(j, search(j.text)) for j in judgments]
    return metrics(outcomes), outcomes
