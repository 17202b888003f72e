"""The ASGI app: the catalog opened read-only, the model and vectors loaded once at start-up,
the API and page routes, and errors that say what happened without leaking internals."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import threadpool_limits

from dataset_catalog import settings
from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.engine import is_connection_error
from dataset_catalog.catalog.keyword_index import ensure_keyword_index
from dataset_catalog.catalog.vector_store import stored_dimension
from dataset_catalog.embeddings.encoder import (
    Encoder,
    configured_model_name,
    encode_query,
    load_serving_query_encoder,
)
from dataset_catalog.errors import DatasetCatalogError, redact
from dataset_catalog.search.ranking import InvalidQueryError
from dataset_catalog.service.memory import bound_native_memory, give_back_native_memory

log = logging.getLogger("dataset_catalog.service")
UNAVAILABLE = "The catalog cannot be read right now. The operator finds the cause in the service log."
UNREACHABLE = "The catalog database is not answering right now; try again in a few seconds."
IDLE_SECONDS_BEFORE_TRIM = 5.0


@dataclass
class CatalogService:
    """What every request uses: the read-only store, the model (None: keyword-only) and start-up facts."""

    store: CatalogStore
    model: str
    encoder: Encoder | None = None
    startup: dict[str, Any] = field(default_factory=dict)


def open_service(store: CatalogStore, model: str | None = None, encoder: Encoder | None = None) -> CatalogService:
    """Prepare `store` for serving: keyword index, read-only connections, model and vectors loaded."""
    model_name = encoder.name if encoder else configured_model_name(model)
    service = CatalogService(store=store, model=model_name)
    # A search multiplies a few hundred vectors at a time; OpenBLAS's extra threads then spin
    # waiting for more work, doubling a search's CPU time and starving concurrent searches.
    threadpool_limits(limits=1, user_api="blas")
    started = time.perf_counter()
    ensure_keyword_index(store)
    store.make_read_only()
    if stored_dimension(store, model_name) is None:
        log.warning(
            "No embeddings for model %s in the catalog: search is keyword-only until dataset_embeddings is materialized.",
            model_name,
        )
    else:
        t0 = time.perf_counter()
        service.encoder = encoder or load_serving_query_encoder(model_name)
        encode_query(service.encoder, "warm-up")
        service.startup["model_load_seconds"] = round(time.perf_counter() - t0, 2)
        service.startup["vectors"] = warm_vectors(store, model_name)
    service.startup["total_seconds"] = round(time.perf_counter() - started, 2)
    log.info("Search service ready on %s (model %s): %s", store.display_url, model_name, service.startup)
    return service


def warm_vectors(store: CatalogStore, model: str) -> dict[str, Any]:
    """Load the vectors (and their index) now rather than on the first query."""
    from dataset_catalog.catalog.vector_matrix import prepare_vectors

    if store.dialect != "sqlite":
        return {"backend": "pgvector"}  # the index lives in PostgreSQL
    return prepare_vectors(store, model)


class HeadAsGet:
    """HEAD answered wherever GET is, as GET without the body (RFC 9110 9.3.2): the routes
    declare GET only, and load balancers check health with HEAD."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_without_body(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


@dataclass
class Traffic:
    """Requests served and in flight, and how often idle memory was given back since start."""

    served: int = 0
    in_flight: int = 0
    trims: int = 0


class CountRequests:
    def __init__(self, app, traffic: Traffic):
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.traffic.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.traffic.in_flight -= 1
            self.traffic.served += 1


async def give_back_memory_when_idle(traffic: Traffic) -> None:
    """After a burst of requests, once IDLE_SECONDS_BEFORE_TRIM pass without any, hand the
    memory the request threads freed back to the system (it otherwise stays in their arenas)."""
    trimmed_at = last_seen = traffic.served
    while True:
        await asyncio.sleep(IDLE_SECONDS_BEFORE_TRIM)
        served = traffic.served
        if served == last_seen and served != trimmed_at and traffic.in_flight == 0:
            await anyio.to_thread.run_sync(give_back_native_memory)
            trimmed_at = served
            traffic.trims += 1
        last_seen = served


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def create_app(
    database_url: str | None = None,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    store: CatalogStore | None = None,
) -> FastAPI:
    """The app over the configured catalog (or `database_url`, or an open `store`)."""
    from dataset_catalog.service import api, api_docs, pages

    traffic = Traffic()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        bound_native_memory()  # before the request threads start
        # Each thread keeps its own memory (a malloc arena, the model's buffers): a bounded pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.service_threads()
        opened = store or CatalogStore(database_url)
        trimmer = None
        try:
            app.state.catalog = open_service(opened, model=model, encoder=encoder)
            trimmer = asyncio.create_task(give_back_memory_when_idle(traffic))
            yield
        finally:
            if trimmer is not None:
                trimmer.cancel()
                with suppress(asyncio.CancelledError):
                    await trimmer
            if store is None:
                opened.close()

    app = FastAPI(
        title="dataset_catalog search",
        summary="Find public machine-learning datasets from Hugging Face, Kaggle and more, by meaning and by words.",
        version="1.0",
        lifespan=lifespan,
        docs_url=None,  # api_docs serves it from local files
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    api_docs.add_api_docs(app)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "parameter": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request",
                "problem": e.get("msg", "invalid"),
            }
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": "Invalid parameters.", "problems": problems}, status_code=422)
        return pages.error_page(request, 422, "Some parameters of this search are not valid.", problems)

    @app.exception_handler(InvalidQueryError)
    async def invalid_query(request: Request, exc: InvalidQueryError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return pages.error_page(request, 422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return pages.error_page(request, exc.status_code, str(exc.detail))

    async def catalog_unreachable(request: Request, exc: Exception) -> Response:
        if not is_connection_error(exc):
            raise exc  # a bug, not an outage: the 500 handler below logs it with its trace
        cause = getattr(exc, "orig", None) or exc
        detail = redact(str(cause).strip().splitlines()[0] if str(cause).strip() else "", _secrets(request))
        log.error(
            "Request %s: the catalog database is not answering (%s: %s)", request.url.path, type(cause).__name__, detail
        )
        headers = {"Retry-After": str(api.RETRY_AFTER_SECONDS)}
        if _wants_json(request):
            return JSONResponse({"detail": UNREACHABLE}, status_code=503, headers=headers)
        return pages.error_page(request, 503, UNREACHABLE, headers=headers)

    for kind in (sa.exc.SQLAlchemyError, sqlite3.Error, psycopg.Error):
        app.add_exception_handler(kind, catalog_unreachable)

    @app.exception_handler(DatasetCatalogError)
    async def catalog_error(request: Request, exc: DatasetCatalogError) -> Response:
        log.error("Request %s failed: %s", request.url.path, exc)
        if _wants_json(request):
            return JSONResponse({"detail": UNAVAILABLE}, status_code=503)
        return pages.error_page(request, 503, UNAVAILABLE)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Request %s failed", request.url.path)  # the trace goes to the log, never to the client
        if _wants_json(request):
            return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)
        return pages.error_page(request, 500, "Something went wrong on our side; it has been logged.")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        if api_docs.covers(request.url.path):  # Swagger UI is script: the service's files only
            response.headers.setdefault("Content-Security-Policy", api_docs.ASSETS_POLICY)
        # Pages run one script of ours, a file from the service (the copy buttons): no inline script
        # runs, so injected markup stays inert twice over.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.add_middleware(CountRequests, traffic=traffic)
    app.add_middleware(HeadAsGet)
    app.state.traffic = traffic
    return app


def _secrets(request: Request) -> list[str | None]:
    catalog = getattr(request.app.state, "catalog", None)
    return [catalog.store.engine.url.password] if catalog is not None else []
