"""Records as text for a terminal: the fields and snippets the web page shows, one dataset a few
lines. Matched words are bold on a terminal and plain when piped."""

from __future__ import annotations

from typing import Any

from dataset_catalog.search.facets import FacetBucket
from dataset_catalog.search.folding import also_on_text
from dataset_catalog.search.records import DatasetRecord, human_bytes, human_count

BOLD, RESET = "\033[1m", "\033[0m"


def facts_line(record: DatasetRecord) -> str:
    parts = [
        record.license.name,
        ", ".join(record.task_names) or None,
        ", ".join(record.language_names) or None,
        record.size_text,
        f"{human_count(record.downloads)} downloads" if record.downloads is not None else None,
        f"{human_count(record.likes)} likes" if record.likes is not None else None,
        f"updated {record.updated_at:%Y-%m-%d}" if record.updated_at else None,
    ]
    return " · ".join(p for p in parts if p)


def snippet_text(record: DatasetRecord, color: bool) -> str:
    if record.snippet is None:
        return ""
    if not color:
        return record.snippet.text
    return "".join(f"{BOLD}{piece}{RESET}" if matched else piece for piece, matched in record.snippet.segments())


def hit_lines(n: int, record: DatasetRecord, color: bool) -> list[str]:
    lines = [
        f"{n:>2}. {record.title}  [{record.source_name}]  {record.source}/{record.external_id}",
        f"    {facts_line(record)}",
    ]
    snippet = snippet_text(record, color)
    if snippet:
        lines.append(f"    {snippet}")
    lines.append(f"    {record.url or '-'}")
    if record.why:
        lines.append(f"    why: {'; '.join(record.why)}")
    if record.also_on:
        homes = ", ".join(f"{h['source']}/{h['external_id']}" for h in record.also_on)
        lines.append(f"    also on: {also_on_text(record.also_on)} ({homes})")
    return lines


def facet_line(name: str, buckets: list[FacetBucket], limit: int = 6) -> str:
    shown = ", ".join(f"{b.label} {b.count}" for b in buckets[:limit])
    return f"  {name}: {shown}" + (" …" if len(buckets) > limit else "")


def details_lines(details: dict[str, Any], similar: list[DatasetRecord]) -> list[str]:
    record: DatasetRecord = details["record"]
    lines = [f"{record.title}  [{record.source_name}]  {record.source}/{record.external_id}"]
    if details["subtitle"]:
        lines.append(details["subtitle"])
    rows = [
        ("url", record.url),
        (
            "license",
            f"{record.license.name} (source says {record.license.label!r})"
            if record.license.label
            else record.license.name,
        ),
        ("tasks", ", ".join(record.task_names)),
        ("languages", ", ".join(record.language_names)),
        ("formats", ", ".join(record.formats)),
        ("size", record.size_text),
        ("downloads", human_count(record.downloads)),
        ("likes", human_count(record.likes)),
        ("updated", f"{record.updated_at:%Y-%m-%d}" if record.updated_at else None),
        ("link check", details["link"]["status"]),
        ("enrichment", details["enrichment"]["status"]),
        ("active", "yes" if details["active"] else "no (gone at the source or withdrawn)"),
        ("tags", ", ".join(details["tags"][:30])),
        ("columns", ", ".join(details["columns"][:50])),
        ("creators", ", ".join(c["name"] for c in details["creators"][:10])),
        ("load", details["load"]["code"] if details["load"] else None),
    ]
    lines += [f"  {name:<11} {value}" for name, value in rows if value]
    for f in details["files"][:20]:
        extra = " · ".join(
            x for x in (human_bytes(f.get("bytes")), f"{human_count(f['rows'])} rows" if f.get("rows") else None) if x
        )
        lines.append(f"  file        {f['name']}" + (f"  ({extra})" if extra else ""))
    if details["duplicates"]:
        lines += ["", "The same data elsewhere:"]
        for home in details["duplicates"]:
            evidence = "; ".join(f"{e['kind']}: {e['detail']}" for e in home["evidence"][:3])
            lines.append(f"  {home['title']}  [{home['source_name']}]  {home['source']}/{home['external_id']}")
            if evidence:
                lines.append(f"    evidence: {evidence}")
    if details["paragraphs"]:
        lines += ["", *details["paragraphs"][:6]]
    if similar:
        lines += ["", "Similar datasets:"]
        lines += [f"  {r.title}  [{r.source_name}]  {r.source}/{r.external_id}" for r in similar]
    return lines


def no_good_matches_lines(page) -> str:
    """The empty state of a search with no good match: what was asked, and what to try."""
    lines = [f"No good matches for {page.request.query!r} (of {page.total} weakly related datasets)."]
    interpretation = page.interpretation
    if interpretation and interpretation.filters:
        for constraint in interpretation.filters:
            lines.append(f"  try without {constraint.kind} {constraint.label}: --no-understand, or other words")
    lines.append("  check the spelling, use fewer or more general words, or browse a facet: --facets")
    return "\n".join(lines)


def page_lines(page, offset: int, facets: bool, color: bool) -> list[str]:
    """A result page as `dataset-catalog search` prints it: what was understood, the hits (or why
    there are none), the facets if asked for, how to get the next page."""
    lines = []
    if page.interpretation and page.interpretation.constraints:
        lines.append(f"Understood: {page.interpretation.summary()}  (--no-understand to search the words as typed)")
    if not page.good_matches:
        lines.append(no_good_matches_lines(page))
    elif not page.hits:
        lines.append(f"No more results: the result set holds {page.total} ({page.good_matches} good matches).")
    else:
        lines.append(
            f"{offset + 1}-{offset + len(page.hits)} of {page.total} results, "
            f"{page.good_matches} good matches ({page.took_ms:.0f} ms)\n"
        )
        for n, record in enumerate(page.hits, start=offset + 1):
            lines.extend(hit_lines(n, record, color))
        if facets:
            lines.append("\nIn the result set:")
            lines.extend(facet_line(name, buckets) for name, buckets in page.facets.items() if buckets)
        if offset + len(page.hits) < page.total:
            lines.append(f"\nmore: --offset {offset + len(page.hits)}")
    return lines


def stats_lines(stats: dict[str, dict[str, Any]], model: str) -> list[str]:
    """`dataset-catalog stats`: per source, its rows, enrichment, embedding coverage and link status."""
    lines = [] if any(s["rows"] for s in stats.values()) else ["The catalog is empty."]
    lines.append(f"Embedding model: {model}")
    for source, s in stats.items():
        lines.append(f"\n{source}: {s['rows']} rows ({s['active']} active, {s['inactive']} inactive)")
        lines.append("  enrichment: " + ", ".join(f"{k} {v}" for k, v in sorted(s["enrichment"].items())))
        lines.append(
            f"  embeddings: {s['embedded_current_model']} of {s['active']} active rows ({s['embedding_coverage']:.1%}); "
            f"{s['embedded_any_model']} with any model"
        )
        lines.append("  links: " + ", ".join(f"{k} {v}" for k, v in sorted(s["link_status"].items())))
        if s.get("duplicates_on"):
            on = ", ".join(f"{k} {v}" for k, v in sorted(s["duplicates_on"].items()))
            lines.append(f"  rows whose data is also on: {on}")
    return lines
