"""Server-rendered pages: search at `/` (every search a shareable URL) and one page per dataset.

Plain HTML and CSS, no script: it works in any browser and behind any proxy. Jinja2 escapes
every value; untrusted text is never marked safe, and JSON-LD goes through `script_json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.common.sources import source_name
from dataset_catalog.search.facets import FACETS
from dataset_catalog.search.finder import dataset_details, find, similar_datasets
from dataset_catalog.search.records import human_bytes, human_count
from dataset_catalog.service.params import SearchParams
from dataset_catalog.service.schema_org import dataset_jsonld, script_json

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(human_bytes=human_bytes, human_count=human_count, source_name=source_name)
FACET_TITLES = {
    "source": "Source",
    "license": "License",
    "license_family": "License family",
    "task": "Task",
    "language": "Language",
    "format": "Format",
}
PAGE_SIZES = (10, 20, 50)


def _browse_choices(store) -> list[tuple[str, str, str]]:
    """(filter, value, label) of the catalog's sources: what an empty result offers to browse."""
    return [("source", source, source_name(source)) for source in catalog_summary(store, None).per_source()]


def error_page(
    request: Request,
    status: int,
    message: str,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "problems": problems or []},
        status_code=status,
        headers=headers,
    )


@router.get("/", response_class=HTMLResponse, name="search_page", include_in_schema=False)
def search_page(request: Request, params: Annotated[SearchParams, Query()]) -> Response:
    catalog = request.app.state.catalog
    context: dict[str, Any] = {
        "params": params,
        "facet_titles": FACET_TITLES,
        "facet_order": FACETS,
        "page_sizes": PAGE_SIZES,
        "link": lambda **changes: "/?" + params.query_string(**changes),
    }
    if params.q.strip():
        page = context["page"] = find(catalog.store, params.request(), encoder=catalog.encoder, model=catalog.model)
        context["facet_browse"] = [] if page.good_matches else _browse_choices(catalog.store)
    else:
        context["sources"] = catalog_summary(catalog.store, catalog.model).per_source()
    return templates.TemplateResponse(request, "search.html", context)


@router.get(
    "/datasets/{source}/{external_id:path}", response_class=HTMLResponse, name="dataset_page", include_in_schema=False
)
def dataset_page(request: Request, source: str, external_id: str) -> Response:
    catalog = request.app.state.catalog
    details = dataset_details(catalog.store, source, external_id)
    if details is None:
        raise HTTPException(404, f"No dataset {source}/{external_id} in the catalog.")
    similar = similar_datasets(catalog.store, details["row"], model=catalog.model, limit=10)
    jsonld = script_json(
        dataset_jsonld(details, str(request.url_for("dataset_page", source=source, external_id=external_id)))
    )
    return templates.TemplateResponse(
        request, "dataset.html", {"d": details, "r": details["record"], "similar": similar, "jsonld": jsonld}
    )
