"""/api/docs without internet: Swagger UI's files come from the service itself (the installed
fastapi-offline package), the page names no other host, and its Content-Security-Policy lets it
run only those files and its own start-up script and talk only to the service. The browser test
opens the page in headless Chromium with every request to another host aborted."""

import base64
import hashlib
import re
from urllib.parse import urlsplit

import pytest

from dataset_catalog.catalog import CatalogStore
from dataset_catalog_tests.browser import CHROMIUM_FLAGS, chromium_binary
from dataset_catalog_tests.fakes.corpus import CORPUS
from dataset_catalog_tests.service.test_browser import _serving, artifacts

# The page does not touch the catalog: SQLite alone.
ONE_BACKEND = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@ONE_BACKEND
def test_api_docs_page_uses_only_the_services_own_files(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http" not in page.text.lower() and "cdn" not in page.text.lower()  # no other host, not even in a comment
    urls = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert len(urls) == 3, urls  # the script, the stylesheet, the icon
    assert all(u.startswith("/api/docs/assets/") for u in urls), urls
    assert "url: '/api/openapi.json'" in page.text
    assert client.get("/api/openapi.json").json()["paths"]["/api/search"]

    kinds = {
        "/api/docs/assets/swagger-ui-bundle.js": ("text/javascript", "application/javascript"),
        "/api/docs/assets/swagger-ui.css": ("text/css",),
        "/api/docs/assets/favicon.png": ("image/png",),
    }
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in kinds[url], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert "SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/api/docs/assets/no-such-file.js").status_code == 404


@ONE_BACKEND
def test_api_docs_policy_allows_script_from_the_service_and_the_pages_one_inline_script(client):
    page = client.get("/api/docs")
    policy = page.headers["content-security-policy"]
    assert "http" not in policy and "*" not in policy and "unsafe-eval" not in policy
    directives = _directives(policy)
    assert directives["default-src"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]  # the schema and "Try it out": this service only
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    assert len(inline) == 1 and "SwaggerUIBundle(" in inline[0]
    # Script: the service's files and this one start-up script by its hash; no 'unsafe-inline'.
    assert directives["script-src"] == ["'self'", _sha256(inline[0])]
    assert set(directives["img-src"]) <= {"'self'", "data:"}
    assert directives["frame-ancestors"] == ["'none'"]

    for url in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css"):
        asset_policy = _directives(client.get(url).headers["content-security-policy"])
        assert asset_policy["script-src"] == ["'self'"] and asset_policy["connect-src"] == ["'self'"], url
        assert asset_policy["default-src"] == ["'none'"], url
    # The pages keep their own policy: script from the service's own files only, no inline hash.
    assert "script-src 'self';" in client.get("/").headers["content-security-policy"]


@pytest.fixture
def served_small(tmp_path):
    """`dataset-catalog serve` over the test corpus (keyword-only: the docs need no model)."""
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with CatalogStore(url) as store:
        store.upsert_datasets([dict(r) for r in CORPUS])
    with _serving(tmp_path, url) as running:
        yield running


@pytest.mark.slow
def test_api_docs_render_in_a_browser_with_no_internet(served_small):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    base, _ = served_small
    folder = artifacts()
    sent_elsewhere, errors = [], []

    def only_the_service(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            sent_elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", only_the_service)
        # Init scripts run outside the page's policy: they record what the policy blocks.
        context.add_init_script(
            "window.__blocked = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__blocked.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/api/docs")
        search = page.locator(".opblock", has=page.locator(".opblock-summary-path[data-path='/api/search']"))
        try:
            search.wait_for(timeout=15_000)
        except PlaywrightTimeout:
            page.screenshot(path=str(folder / "10-api-docs-offline.png"), full_page=True)
            pytest.fail(f"Swagger UI did not render without internet; requests to other hosts: {sent_elsewhere}")
        assert page.locator(".info .title").inner_text().startswith("dataset_catalog search")
        paths = page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)")
        assert {"/api/search", "/api/stats", "/healthz"} <= set(paths), paths

        search.locator(".opblock-summary").first.click()  # expand GET /api/search
        search.locator(".parameters").wait_for()
        names = search.locator(".parameters .parameter__name").all_inner_texts()
        assert any(n.strip().startswith("q") for n in names), names
        # Try it out: the request goes to the service (connect-src 'self') and its answer shows.
        search.locator("button.try-out__btn").click()
        search.locator("tr[data-param-name='q'] input").fill("speech")
        search.locator("button.execute").click()
        status = search.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=15_000)
        assert status.inner_text().strip() == "200"
        assert '"hits"' in search.locator(".live-responses-table .microlight").first.inner_text()
        page.screenshot(path=str(folder / "10-api-docs-offline.png"), full_page=True)
        blocked = page.evaluate("window.__blocked")
        browser.close()
    assert sent_elsewhere == []
    assert blocked == [], blocked  # nothing the page needs is refused by its policy
    assert errors == [], errors
    assert (folder / "10-api-docs-offline.png").stat().st_size > 10_000
