"""The search page in a real headless Chromium against `dataset-catalog serve`: type a query,
apply a facet, page, open a dataset, read its JSON-LD; hostile titles stay inert. Screenshots
go to $DATASET_CATALOG_UI_ARTIFACTS/search, else <repo>/artifacts/search/ (gitignored)."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.clusters.build import update_clusters
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog_tests.browser import CHROMIUM_FLAGS, chromium_binary
from dataset_catalog_tests.conftest import REPO_ROOT
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group
from dataset_catalog_tests.fakes.copies import COPIES
from dataset_catalog_tests.fakes.corpus import CORPUS
from dataset_catalog_tests.fakes.getting_started import GETTING_STARTED_ROWS
from dataset_catalog_tests.fakes.service_corpus import SERVICE_ROWS, XSS_TITLE

pytestmark = pytest.mark.slow  # a server subprocess and a browser


def artifacts() -> Path:
    base = os.environ.get("DATASET_CATALOG_UI_ARTIFACTS")
    folder = Path(base) / "search" if base else REPO_ROOT / "artifacts" / "search"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nsearch page screenshots: {folder}")
    return folder


@contextmanager
def _serving(tmp_path, url):
    """`dataset-catalog serve` over the catalog at `url`, once /healthz says ok: (base URL, log path)."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "DATASET_CATALOG_DATABASE_URL": url, "HF_HUB_OFFLINE": "1"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dataset_catalog.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if json.load(response)["status"] == "ok":
                        break
            except OSError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the service did not start in 180 s:\n" + log_path.read_text()
            time.sleep(0.5)
        yield base, log_path
    finally:
        stop_process_group(process, grace_seconds=10)


@pytest.fixture
def served(tmp_path, encoder):
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with CatalogStore(url) as store:
        store.upsert_datasets([dict(r) for r in CORPUS + SERVICE_ROWS])
        embed_datasets(store, encoder)
    with _serving(tmp_path, url) as running:
        yield running


@pytest.fixture
def served_copies(tmp_path, encoder):
    """The corpus plus COPIES (MNIST on three sources, Fashion-MNIST on two), clusters built."""
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with CatalogStore(url) as store:
        store.upsert_datasets([dict(r) for r in CORPUS + COPIES])
        embed_datasets(store, encoder)
        update_clusters(store, encoder.name)
    with _serving(tmp_path, url) as running:
        yield running


def test_search_page_in_a_browser(served):
    from playwright.sync_api import sync_playwright

    base, log_path = served
    startup = log_path.read_text()
    assert "Search service ready" in startup and "model_load_seconds" in startup and "127.0.0.1" in startup
    folder = artifacts()
    dialogs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + "/")
        page.fill("input[name=q]", "speech recordings")
        page.press("input[name=q]", "Enter")
        page.wait_for_selector("ol.hits li")
        assert "q=speech+recordings" in page.url
        page.screenshot(path=str(folder / "1-results.png"), full_page=True)
        total = int(page.inner_text(".summary").split(" of ")[1].split()[0])
        assert total > 10 and page.locator("ol.hits li").count() == 10

        page.click("ul.facet[data-facet=language] a:has-text('German')")
        page.wait_for_url("**language=de**")
        titles = page.locator("ol.hits .hit-title").all_inner_texts()
        assert "German ASR corpus" in titles and "German Speech Clips" in titles
        for hit in page.locator("ol.hits li").all():
            assert "German" in hit.inner_text()
        assert page.locator("ul.facet[data-facet=language] a.on").inner_text().startswith("German")
        page.screenshot(path=str(folder / "2-language-facet.png"), full_page=True)

        page.click("ul.facet[data-facet=language] a.on")  # remove the filter again
        page.wait_for_selector("ol.hits li")
        first_page = page.locator("ol.hits .hit-title").all_inner_texts()
        page.click("a[rel=next]")
        page.wait_for_url("**offset=10**")
        assert page.locator("ol.hits").get_attribute("start") == "11"
        assert not set(page.locator("ol.hits .hit-title").all_inner_texts()) & set(first_page)
        page.screenshot(path=str(folder / "3-page-2.png"), full_page=True)

        page.goto(base + "/?q=german+speech+recognition")
        page.click("ol.hits .hit-title a >> nth=0")
        page.wait_for_url("**/datasets/huggingface/lab/german-asr")
        assert page.inner_text("h1") == "German ASR corpus"
        jsonld = json.loads(page.locator('script[type="application/ld+json"]').text_content())
        assert jsonld["@type"] == "Dataset" and jsonld["name"] == "German ASR corpus"
        assert jsonld["sameAs"] == "https://example.org/huggingface/lab/german-asr"
        assert page.locator("aside .similar a").count() >= 3
        page.screenshot(path=str(folder / "4-dataset-page.png"), full_page=True)

        # Hostile text renders as text: no dialog, no element injected, nothing executed.
        page.goto(base + "/?q=evil+speech")
        page.wait_for_selector("ol.hits li")
        assert XSS_TITLE in page.locator("ol.hits .hit-title").all_inner_texts()
        page.goto(base + "/datasets/huggingface/evil/xss")
        assert page.inner_text("h1") == XSS_TITLE
        assert page.locator("main img, main svg, main script").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
        assert json.loads(page.locator('script[type="application/ld+json"]').text_content())["name"] == XSS_TITLE
        page.screenshot(path=str(folder / "5-hostile-title.png"), full_page=True)
        page.wait_for_timeout(500)  # any late onerror/onload would have fired by now
        browser.close()
    assert dialogs == []
    for shot in ("1-results", "2-language-facet", "3-page-2", "4-dataset-page", "5-hostile-title"):
        assert (folder / f"{shot}.png").stat().st_size > 10_000


def _search_from_home(page, base: str, query: str) -> None:
    """Type `query` into the home page's box and wait for the results."""
    page.goto(base + "/")
    page.fill("input[name=q]", query)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.hits li")


def test_understood_constraints_show_as_chips_that_remove_themselves(served):
    from playwright.sync_api import sync_playwright

    base, _ = served
    folder = artifacts()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _search_from_home(page, base, "speech recordings in German")
        chip = page.locator("p.understood a.chip[data-key='language:de']")
        assert chip.inner_text() == "language German ✕"
        assert page.inner_text("p.understood").startswith("Understood:")
        for hit in page.locator("ol.hits li").all():
            assert "German" in hit.inner_text()
        page.screenshot(path=str(folder / "6-understood-chips.png"), full_page=True)

        chip.click()  # search again without the language
        page.wait_for_url("**ignore=language%3Ade**")
        page.wait_for_selector("ol.hits li")
        assert page.locator("p.understood a.chip[data-key='language:de']").count() == 0
        assert any("German" not in hit.inner_text() for hit in page.locator("ol.hits li").all())
        page.screenshot(path=str(folder / "7-chip-removed.png"), full_page=True)
        browser.close()


MNIST_PAGES = {
    "/datasets/huggingface/ylecun/mnist",
    "/datasets/openml/554",
    "/datasets/kaggle/oddrationale/mnist-in-csv",
}
FASHION_PAGES = {
    "/datasets/huggingface/zalando-datasets/fashion_mnist",
    "/datasets/kaggle/zalando-research/fashionmnist",
}


def _shown(page) -> list[dict]:
    """Each hit on the results page as the browser shows it: its page, title and "Also on" links."""
    hits = []
    for hit in page.locator("ol.hits li.hit").all():
        title = hit.locator(".hit-title a")
        also_on = hit.locator(".also-on")
        hits.append(
            {
                "page": title.get_attribute("href"),
                "title": title.inner_text(),
                "also_on_text": also_on.inner_text() if also_on.count() else "",
                "also_on": {a.get_attribute("href") for a in also_on.locator("a").all()},
            }
        )
    return hits


def _total(page) -> int:
    return int(page.inner_text(".summary").split(" of ")[1].split()[0])


def test_search_folds_duplicate_clusters_and_shows_every_copy_with_fold_off(served_copies):
    from playwright.sync_api import sync_playwright

    base, _ = served_copies
    folder = artifacts()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _search_from_home(page, base, "handwritten digits")
        assert "fold=" not in page.url  # folding is the default
        folded = _shown(page)
        page.screenshot(path=str(folder / "8-folded-copies.png"), full_page=True)

        # One MNIST hit, its other two homes linked under "Also on".
        mnist = [h for h in folded if h["page"] in MNIST_PAGES]
        assert len(mnist) == 1, folded
        (mnist,) = mnist
        assert mnist["also_on"] == MNIST_PAGES - {mnist["page"]}
        assert mnist["also_on_text"].startswith("Also on: ")
        others = {"huggingface": "Hugging Face", "openml": "OpenML", "kaggle": "Kaggle"}
        for source, name in others.items():
            if f"/datasets/{source}/" not in mnist["page"]:
                assert name in mnist["also_on_text"]
        # Fashion-MNIST is other data: its own hit (its two copies folded together), not an MNIST home.
        fashion = [h for h in folded if h["page"] in FASHION_PAGES]
        assert len(fashion) == 1, folded
        assert fashion[0]["also_on"] == FASHION_PAGES - {fashion[0]["page"]}
        assert not mnist["also_on"] & FASHION_PAGES and not fashion[0]["also_on"] & MNIST_PAGES
        folded_total = _total(page)

        # An "Also on" link opens that copy's dataset page.
        other = sorted(mnist["also_on"])[0]
        page.click(f"ol.hits .also-on a[href='{other}']")
        page.wait_for_url(f"**{other}")
        assert page.inner_text("h1") in {"MNIST", "mnist_784", "MNIST in CSV"}

        # "Show every copy" (fold=false): every copy is its own hit.
        page.go_back()
        page.wait_for_selector("ol.hits li")
        page.click("p.fold-note a")
        page.wait_for_url("**fold=false**")
        page.wait_for_selector("ol.hits li")
        unfolded = _shown(page)
        assert {h["page"] for h in unfolded} >= MNIST_PAGES | FASHION_PAGES
        assert _total(page) == folded_total + 3  # two MNIST copies and one Fashion-MNIST copy were folded
        page.screenshot(path=str(folder / "9-every-copy.png"), full_page=True)

        # The filter form keeps fold off (here: show 20 a page).
        page.select_option("aside form select[name=limit]", "20")
        page.click("aside form button[type=submit]")
        page.wait_for_url("**limit=20**")
        assert "fold=false" in page.url
        assert {h["page"] for h in _shown(page)} >= MNIST_PAGES
        # and "Show each dataset once" folds again
        page.click("p.fold-note a")
        page.wait_for_selector("ol.hits li")
        assert "fold=" not in page.url
        assert len([h for h in _shown(page) if h["page"] in MNIST_PAGES]) == 1
        browser.close()
    for shot in ("8-folded-copies", "9-every-copy"):
        assert (folder / f"{shot}.png").stat().st_size > 10_000


@pytest.fixture
def served_started(tmp_path, encoder):
    """The corpus plus one dataset of each source with the standard fields (fakes/getting_started.py)."""
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with CatalogStore(url) as store:
        store.upsert_datasets([dict(r) for r in CORPUS + GETTING_STARTED_ROWS])
        embed_datasets(store, encoder)
    with _serving(tmp_path, url) as running:
        yield running


def _fits_width(page) -> bool:
    """Whether the page needs no sideways scrolling at its viewport's width."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_home_dataset_and_results_pages_get_a_finder_started(served_started):
    from playwright.sync_api import sync_playwright

    base, _ = served_started
    folder = artifacts()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # Home: examples that work, browse links with counts, recent datasets, coverage.
        page.goto(base + "/")
        assert page.locator("a.chip.example").count() >= 1
        assert page.locator(".coverage li").count() == 4  # one line per source
        page.screenshot(path=str(folder / "11-home.png"), full_page=True)
        task_link = page.locator(".browse-group[data-facet=task] a:has-text('Text classification')")
        count = int(task_link.locator(".n").inner_text())
        task_link.click()
        page.wait_for_url("**task=text-classification**")
        assert int(page.inner_text(".summary").split(" of ")[1].split()[0]) == count
        for hit in page.locator("ol.hits li").all():
            assert "Text classification" in hit.inner_text()

        # The dataset page of each source: open link, load snippet (copied by its button), citation.
        expected = {
            "/datasets/huggingface/nyu-mll/glue-bench": (
                'ds = datasets.load_dataset("nyu-mll/glue-bench", "cola")',
                "@inproceedings{wang2019glue",
            ),
            "/datasets/kaggle/someone/titanic-evaluation": (
                "kaggle datasets download -d someone/titanic-evaluation",
                "@misc{kaggle_someone_titanic_evaluation",
            ),
            "/datasets/openml/61": ("dataset = openml.datasets.get_dataset(61)", "Fisher, R.A. (1936)"),
            "/datasets/zenodo/4242": (None, "Rossi, M.; Bianchi, L. (2024)"),
        }
        for n, (path, (load, citation)) in enumerate(expected.items()):
            page.goto(base + path)
            assert page.locator("a.open-source").inner_text().startswith("Open on ")
            if load:
                assert load in page.inner_text("#load-code")
                page.click("button[data-copy=load-code]")
                page.wait_for_function("document.querySelector('button[data-copy=load-code]').textContent == 'Copied'")
                assert load in page.evaluate("navigator.clipboard.readText()")
            else:
                assert page.locator(".load-link a").get_attribute("href") == "https://doi.org/10.5281/zenodo.4242"
            assert page.inner_text("#citation").startswith(citation)
            assert not page.locator("details.catalog-details").evaluate("d => d.open")  # operator fields folded away
            page.screenshot(path=str(folder / f"12-dataset-page-{n + 1}.png"), full_page=True)

        # Results: one license facet whose families expand; long language lists collapsed; no wrapping.
        page.goto(base + "/?q=evaluation+benchmark&understand=false")
        page.wait_for_selector("ol.hits li")
        family = page.locator("ul.licences details", has=page.locator("summary:has-text('CC BY (any version)')"))
        assert not family.locator("ul.facet[data-facet=license]").is_visible()
        family.locator("summary").click()
        assert family.locator("a:has-text('CC-BY-3.0')").is_visible()
        page.screenshot(path=str(folder / "13-license-facet-open.png"), full_page=True)
        family.locator("a:has-text('CC-BY-3.0')").click()
        page.wait_for_url("**license=CC-BY-3.0**")
        assert page.locator("ol.hits .hit-title").all_inner_texts() == ["Titanic passengers evaluation benchmark"]
        page.goto(base + "/?q=multilingual+parliament+translation&understand=false")
        assert page.locator("ol.hits .badge.languages").first.inner_text() == "English, German + 29 more"
        tops = page.evaluate(
            "[...document.querySelectorAll('aside form .controls > *')].map(e => e.getBoundingClientRect().top)"
        )
        assert len(tops) == 3 and max(tops) - min(tops) < 4  # Sort, Show and Apply on one line at 1280 px
        inside = "document.querySelector('aside form .controls').getBoundingClientRect().right <= document.querySelector('aside').getBoundingClientRect().right"
        assert page.evaluate(inside)  # and within the filters' column, not over the results
        assert _fits_width(page)

        # A phone-width screen: nothing runs off the side; the results come before the filters.
        page.set_viewport_size({"width": 375, "height": 800})
        for path in ("/", "/?q=evaluation+benchmark&understand=false", "/datasets/huggingface/nyu-mll/glue-bench"):
            page.goto(base + path)
            assert _fits_width(page), path
        results_top = page.evaluate("document.querySelector('section.results').getBoundingClientRect().top")
        similar_top = page.evaluate("document.querySelector('aside').getBoundingClientRect().top")
        assert results_top < similar_top
        page.goto(base + "/?q=evaluation+benchmark&understand=false")
        page.screenshot(path=str(folder / "14-results-375px.png"), full_page=True)
        browser.close()
    assert errors == []
