"""/api/docs on a machine without internet: FastAPI's default page loads Swagger UI from a CDN;
this one gets its script, stylesheet and icon from the service itself, out of an installed
package, under a policy that runs only those files and the page's one start-up script (by its
hash) and lets it talk to this service alone."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_URL = "/api/docs"
ASSETS_URL = DOCS_URL + "/assets"
# fastapi-offline ships current Swagger UI 5 (reads the OpenAPI 3.1 FastAPI writes; swagger-ui-bundle
# 1.1.0 still ships 4.15, which cannot), ReDoc and FastAPI's icon, and needs nothing but FastAPI.
ASSETS_PACKAGE = ("fastapi_offline", "static")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def policy(*inline_scripts: str) -> str:
    """Content-Security-Policy for the docs page (with its inline scripts) and its files (none)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline_scripts
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self'{hashes}",
            "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes as it renders
            "img-src 'self' data:",  # its icons are data: URLs in its stylesheet
            "connect-src 'self'",  # the schema and "Try it out"
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


ASSETS_POLICY = policy()


def covers(path: str) -> bool:
    return path == DOCS_URL or path.startswith(DOCS_URL + "/")


def add_api_docs(app: FastAPI) -> None:
    """The page at DOCS_URL and the package's files under ASSETS_URL (create_app sets docs_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="api_docs_assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or ""),
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge image from swagger.io's validator
        )
        page.headers["Content-Security-Policy"] = policy(*_INLINE_SCRIPT.findall(bytes(page.body).decode()))
        return page
