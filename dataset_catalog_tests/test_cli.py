"""`python -m dataset_catalog.cli` as a user runs it: a separate process, configured by env."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.common.modalities import modalities_of
from dataset_catalog.embeddings.sync import embed_datasets

pytestmark = pytest.mark.slow  # a CLI subprocess per test

ROOT = Path(__file__).resolve().parents[2]


def cli(
    *args: str, database_url: str | None = None, offline_model: bool = False, python_flags=()
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATASET_CATALOG_EMBEDDING_MODEL", "HF_HUB_OFFLINE")}
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["DATASET_CATALOG_DATABASE_URL"] = database_url
    if offline_model:
        env["HF_HUB_OFFLINE"] = "1"  # the model loads from the bundled package; nothing may reach the Hub
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "dataset_catalog.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


@pytest.fixture
def embedded_url(database_url, store, corpus, encoder):
    embed_datasets(store, encoder)
    return database_url


def test_search_json(embedded_url):
    done = cli(
        "search", "movie review sentiment", "--limit", "3", "--json", database_url=embedded_url, offline_model=True
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["modes"] == ["semantic", "keyword"] and len(payload["hits"]) == 3
    top = payload["hits"][0]
    assert top["external_id"] == "stanfordnlp/imdb" and top["title"] == "IMDB Large Movie Review Dataset"
    assert {"url", "license", "downloads", "likes", "score", "snippet", "source"} <= set(top)


def test_search_says_what_it_understood_and_how_many_good_matches(embedded_url):
    done = cli("search", "summarization of news articles", database_url=embedded_url, offline_model=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Understood: task summarization (filter)  (--no-understand to search the words as typed)"
    assert lines[1].startswith("1-1 of 1 results, 1 good matches (")  # the corpus's one summarization set
    assert "CNN" in done.stdout
    plain = cli("search", "summarize news", "--no-understand", database_url=embedded_url, offline_model=True)
    assert plain.returncode == 0 and "Understood" not in plain.stdout


def test_nonsense_has_no_good_matches_and_suggestions(embedded_url):
    done = cli("search", "zzzzqqqxx", database_url=embedded_url, offline_model=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("No good matches for 'zzzzqqqxx' (of ")
    assert "browse a facet: --facets" in done.stdout and "1-" not in done.stdout


def test_search_text_with_filters(embedded_url):
    done = cli(
        "search",
        "tabular data",
        "--source",
        "kaggle",
        "--license",
        "cc0-1.0",
        "--format",
        "CSV",
        "--min-downloads",
        "1000",
        "--limit",
        "5",
        database_url=embedded_url,
        offline_model=True,
    )
    assert done.returncode == 0, done.stderr
    titles = [
        line.split("  [")[0].split(". ", 1)[1]
        for line in done.stdout.splitlines()
        if line[:3].strip().rstrip(".").isdigit()
    ]
    assert sorted(titles) == ["House Sales in King County, USA", "Titanic Dataset"]
    assert "https://example.org/kaggle/yasserh/titanic-dataset" in done.stdout and "    CC0-1.0 · " in done.stdout


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_exits_2_without_traceback(query, tmp_path):
    done = cli("search", query, database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert done.returncode == 2
    assert "empty" in done.stderr and "Traceback" not in done.stderr and done.stdout == ""


def test_bad_usage_and_bad_database_url_exit_cleanly(tmp_path):
    usage = cli("search", "x", "--source", "github", database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    bad_db = cli("stats", database_url="mysql://nobody@localhost/none")
    assert (
        bad_db.returncode == 1 and "DATASET_CATALOG_DATABASE_URL" in bad_db.stderr and "Traceback" not in bad_db.stderr
    )


def test_stats(embedded_url, store, corpus):
    n_hf = sum(r["source"] == "huggingface" for r in corpus)
    n_kg = len(corpus) - n_hf
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.external_id == "ylecun/mnist")
            .values(is_active=False, link_status="gone")
        )
        conn.execute(sa.update(datasets).where(datasets.c.source == "kaggle").values(enrichment_status="enriched"))
    done = cli("stats", "--json", database_url=embedded_url)
    assert done.returncode == 0, done.stderr
    sources = json.loads(done.stdout)["sources"]
    hf, kg = sources["huggingface"], sources["kaggle"]
    assert (hf["rows"], hf["active"], hf["inactive"]) == (n_hf, n_hf - 1, 1)
    assert (
        hf["embedded_current_model"] == n_hf - 1 and hf["embedding_coverage"] == 1.0
    )  # the inactive row is not counted
    assert hf["link_status"] == {"gone": 1, "unchecked": n_hf - 1} and hf["enrichment"] == {"pending": n_hf}
    assert kg["enrichment"] == {"enriched": n_kg} and kg["embedded_current_model"] == n_kg
    assert (
        sources["zenodo"]["rows"] == 0 and sources["openml"]["rows"] == 0
    )  # known sources show before their first sync
    text = cli("stats", database_url=embedded_url)
    assert text.returncode == 0 and f"huggingface: {n_hf} rows ({n_hf - 1} active, 1 inactive)" in text.stdout


def test_odd_numbers_and_bytes_exit_cleanly(embedded_url):
    """Both printed a traceback: an OverflowError in SQLite, a TypeError in the model's tokenizer."""
    huge = cli("search", "translation", "--min-downloads", "99999999999999999999999", database_url=embedded_url)
    assert huge.returncode == 2 and "must be between 0 and 9223372036854775807" in huge.stderr
    assert "Traceback" not in huge.stderr
    # An invalid UTF-8 byte in the argument (the shell's $'transl\xffation'): dropped, then searched.
    odd = cli("search", b"transl\xffation", "--json", database_url=embedded_url, offline_model=True)  # type: ignore[arg-type]
    assert odd.returncode == 0 and "Traceback" not in odd.stderr, odd.stderr
    payload = json.loads(odd.stdout)
    assert payload["query"] == "translation" and payload["hits"][0]["external_id"] == "wmt/wmt14"


def test_search_filters_by_license_family_and_rejects_unknown_languages(embedded_url, corpus):
    done = cli(
        "search",
        "images photos pictures",
        "--license-family",
        "cc-by",
        "--limit",
        "20",
        "--json",
        database_url=embedded_url,
        offline_model=True,
    )
    assert done.returncode == 0, done.stderr
    found = {h["external_id"] for h in json.loads(done.stdout)["hits"]}
    assert found == {r["external_id"] for r in corpus if r["license"] == "cc-by-4.0"}  # not cc-by-sa
    bad = cli("search", "speech", "--language", "Notalanguage123", database_url=embedded_url, offline_model=True)
    assert bad.returncode == 2 and "unknown language" in bad.stderr.lower() and "Traceback" not in bad.stderr


def test_search_filters_by_modality_and_size(embedded_url, corpus):
    images = cli("search", "data", "--modality", "image", "--limit", "20", "--json", database_url=embedded_url)
    assert images.returncode == 0, images.stderr
    hits = json.loads(images.stdout)["hits"]
    assert hits and all("image" in modalities_of(h["tasks"], h["formats"]) for h in hits)
    assert "ylecun/mnist" in {h["external_id"] for h in hits}
    wrong = cli("search", "data", "--size", "huge", database_url=embedded_url)
    assert wrong.returncode == 2 and "1K<n<10K" in wrong.stderr and "Traceback" not in wrong.stderr


def test_second_search_uses_the_onnx_export_without_torch_and_prints_no_progress(embedded_url):
    first = cli("search", "movie review sentiment", "--json", database_url=embedded_url, offline_model=True)
    assert first.returncode == 0 and first.stderr == "", first.stderr  # no "Loading weights" bar, no warnings
    second = cli(
        "search",
        "movie review sentiment",
        "--json",
        database_url=embedded_url,
        offline_model=True,
        python_flags=("-X", "importtime"),
    )
    assert second.returncode == 0, second.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines() if line.startswith("import time:")
    }
    assert "onnxruntime" in imported and "torch" not in imported and "sentence_transformers" not in imported
    hits = lambda done: [(h["external_id"], h["semantic_rank"]) for h in json.loads(done.stdout)["hits"]]  # noqa: E731
    assert hits(second) == hits(first)  # same ranking from either encoder


def test_sort_offset_and_the_extra_fields(embedded_url):
    by_downloads = cli(
        "search",
        "images",
        "--sort",
        "downloads",
        "--limit",
        "3",
        "--json",
        database_url=embedded_url,
        offline_model=True,
    )
    payload = json.loads(by_downloads.stdout)
    downloads = [h["downloads"] for h in payload["hits"]]
    assert downloads == sorted(downloads, reverse=True) and payload["sort"] == "downloads"
    top = payload["hits"][0]
    assert {
        "license",
        "tasks",
        "languages",
        "formats",
        "size_bytes",
        "row_count",
        "updated_at",
        "snippet",
        "why",
    } <= set(top)
    assert top["license"]["family"] and isinstance(top["snippet"]["highlights"], list)
    next_page = cli(
        "search",
        "images",
        "--sort",
        "downloads",
        "--limit",
        "3",
        "--offset",
        "3",
        "--json",
        database_url=embedded_url,
        offline_model=True,
    )
    everything = cli(
        "search",
        "images",
        "--sort",
        "downloads",
        "--limit",
        "6",
        "--json",
        database_url=embedded_url,
        offline_model=True,
    )
    ids = lambda done: [h["external_id"] for h in json.loads(done.stdout)["hits"]]  # noqa: E731
    assert ids(by_downloads) + ids(next_page) == ids(everything)
    text = cli("search", "images", "--limit", "2", "--facets", database_url=embedded_url, offline_model=True)
    assert (
        text.returncode == 0
        and "1-2 of " in text.stdout
        and "more: --offset 2" in text.stdout
        and "  source: " in text.stdout
    )
    assert "why: matches “" in text.stdout and " downloads · " in text.stdout


def test_show_and_similar(embedded_url):
    shown = cli("show", "huggingface/stanfordnlp/imdb", database_url=embedded_url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("IMDB Large Movie Review Dataset  [Hugging Face]  huggingface/stanfordnlp/imdb")
    assert "  license     Other" in shown.stdout and "Similar datasets:" in shown.stdout
    as_json = json.loads(cli("show", "huggingface/stanfordnlp/imdb", "--json", database_url=embedded_url).stdout)
    assert (
        as_json["external_id"] == "stanfordnlp/imdb" and as_json["link"]["status"] == "unchecked" and as_json["similar"]
    )
    similar = json.loads(
        cli("similar", "huggingface/stanfordnlp/imdb", "--limit", "4", "--json", database_url=embedded_url).stdout
    )
    assert len(similar["similar"]) == 4 and similar["similar"][0]["source"] == "kaggle"  # other sources first
    assert "stanfordnlp/imdb" not in [s["external_id"] for s in similar["similar"]]
    missing = cli("show", "kaggle/nobody/nothing", database_url=embedded_url)
    assert missing.returncode == 1 and "no dataset kaggle/nobody/nothing" in missing.stderr
    malformed = cli("show", "imdb", database_url=embedded_url)
    assert malformed.returncode == 2 and "SOURCE/EXTERNAL_ID" in malformed.stderr


def test_an_empty_catalog_says_so_and_names_the_asset(tmp_path):
    for args in (("search", "anything"), ("show", "huggingface/a/b")):
        done = cli(*args, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        assert done.returncode == 1 and "The catalog is empty" in done.stderr and "hf_datasets" in done.stderr
        assert "No matching datasets" not in done.stdout and "Traceback" not in done.stderr


def test_evaluate_prints_the_metrics_of_known_ranks(embedded_url, tmp_path):
    judgments = tmp_path / "judgments.json"
    judgments.write_text(
        json.dumps(
            [
                {"query": "movie review sentiment", "keyphrase": "film sentiment", "relevant": ["stanfordnlp/imdb"]},
                {
                    "query": "handwritten digit images",
                    "keyphrase": "digits",
                    "relevant": ["huggingface/ylecun/mnist", "no/such-dataset"],
                },
                {"query": "a judged dataset missing from the corpus", "relevant": []},
            ]
        )
    )
    done = cli("evaluate", str(judgments), "--field", "query", "--json", database_url=embedded_url, offline_model=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["query"]
    ranks = [q["ranks"] for q in report["per_query"]]
    assert ranks == [{"stanfordnlp/imdb": 1}, {"huggingface/ylecun/mnist": 1, "no/such-dataset": None}]
    assert report["metrics"] == {
        "queries": 2,
        "hit@5": 1.0,
        "recall@5": 0.75,
        "precision@5": 0.75,  # imdb 1/1, mnist 1 of its 2 relevant ids
        "mrr@10": 1.0,
        "ndcg@10": pytest.approx((1.0 + 1 / (1 + 1 / math.log2(3))) / 2),
    }
    text = cli("evaluate", str(judgments), "--per-query", database_url=embedded_url, offline_model=True)
    assert text.returncode == 0 and "hit@5" in text.stdout and "keyphrase" in text.stdout
    assert "'movie review sentiment': stanfordnlp/imdb #1" in text.stdout
    bad = cli("evaluate", str(tmp_path / "missing.json"), database_url=embedded_url)
    assert bad.returncode == 1 and "Cannot read the judgments file" in bad.stderr and "Traceback" not in bad.stderr


def test_show_and_similar_before_the_first_embedding(database_url, store, corpus):
    """On PostgreSQL `show` printed a traceback (cannot cast type bytea to real[]) until
    dataset_embeddings had run once; SQLite showed the page."""
    shown = cli("show", "kaggle/yasserh/titanic-dataset", database_url=database_url)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert shown.stdout.startswith("Titanic Dataset  [Kaggle]  kaggle/yasserh/titanic-dataset")
    similar = cli("similar", "kaggle/yasserh/titanic-dataset", "--json", database_url=database_url)
    assert similar.returncode == 0 and json.loads(similar.stdout)["similar"] == [], similar.stderr
    assert "no embeddings for kaggle/yasserh/titanic-dataset" in similar.stderr


def test_a_file_that_is_not_a_catalog_is_one_line_for_stats_and_serve(tmp_path):
    """Both printed two tracebacks ending in `sqlite3.DatabaseError: file is not a database`."""
    not_a_catalog = tmp_path / "some.json"
    not_a_catalog.write_text('{"rows": [1, 2, 3]}\n')
    for args in (("stats",), ("serve", "--port", "1"), ("serve", "--port", "1", "--workers", "2")):
        done = cli(*args, database_url=f"sqlite:///{not_a_catalog}")
        assert done.returncode == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""
        lines = [line for line in done.stderr.splitlines() if "error" in line]
        assert len(lines) == 1 and str(not_a_catalog) in lines[0] and "not a SQLite catalog" in lines[0], done.stderr


def test_control_characters_in_a_filter_exit_2_naming_the_option(tmp_path):
    for option in ("--license", "--license-family", "--language", "--task", "--format"):
        done = cli("search", "speech", option, "de\x1b[31m", database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}")
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"argument {option}: " in done.stderr and "control character" in done.stderr
        assert "\x1b" not in done.stderr  # the escape sequence is not echoed to the terminal


def test_serve_refuses_unusable_bounds_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    for args, name in (
        (("--header-timeout", "0"), "DATASET_CATALOG_SERVICE_HEADER_TIMEOUT"),
        (("--max-connections", "0"), "DATASET_CATALOG_SERVICE_MAX_CONNECTIONS"),
        (("--threads", "100000"), "DATASET_CATALOG_SERVICE_THREADS"),
    ):
        done = cli("serve", "--port", "1", *args, database_url=url)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"error: {name}=" in done.stderr and "is not a number from" in done.stderr


def test_a_reader_that_goes_away_early_is_not_an_error(embedded_url):
    """`dataset-catalog search ... | head -1` printed a BrokenPipeError traceback. `true` reads nothing
    and exits at once, so the search's first write meets a closed pipe; pipefail keeps its exit code."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATASET_CATALOG_EMBEDDING_MODEL", "HF_HUB_OFFLINE")}
    env.update(PYTHONPATH=str(ROOT), DATASET_CATALOG_DATABASE_URL=embedded_url)
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{sys.executable} -m dataset_catalog.cli search data --limit 50 | true"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_a_search_starts_no_index_build_it_would_be_killed_in(embedded_url, monkeypatch, capsys):
    """On a catalog big enough for an ANN index but with none saved, every `dataset-catalog search`
    started building one in a background thread and exited in the middle of it: "terminate called
    without an active exception", exit 134. One search scans exactly instead (dataset_embeddings
    saves the index)."""
    import threading

    from dataset_catalog import cli as cli_module
    from dataset_catalog.catalog import vector_index

    monkeypatch.setattr(vector_index, "ANN_MIN_VECTORS", 5)
    monkeypatch.setenv("DATASET_CATALOG_DATABASE_URL", embedded_url)
    before = vector_index.BUILDS
    assert cli_module.run(["search", "movie reviews", "--limit", "3"]) == 0
    assert "IMDB" in capsys.readouterr().out
    assert not [t for t in threading.enumerate() if t.name.startswith("ann-build-")]
    assert before == vector_index.BUILDS  # nothing built by this search
