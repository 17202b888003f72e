"""The server-rendered pages as HTML: escaped untrusted text, shareable URLs, JSON-LD that cannot
break out of its script element, 422 pages for bad parameters."""

import json
import re

from dataset_catalog_tests.fakes.service_corpus import XSS_TITLE


def jsonld_of(html: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_search_page_lists_hits_with_facets_and_every_control_is_a_link(client):
    understood = client.get("/", params={"q": "german speech", "limit": 10}).text
    assert "German ASR corpus" in understood
    assert 'data-key="language:de" href="/?q=german+speech&amp;ignore=language%3Ade"' in understood  # a removable chip
    html = client.get("/", params={"q": "german speech", "limit": 10, "understand": "false"}).text
    assert 'value="german speech"' in html and "German ASR corpus" in html
    assert "<mark>German</mark>" in html or "<mark>german</mark>" in html
    # the facet is a plain link: shareable, no script
    assert 'href="/?q=german+speech&amp;language=de&amp;understand=false"' in html
    assert 'rel="next"' in html and 'href="/?q=german+speech&amp;offset=10&amp;understand=false"' in html
    assert "<script" not in html.split("</head>")[1]  # no script of ours in the body


def test_untrusted_text_is_escaped_on_every_page(client):
    for path in ("/?q=evil+speech", "/datasets/huggingface/evil/xss"):
        html = client.get(path).text
        assert (
            "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
            or "&lt;script&gt;alert(&quot;title&quot;)" in html
        )
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg" not in html
        assert 'href="javascript:' not in html
    page = client.get("/datasets/huggingface/evil/xss")
    # Script only from the service's own files (the copy buttons): no inline or injected script runs.
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    data = jsonld_of(page.text)
    assert data["name"] == XSS_TITLE  # survives as data inside JSON-LD, without closing the element


def test_dataset_page_embeds_schema_org_dataset_jsonld(client):
    html = client.get("/datasets/huggingface/lab/german-asr").text
    data = jsonld_of(html)
    assert data["@type"] == "Dataset" and data["name"] == "German ASR corpus"
    assert data["sameAs"] == "https://example.org/huggingface/lab/german-asr" and data["url"].endswith(
        "/datasets/huggingface/lab/german-asr"
    )
    assert data["license"] == "https://spdx.org/licenses/CC-BY-SA-4.0.html" and data["creator"]["name"] == "lab"
    assert data["dateModified"].startswith("2025-09-01") and "German" in data["keywords"]
    assert data["distribution"][0]["name"] == "train"
    assert "Similar datasets" in html and "German Speech Clips" in html  # its nearest neighbour from Kaggle


def test_bad_parameters_give_a_422_page_that_says_which(client):
    response = client.get("/", params={"q": "x", "limit": 5000, "colour": "red"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "<code>limit</code>" in response.text and "<code>colour</code>" in response.text
    missing = client.get("/datasets/kaggle/no/such")
    assert missing.status_code == 404 and "No dataset kaggle/no/such" in missing.text


def test_home_page_without_a_query_shows_the_catalog(client):
    html = client.get("/").text
    assert "Find a dataset" in html and "Kaggle" in html and "Hugging Face" in html


def test_paging_past_the_end_is_a_clean_empty_page(client):
    html = client.get("/", params={"q": "speech recordings", "offset": 190}).text
    assert "No more results:" in html and "Back to the first page" in html
    assert "191–" not in html and 'class="hit"' not in html and 'rel="next"' not in html


def test_nonsense_shows_no_good_matches_and_what_to_try(client):
    html = client.get("/", params={"q": "zzzzqqqxx"}).text
    assert "No good matches" in html and "Nothing in the catalog is close to this" in html
    assert 'class="hit"' not in html and "browsing a source" in html
