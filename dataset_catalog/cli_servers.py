"""`dataset-catalog serve` and `dataset-catalog mcp`: the commands that run a server until it is
stopped (the parser and the one-shot commands are cli.py). Both print one line and return an
exit code for what stops them from starting: a bad port, the catalog, an address in use."""

from __future__ import annotations

import logging
import os
import sys

from dataset_catalog.errors import DatasetCatalogError

# Every `dataset-catalog` command's exit codes (cli.py imports them from here).
EXIT_ERROR = 1  # a configuration or database problem
EXIT_USAGE = 2  # bad usage


def run_mcp_command(args) -> int:
    if not 0 < args.port < 65536:
        print(f"dataset-catalog mcp: error: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return EXIT_USAGE
    from dataset_catalog.mcp_server.server import run_mcp

    # stderr only: on stdio, stdout carries the protocol.
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        run_mcp(transport=args.transport, host=args.host, port=args.port, log_level=args.log_level)
    except DatasetCatalogError as exc:  # the catalog or a setting, before any client is answered
        print(f"dataset-catalog mcp: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, SystemExit) as exc:  # the port is taken (uvicorn logs why and exits 3), or not this machine's
        if isinstance(exc, SystemExit) and not exc.code:
            return 0
        reason = (exc.strerror or exc) if isinstance(exc, OSError) else "the line above says why"
        print(
            f"dataset-catalog mcp: error: cannot listen on {args.host}:{args.port}: {reason}. Pick another --port or --host.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def run_serve_command(args) -> int:
    from dataset_catalog import settings
    from dataset_catalog.service.server import run_service

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not 0 < args.port < 65536 or not 1 <= args.workers <= 64:
        print(
            f"dataset-catalog serve: error: --port must be 1-65535 and --workers 1-64, got {args.port} and {args.workers}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # An option overrides its environment setting, through the environment: worker processes
    # and the HTTP protocol read the settings there.
    for option, name in (
        (args.header_timeout, settings.SERVICE_HEADER_TIMEOUT_ENV),
        (args.max_connections, settings.SERVICE_MAX_CONNECTIONS_ENV),
        (args.threads, settings.SERVICE_THREADS_ENV),
    ):
        if option is not None:
            os.environ[name] = str(option)
    try:
        run_service(
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=not args.no_access_log,
        )
    except DatasetCatalogError as exc:  # the catalog or a setting, before anything listens
        print(f"dataset-catalog serve: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(
            f"dataset-catalog serve: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
            "Pick another --port or --host.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0
