"""The JSON API: search with facets, one dataset, its similar datasets and Croissant, stats, health."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.search.finder import dataset_details, details_to_dict, find, similar_datasets
from dataset_catalog.service.params import SearchParams
from dataset_catalog.service.schema_org import croissant

router = APIRouter()
RETRY_AFTER_SECONDS = 5  # the hint of every 503 the service answers for a catalog that does not answer


class FastJSONResponse(JSONResponse):
    """orjson straight from our dicts: FastAPI's default walks every value through
    jsonable_encoder first, a few milliseconds per search response."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def service(request: Request):
    return request.app.state.catalog


def require_query(params: SearchParams) -> None:
    if not params.q.strip():
        raise HTTPException(422, "The query `q` is empty: give some words describing the data you look for.")


@router.get(
    "/api/search",
    tags=["search"],
    summary="Search datasets; hits plus facet counts over the result set",
    response_class=FastJSONResponse,
)
def api_search(request: Request, params: Annotated[SearchParams, Query()]) -> Response:
    require_query(params)
    catalog = service(request)
    return FastJSONResponse(
        find(catalog.store, params.request(), encoder=catalog.encoder, model=catalog.model).to_dict()
    )


def _details_or_404(request: Request, source: str, external_id: str) -> dict[str, Any]:
    details = dataset_details(service(request).store, source, external_id)
    if details is None:
        raise HTTPException(404, f"No dataset {source}/{external_id} in the catalog.")
    return details


@router.get(
    "/api/datasets/{source}/{external_id:path}/similar",
    tags=["datasets"],
    summary="Nearest datasets by embedding, other sources first",
)
def api_similar(
    request: Request, source: str, external_id: str, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    catalog = service(request)
    details = _details_or_404(request, source, external_id)
    records = similar_datasets(catalog.store, details["row"], model=catalog.model, limit=limit)
    return {"dataset": details["record"].to_dict(), "model": catalog.model, "similar": [r.to_dict() for r in records]}


@router.get(
    "/api/datasets/{source}/{external_id:path}/duplicates",
    tags=["datasets"],
    summary="The other homes of the same data (duplicate clusters), with the evidence for each link",
)
def api_duplicates(request: Request, source: str, external_id: str) -> dict[str, Any]:
    details = _details_or_404(request, source, external_id)
    return {"dataset": details["record"].to_dict(), "duplicates": details["duplicates"]}


@router.get(
    "/api/datasets/{source}/{external_id:path}/croissant",
    tags=["datasets"],
    summary="The dataset as metadata-only Croissant 1.0 JSON-LD",
)
def api_croissant(request: Request, source: str, external_id: str) -> JSONResponse:
    details = _details_or_404(request, source, external_id)
    page = str(request.url_for("dataset_page", source=source, external_id=details["record"].external_id))
    return JSONResponse(croissant(details, page), media_type="application/ld+json")


@router.get(
    "/api/datasets/{source}/{external_id:path}",
    tags=["datasets"],
    summary="Everything the catalog knows about one dataset",
)
def api_dataset(request: Request, source: str, external_id: str) -> dict[str, Any]:
    return details_to_dict(_details_or_404(request, source, external_id))


@router.get("/api/stats", tags=["catalog"], summary="Rows, enrichment, embeddings and link status per source")
def api_stats(request: Request) -> dict[str, Any]:
    catalog = service(request)
    return {
        "model": catalog.model,
        "sources": catalog_summary(catalog.store, catalog.model).per_source(),
        "semantic_search": catalog.encoder is not None,
    }


@router.get("/healthz", tags=["catalog"], summary="200 when the catalog answers")
def healthz(request: Request) -> JSONResponse:
    catalog = service(request)
    try:
        catalog.store.count_datasets()
    except Exception:
        return JSONResponse(
            {"status": "unavailable"}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    return JSONResponse({"status": "ok", "model": catalog.model, "semantic_search": catalog.encoder is not None})
