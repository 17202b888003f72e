"""`dataset-catalog`: search the catalog and see its state from a shell.

    dataset-catalog search "QUERY" [--source SOURCE] [--license L] [--license-family F]
                           [--language L] [--task T] [--format F] [--min-downloads N]
                           [--sort relevance|downloads|likes|updated] [--offset N] [--limit K] [--facets] [--no-understand] [--no-fold] [--json]
    dataset-catalog show SOURCE/EXTERNAL_ID [--json]
    dataset-catalog similar SOURCE/EXTERNAL_ID [--limit K] [--json]
    dataset-catalog evaluate JUDGMENTS.json [--field query|keyphrase|both] [--per-query] [--json]
    dataset-catalog stats [--json]
    dataset-catalog serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--log-level info] [--no-access-log]
                          [--header-timeout SECONDS] [--max-connections N] [--threads N]
    dataset-catalog mcp [--transport stdio|http] [--host 127.0.0.1] [--port 8000] [--log-level warning]

The database is $DATASET_CATALOG_DATABASE_URL (else the SQLite file in $DATASET_CATALOG_HOME);
the model is $DATASET_CATALOG_EMBEDDING_MODEL (else all-MiniLM-L6-v2). Exit codes: 0 success,
1 configuration or database problem, 2 bad usage (e.g. an empty query).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from dataset_catalog.cli_servers import EXIT_ERROR, EXIT_USAGE, run_mcp_command, run_serve_command
from dataset_catalog.common.modalities import MODALITY_NAMES
from dataset_catalog.common.sizes import SIZE_NAMES
from dataset_catalog.common.sources import catalog_sources
from dataset_catalog.errors import DatasetCatalogError

MAX_COUNT = 2**63 - 1  # the largest count a catalog column holds


def _non_negative(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_COUNT}")
    return value


def _plain_text(text: str) -> str:
    from dataset_catalog.common.cleaning import has_control_characters

    if has_control_characters(text):  # never echoed: an ESC sequence would reach the terminal
        raise argparse.ArgumentTypeError("contains a control character (newline, ESC, ...): give plain text")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dataset-catalog", description="Search the dataset catalog.")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="hybrid (semantic + keyword) search over active datasets")
    search.add_argument("query", help="what you are looking for, in words")
    search.add_argument("--source", choices=list(catalog_sources()))
    search.add_argument(
        "--license",
        type=_plain_text,
        help="SPDX id or a source's own label, case-insensitive (e.g. MIT, CC-BY-4.0, CC0-1.0)",
    )
    search.add_argument(
        "--license-family", type=_plain_text, help="every version of a license: cc-by, cc-by-sa, apache, gpl, ..."
    )
    search.add_argument("--language", type=_plain_text, help="ISO code or name, e.g. de or German")
    search.add_argument("--task", type=_plain_text, help="task category, e.g. text-classification")
    search.add_argument("--format", dest="file_format", type=_plain_text, help="file format, e.g. parquet, csv")
    search.add_argument("--modality", choices=list(MODALITY_NAMES), help="what the data is")
    search.add_argument("--size", choices=list(SIZE_NAMES), help="rows, as the Hub's size categories: 1K<n<10K, ...")
    search.add_argument("--min-downloads", type=_non_negative, metavar="N")
    search.add_argument(
        "--sort",
        choices=("relevance", "downloads", "likes", "updated"),
        default="relevance",
        help="order of the result set (default relevance)",
    )
    search.add_argument("--offset", type=int, default=0, metavar="N", help="hits to skip, for the next page (0-199)")
    search.add_argument("--limit", type=int, default=10, metavar="K", help="hits to show (1-100, default 10)")
    search.add_argument("--facets", action="store_true", help="also print facet counts of the result set")
    search.add_argument(
        "--no-understand",
        action="store_true",
        help="search the words as typed: no languages, tasks, sizes, licences or sources read from the query",
    )
    search.add_argument(
        "--no-fold",
        action="store_true",
        help="list every copy of a dataset (default: one hit per dataset, its other homes under it)",
    )
    search.add_argument("--json", action="store_true", help="print machine-readable JSON")
    show = commands.add_parser("show", help="everything the catalog knows about one dataset")
    show.add_argument("dataset", metavar="SOURCE/EXTERNAL_ID", help="e.g. huggingface/stanfordnlp/imdb")
    show.add_argument("--json", action="store_true", help="print machine-readable JSON")
    similar = commands.add_parser("similar", help="the datasets nearest to one dataset, other sources first")
    similar.add_argument("dataset", metavar="SOURCE/EXTERNAL_ID", help="e.g. kaggle/yasserh/titanic-dataset")
    similar.add_argument("--limit", type=int, default=10, metavar="K", help="datasets to show (1-50, default 10)")
    similar.add_argument("--json", action="store_true", help="print machine-readable JSON")
    evaluate = commands.add_parser(
        "evaluate", help="measure search on judged queries: hit@5, recall@5, MRR@10, nDCG@10"
    )
    evaluate.add_argument(
        "judgments", metavar="JUDGMENTS.json", help='a JSON list of {"query": ..., "relevant": [ids]}'
    )
    evaluate.add_argument(
        "--field",
        choices=("query", "keyphrase", "both"),
        default="both",
        help="which text of each entry to search with (default: every one present)",
    )
    evaluate.add_argument(
        "--per-query", action="store_true", help="also print each query's relevant ids and their ranks"
    )
    evaluate.add_argument("--json", action="store_true", help="print machine-readable JSON (includes per-query ranks)")
    stats = commands.add_parser("stats", help="rows, enrichment, embedding coverage and link status per source")
    stats.add_argument("--json", action="store_true", help="print machine-readable JSON")
    serve = commands.add_parser(
        "serve", help="run the search service: web page at / and JSON API at /api (docs: /api/docs)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1); each loads the model and vectors, the vector index file is shared",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request headers take longer (default $DATASET_CATALOG_SERVICE_HEADER_TIMEOUT, else 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="answer 503 past N open connections (default $DATASET_CATALOG_SERVICE_MAX_CONNECTIONS, else 200)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="requests worked on at once per process (default $DATASET_CATALOG_SERVICE_THREADS, else 8)",
    )
    mcp = commands.add_parser("mcp", help="serve search to coding agents as Model Context Protocol tools (read-only)")
    mcp.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="stdio (default) or streamable HTTP"
    )
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP: address to bind (default 127.0.0.1: this machine only)")
    mcp.add_argument("--port", type=int, default=8000, help="HTTP: port (default 8000); the endpoint is /mcp")
    mcp.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    return parser


EMPTY_CATALOG = (
    "The catalog is empty: nothing to search yet. Fill it by materializing hf_datasets (and the Kaggle assets), "
    "then dataset_embeddings, e.g.: dagster asset materialize -m dataset_catalog.definitions --select hf_datasets "
    "--partition YYYY-MM-DD (see the README)."
)


def _split_dataset(text: str) -> tuple[str, str]:
    source, _, external_id = text.strip().partition("/")
    if not source or not external_id:
        raise ValueError(f"name a dataset as SOURCE/EXTERNAL_ID (e.g. huggingface/stanfordnlp/imdb), got {text!r}")
    return source, external_id


def _search_request(args):
    """The search as asked, checked before anything is opened (usage errors exit 2 at once)."""
    from dataset_catalog.catalog.search_queries import SearchFilters
    from dataset_catalog.search.finder import SearchRequest

    filters = SearchFilters(
        args.source,
        args.license,
        args.task,
        args.file_format,
        args.min_downloads,
        license_family=args.license_family,
        language=args.language,
        size_categories=(args.size,) if args.size else None,
        modality=args.modality,
    )
    return SearchRequest(
        args.query,
        filters,
        args.sort,
        args.offset,
        args.limit,
        understand=not args.no_understand,
        fold=not args.no_fold,
    ).validated()


def _search(args, store, request) -> int:
    from dataset_catalog.catalog.vector_store import stored_dimension
    from dataset_catalog.embeddings.encoder import (
        Encoder,
        configured_model_name,
        load_query_encoder,
        quiet_model_loading,
    )
    from dataset_catalog.search.finder import find

    quiet_model_loading()
    model = configured_model_name()
    # The ONNX export when there is one: no torch import (embeddings/onnx_query.py).
    encoder = load_query_encoder(model) if stored_dimension(store, model) is not None else None
    page = find(store, request, encoder=encoder, model=model)
    for note in page.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(page.to_dict(), indent=2, ensure_ascii=False))
    else:
        from dataset_catalog.search.terminal import page_lines

        print("\n".join(page_lines(page, args.offset, args.facets, color=sys.stdout.isatty())))
    if isinstance(encoder, Encoder):  # the torch path answered: prepare the fast one for next time
        from dataset_catalog.embeddings.onnx_query import export_onnx_query_encoder

        export_onnx_query_encoder(encoder)
    return 0


def _show_or_similar(args, store) -> int:
    from dataset_catalog.embeddings.encoder import configured_model_name
    from dataset_catalog.search.finder import dataset_details, details_to_dict, similar_datasets
    from dataset_catalog.search.terminal import details_lines

    source, external_id = _split_dataset(args.dataset)
    details = dataset_details(store, source, external_id)
    if details is None:
        print(
            f"dataset-catalog {args.command}: error: no dataset {source}/{external_id} in the catalog "
            f"(names look like huggingface/stanfordnlp/imdb or kaggle/owner/slug)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.command == "similar" and not 1 <= args.limit <= 50:
        print(f"dataset-catalog similar: error: --limit must be 1-50, got {args.limit}", file=sys.stderr)
        return EXIT_USAGE
    model = configured_model_name()
    similar = similar_datasets(store, details["row"], model=model, limit=args.limit if args.command == "similar" else 5)
    if args.command == "similar":
        if not similar:
            print(
                f"note: no embeddings for {source}/{external_id} with model {model!r} yet (materialize dataset_embeddings).",
                file=sys.stderr,
            )
        if args.json:
            print(
                json.dumps(
                    {"dataset": details["record"].to_dict(), "model": model, "similar": [r.to_dict() for r in similar]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
        else:
            from dataset_catalog.search.terminal import facts_line

            for n, record in enumerate(similar, start=1):
                print(
                    f"{n:>2}. {record.title}  [{record.source_name}]  {record.source}/{record.external_id}  "
                    f"(similarity {record.similarity:.2f})\n    {facts_line(record)}"
                )
        return 0
    if args.json:
        payload = details_to_dict(details)
        payload["similar"] = [r.to_dict() for r in similar]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print("\n".join(details_lines(details, similar)))
    return 0


def _evaluate(args, store) -> int:
    from dataset_catalog.catalog.vector_store import stored_dimension
    from dataset_catalog.embeddings.encoder import configured_model_name, load_query_encoder, quiet_model_loading
    from dataset_catalog.search.evaluation import FIELDS, evaluate, load_judgments, shipped_search

    quiet_model_loading()
    model = configured_model_name()
    encoder = load_query_encoder(model) if stored_dimension(store, model) is not None else None
    search = shipped_search(store, encoder, model)
    report = {}
    for text_field in FIELDS if args.field == "both" else (args.field,):
        judgments = load_judgments(args.judgments, text_field)
        if judgments or args.field != "both":
            summary, outcomes = evaluate(judgments, search)
            report[text_field] = {"metrics": summary, "per_query": [o.to_dict() for o in outcomes]}
    if not any(r["metrics"]["queries"] for r in report.values()):
        print(f"dataset-catalog evaluate: error: {args.judgments} has no query with relevant ids", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"model": model, "judgments": args.judgments, **report}, indent=2, ensure_ascii=False))
        return 0
    print(f"{'field':<10} {'queries':>7} {'hit@5':>7} {'recall@5':>9} {'P@5':>6} {'MRR@10':>7} {'nDCG@10':>8}")
    for text_field, r in report.items():
        m = r["metrics"]
        print(
            f"{text_field:<10} {m['queries']:>7} {m['hit@5']:>7.3f} {m['recall@5']:>9.3f} {m['precision@5']:>6.3f}"
            f" {m['mrr@10']:>7.3f} {m['ndcg@10']:>8.3f}"
        )
    if args.per_query:
        for text_field, r in report.items():
            print(f"\n{text_field}:")
            for q in r["per_query"]:
                ranks = ", ".join(f"{k} #{v}" if v else f"{k} -" for k, v in q["ranks"].items())
                print(f"  {q['query'][:70]!r}: {ranks}")
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("serve", "mcp"):
        return run_serve_command(args) if args.command == "serve" else run_mcp_command(args)
    # Imported here: `--help` and usage errors stay instant.
    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.catalog.summary import catalog_summary
    from dataset_catalog.embeddings.encoder import configured_model_name
    from dataset_catalog.search.ranking import InvalidQueryError

    try:
        if args.command == "stats":
            model = configured_model_name()
            with CatalogStore() as store:
                stats = catalog_summary(store, model).per_source(catalog_sources())
            if args.json:
                print(json.dumps({"model": model, "sources": stats}, indent=2))
            else:
                from dataset_catalog.search.terminal import stats_lines

                print("\n".join(stats_lines(stats, model)))
            return 0
        request = _search_request(args) if args.command == "search" else None
        if args.command in ("show", "similar"):
            _split_dataset(args.dataset)
        with CatalogStore() as store:
            store.builds_ann_index = False  # one search, then exit: scan exactly unless an index is saved
            if not store.has_datasets():
                print(f"dataset-catalog {args.command}: {EMPTY_CATALOG}", file=sys.stderr)
                return EXIT_ERROR
            if request is not None:
                return _search(args, store, request)
            if args.command == "evaluate":
                return _evaluate(args, store)
            return _show_or_similar(args, store)
    except (InvalidQueryError, ValueError) as exc:
        print(f"dataset-catalog {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatasetCatalogError as exc:
        print(f"dataset-catalog: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`dataset-catalog search ... | head`): what it wanted was printed.
        # Point stdout at /dev/null so the interpreter's own flush at exit can't fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
