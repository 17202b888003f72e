"""Server-rendered pages: search at `/` (every search a shareable URL) and one page per dataset.

Plain HTML and CSS, no script: it works in any browser and behind any proxy. Jinja2 escapes
every value; untrusted text is never marked safe, and JSON-LD goes through `script_json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.common.licenses import normalize_license
from dataset_catalog.common.sources import source_name
from dataset_catalog.search.facets import FACETS
from dataset_catalog.search.finder import dataset_details, find, similar_datasets
from dataset_catalog.search.records import human_bytes, human_count
from dataset_catalog.service.home import home_page
from dataset_catalog.service.params import SearchParams
from dataset_catalog.service.schema_org import dataset_jsonld, script_json

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(human_bytes=human_bytes, human_count=human_count, source_name=source_name)
FACET_TITLES = {
    "source": "Source",
    "license_family": "License",
    "modality": "Modality",
    "task": "Task",
    "language": "Language",
    "size": "Size",
    "format": "Format",
}
PAGE_SIZES = (10, 20, 50)
ASSETS = Path(__file__).parent / "assets"


@router.get("/assets/copy.js", include_in_schema=False)
def copy_script() -> Response:
    """The pages' one script of ours: the copy buttons of a dataset page's snippets."""
    return FileResponse(
        ASSETS / "copy.js", media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


def licence_groups(page) -> list[dict[str, Any]]:
    """The license facet as families, each with its licenses: one facet, expandable (Unknown and
    Other last: they say nothing a finder can filter on with confidence)."""
    licenses = page.facets.get("license", [])
    groups = []
    for family in page.facets.get("license_family", []):
        members = [b for b in licenses if normalize_license(b.value).family == family.value]
        groups.append(
            {
                "family": family,
                "licenses": members if len(members) > 1 or family.selected or any(m.selected for m in members) else [],
            }
        )
    groups.sort(key=lambda g: g["family"].value in ("unknown", "other"))
    return groups


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
        context["licence_groups"] = licence_groups(page)
        return templates.TemplateResponse(request, "search.html", context)
    context["home"] = home_page(request.app)
    return templates.TemplateResponse(request, "home.html", context)


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
