"""`dataset-catalog`: search the catalog and see its state from a shell.

    dataset-catalog search "QUERY" [--source huggingface|kaggle] [--license L] [--license-family F]
                           [--language L] [--task T] [--format F] [--min-downloads N] [--limit K] [--json]
    dataset-catalog stats [--json]
    dataset-catalog serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--log-level info] [--no-access-log]

The database is $DATASET_CATALOG_DATABASE_URL (else the SQLite file in $DATASET_CATALOG_HOME);
the model is $DATASET_CATALOG_EMBEDDING_MODEL (else all-MiniLM-L6-v2). Exit codes: 0 success,
1 configuration or database problem, 2 bad usage (e.g. an empty query).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from dataset_catalog.catalog.schema import SOURCES
from dataset_catalog.errors import DatasetCatalogError

EXIT_ERROR = 1
EXIT_USAGE = 2


MAX_COUNT = 2**63 - 1  # the largest count a catalog column holds


def _non_negative(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_COUNT}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dataset-catalog", description="Search the dataset catalog.")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="hybrid (semantic + keyword) search over active datasets")
    search.add_argument("query", help="what you are looking for, in words")
    search.add_argument("--source", choices=SOURCES)
    search.add_argument("--license", help="SPDX id or a source's own label, case-insensitive (e.g. MIT, CC-BY-4.0, CC0-1.0)")
    search.add_argument("--license-family", help="every version of a license: cc-by, cc-by-sa, apache, gpl, ...")
    search.add_argument("--language", help="ISO code or name, e.g. de or German")
    search.add_argument("--task", help="task category, e.g. text-classification")
    search.add_argument("--format", dest="file_format", help="file format, e.g. parquet, csv")
    search.add_argument("--min-downloads", type=_non_negative, metavar="N")
    search.add_argument("--limit", type=int, default=10, metavar="K", help="hits to show (1-100, default 10)")
    search.add_argument("--json", action="store_true", help="print machine-readable JSON")
    stats = commands.add_parser("stats", help="rows, enrichment, embedding coverage and link status per source")
    stats.add_argument("--json", action="store_true", help="print machine-readable JSON")
    serve = commands.add_parser("serve", help="run the search service: web page at / and JSON API at /api (docs: /api/docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes (default 1); each loads the model and vectors, the vector index file is shared")  # fmt: skip
    return parser


def _serve(args) -> int:
    import logging

    import uvicorn

    from dataset_catalog.service.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not 0 < args.port < 65536 or not 1 <= args.workers <= 64:
        print(f"dataset-catalog serve: error: --port must be 1-65535 and --workers 1-64, got {args.port} and {args.workers}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        if args.workers > 1:  # uvicorn starts each worker from the factory's import path
            uvicorn.run("dataset_catalog.service.app:create_app", factory=True, workers=args.workers, host=args.host,
                        port=args.port, log_level=args.log_level, server_header=False, access_log=not args.no_access_log)  # fmt: skip
        else:
            uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level, server_header=False,
                        access_log=not args.no_access_log)  # fmt: skip
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"dataset-catalog serve: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
              "Pick another --port or --host.", file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    return 0


def _print_hits(result) -> None:
    if not result.hits:
        print("No matching datasets.")
    for n, hit in enumerate(result.hits, start=1):
        numbers = f"downloads {hit.downloads if hit.downloads is not None else '-'}, likes {hit.likes if hit.likes is not None else '-'}"
        print(f"{n:>2}. {hit.title or hit.external_id}  [{hit.source}]  score {hit.score:.4f}")
        print(f"    {hit.url or '-'}")
        print(f"    license {hit.license or '-'} | {numbers}")
        if hit.snippet:
            print(f"    {hit.snippet}")


def _print_stats(stats: dict, model: str) -> None:
    if not stats:
        print("The catalog is empty.")
    print(f"Embedding model: {model}")
    for source, s in stats.items():
        print(f"\n{source}: {s['rows']} rows ({s['active']} active, {s['inactive']} inactive)")
        print("  enrichment: " + ", ".join(f"{k} {v}" for k, v in sorted(s["enrichment"].items())))
        print(f"  embeddings: {s['embedded_current_model']} of {s['active']} active rows ({s['embedding_coverage']:.1%}); "
              f"{s['embedded_any_model']} with any model")  # fmt: skip
        print("  links: " + ", ".join(f"{k} {v}" for k, v in sorted(s["link_status"].items())))


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported here: `--help` and usage errors stay instant.
    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.catalog.search_queries import SearchFilters
    from dataset_catalog.catalog.summary import catalog_summary
    from dataset_catalog.common.languages import language_code
    from dataset_catalog.embeddings.encoder import configured_model_name
    from dataset_catalog.embeddings.search import InvalidQueryError, search_catalog

    if args.command == "serve":
        return _serve(args)
    try:
        if args.command == "stats":
            model = configured_model_name()
            with CatalogStore() as store:
                stats = catalog_summary(store, model).per_source()
            if args.json:
                print(json.dumps({"model": model, "sources": stats}, indent=2))
            else:
                _print_stats(stats, model)
            return 0
        filters = SearchFilters(args.source, args.license, args.task, args.file_format, args.min_downloads,
                                license_family=args.license_family, language=args.language)  # fmt: skip
        if args.language and language_code(args.language) is None:
            print(f"dataset-catalog search: error: unknown language {args.language!r}: give an ISO code (de) or a name (German)",
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        try:
            result = search_catalog(args.query, filters=filters, limit=args.limit)
        except InvalidQueryError as exc:
            print(f"dataset-catalog search: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.json:
            payload = {"query": result.query, "model": result.model, "modes": result.modes,
                       "hits": [h.to_dict() for h in result.hits]}  # fmt: skip
            print(json.dumps(payload, indent=2, ensure_ascii=False))
        else:
            _print_hits(result)
        return 0
    except DatasetCatalogError as exc:
        print(f"dataset-catalog: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
