"""What the pages give a finder to get started: the home page's examples, browse links, recent
datasets and coverage; a dataset page's open link, load snippet, citation, humanised tags,
license terms and catalog details; the results page's one license facet, modality and size
facets and collapsed language lists."""

import html as html_lib
import re
import time
from urllib.parse import unquote_plus

import pytest
from fastapi.testclient import TestClient

from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.fakes.getting_started import GETTING_STARTED_ROWS, GLUE_BIBTEX, ZENODO_CITATION


@pytest.fixture
def started(store, corpus, encoder):
    store.upsert_datasets([dict(r) for r in GETTING_STARTED_ROWS])
    embed_datasets(store, encoder)
    with TestClient(create_app(store=store, encoder=encoder), raise_server_exceptions=False) as test_client:
        yield test_client


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*><code>(.*?)</code>', html, re.S)
    assert match, element_id
    return html_lib.unescape(match.group(1))


def test_home_page_offers_working_examples_browse_links_recent_datasets_and_coverage(started):
    html = started.get("/").text
    examples = re.findall(r'class="chip example" href="/\?q=([^"]+)"', html)
    assert examples, "no example search shown"
    for example in examples:  # every example shown finds something in this catalog
        query = html_lib.unescape(example)
        page = started.get("/api/search", params={"q": unquote_plus(query)}).json()
        assert page["good_matches"] > 0, query
    # Browse by task, modality, language and source, each a filtered search with its count.
    for facet in ("task", "modality", "language", "source"):
        assert f'data-facet="{facet}"' in html, facet
    assert "understand=false&amp;task=text-classification" in html
    assert "understand=false&amp;source=zenodo" in html
    assert "understand=false&amp;modality=image" in html  # the Zenodo photos, by their jpg files
    browse = started.get("/?q=Image+datasets&understand=false&modality=image").text
    assert "Alpine glacier photos" in browse and "IMDB Large Movie Review Dataset" not in browse
    # Recently updated: newest first, across sources.
    recent = html.split("Recently updated")[1].split("</ul>")[0]
    assert recent.index("Alpine glacier photos") < recent.index("GLUE evaluation benchmark")
    # One line per source: coverage and freshness.
    assert re.search(r"<strong>Zenodo</strong>: 1 datasets, newest change 2026-12-01, harvested ", html)
    assert re.search(r"<strong>Hugging Face</strong>: \d+ datasets, newest change 2026-11-30", html)


@pytest.mark.parametrize(
    ("path", "open_label", "load", "citation", "kind"),
    [
        (
            "/datasets/huggingface/nyu-mll/glue-bench",
            "Open on Hugging Face",
            'import datasets\n\nds = datasets.load_dataset("nyu-mll/glue-bench", "cola")\n# other configurations: sst2, mrpc',
            GLUE_BIBTEX,
            "bibtex",
        ),
        (
            "/datasets/kaggle/someone/titanic-evaluation",
            "Open on Kaggle",
            "kaggle datasets download -d someone/titanic-evaluation",
            "@misc{kaggle_someone_titanic_evaluation,\n  title={Titanic passengers evaluation benchmark},\n  author={someone}",
            "generated",
        ),
        (
            "/datasets/openml/61",
            "Open on OpenML",
            "import openml\n\ndataset = openml.datasets.get_dataset(61)\n",
            "Fisher, R.A. (1936).",
            "reference",
        ),
    ],
)
def test_dataset_page_says_how_to_load_and_cite_it(started, path, open_label, load, citation, kind):
    html = started.get(path).text
    assert f">{open_label} ↗</a>" in html
    assert _text(html, "load-code").startswith(load)
    assert _text(html, "citation").startswith(citation)
    assert f'data-kind="{kind}"' in html
    assert 'data-copy="load-code"' in html and 'data-copy="citation"' in html
    # Operator fields sit in a closed disclosure, not among the facts a finder reads.
    facts, details = html.split('<details class="catalog-details">')
    assert "Link check" not in facts and "Enrichment" not in facts
    assert "Link check" in details and "Enrichment" in details


def test_a_dataset_page_for_a_doi_links_it_and_shows_the_datacite_citation(started):
    html = started.get("/datasets/zenodo/4242").text
    assert 'Get the data at <a href="https://doi.org/10.5281/zenodo.4242"' in html
    assert _text(html, "citation") == ZENODO_CITATION


def test_dataset_page_humanises_tags_and_says_what_the_license_allows(started):
    html = started.get("/datasets/huggingface/nyu-mll/glue-bench").text
    groups = dict(re.findall(r'<tr class="tag-group"><th>([^<]+)</th><td>(.*?)</td></tr>', html))
    assert groups["Subtasks"] == '<span class="badge">Natural language inference</span>'
    assert "Crowdsourced" in groups["Annotations"] and "1804.07461" in groups["arXiv paper"]
    assert not any(":" in kind for kind in groups) and "task_categories:" not in html and "region" not in html.lower()
    assert "commercial use included, crediting the authors." in html  # CC BY 4.0
    api = started.get("/api/datasets/huggingface/nyu-mll/glue-bench").json()
    assert api["cite_as"] == {"text": GLUE_BIBTEX, "kind": "bibtex"}
    assert api["license_terms"].startswith("Use, change and share it")
    assert {"kind": "Subtasks", "values": ["Natural language inference"]} in api["tag_groups"]


def test_results_page_has_one_license_facet_with_families_that_expand(started):
    html = started.get("/", params={"q": "evaluation benchmark", "understand": "false"}).text
    assert html.count('data-facet="license_family"') == 1 and "<h3>License family</h3>" not in html
    licences = html.split('data-facet="license_family"')[1].split("</ul>\n")[0]
    # CC BY 4.0 and CC BY 3.0 under one family that expands; Unknown and Other come last.
    family = re.search(r"<summary><span>CC BY \(any version\)</span>.*?</details>", licences, re.S)
    assert family and "CC-BY-4.0" in family.group(0) and "CC-BY-3.0" in family.group(0)
    labels = re.findall(r"<summary><span>([^<]+)</span>|<a [^>]*><span>([^<]+)</span>", licences)
    shown = [a or b for a, b in labels]
    if "Other" in shown:
        assert shown.index("Other") > shown.index("CC BY (any version)")
    for facet in ("modality", "size"):
        assert f'data-facet="{facet}"' in html, facet
    assert "1M–10M rows" in html and "Under 1K rows" in html  # GLUE's row count; iris, Titanic
    sizes = started.get("/api/search", params={"q": "evaluation benchmark", "size": "n<1K"}).json()
    assert {h["external_id"] for h in sizes["hits"]} >= {"61", "someone/titanic-evaluation"}
    assert all(h["row_count"] is not None and h["row_count"] < 1000 for h in sizes["hits"])


def test_a_long_language_list_is_collapsed(started):
    html = started.get("/", params={"q": "multilingual parliament translation", "understand": "false"}).text
    assert '<span class="badge languages" title="English, German, French' in html
    assert ">English, German + 29 more</span>" in html


def test_the_home_page_is_refreshed_in_the_background_once_stale(started, database_url):
    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.service.home import HOME_TTL_SECONDS
    from dataset_catalog_tests.fakes.corpus import ds

    def zenodo_line() -> str:
        return re.search(r"<strong>Zenodo</strong>: (\d+) datasets", started.get("/").text).group(1)

    assert zenodo_line() == "1"
    with CatalogStore(database_url) as writer:
        writer.upsert_datasets([ds("zenodo", "4343", "Glacier melt series", "Melt measurements of alpine glaciers.")])
    assert zenodo_line() == "1"  # fresh: served from the cache
    state = started.app.state
    state.home["at"] -= HOME_TTL_SECONDS + 1
    stale_at = state.home["at"]
    assert zenodo_line() == "1"  # stale: still served at once, while a thread works out the next
    deadline = time.monotonic() + 60
    while state.home["at"] == stale_at and time.monotonic() < deadline:
        time.sleep(0.2)
    assert zenodo_line() == "2"
