"""zenodo_datasets against the fake OAI-PMH endpoint over real HTTP, with the real oaipmh-scythe walk."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.defs.common.daily_partitions import UnknownPartitionError
from dataset_catalog_tests.fakes.zenodo_oai import day_records, make_zenodo_record, raw_record
from dataset_catalog_tests.zenodo.conftest import materialize_zenodo, partition_metadata, run_metadata

DAY = datetime(2025, 3, 10, tzinfo=UTC)
TAG_OPENER = re.compile(r"<[a-zA-Z/!?]")


def _rows(store: CatalogStore) -> dict[str, dict]:
    return {r["external_id"]: r for r in store.fetch_datasets("zenodo")}


def test_partition_window_is_sent_as_from_until_and_its_edges_hold(database_url, store, fake_zenodo):
    fake_zenodo.set_records(
        [
            make_zenodo_record(11, DAY),  # first second of the day: inside
            make_zenodo_record(12, DAY + timedelta(days=1, seconds=-1)),  # last second: inside
            make_zenodo_record(13, DAY + timedelta(days=1)),  # next day's partition
            make_zenodo_record(14, DAY - timedelta(seconds=1)),  # previous day's
            make_zenodo_record(15, DAY + timedelta(hours=3), sets=("user-other",)),  # not a dataset
        ]
    )
    result = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10")
    assert result.success
    assert set(_rows(store)) == {"11", "12"}
    [request] = fake_zenodo.oai_requests
    sent = {k: v[0] for k, v in request.query.items()}
    assert sent == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_datacite",
        "set": "openaire_data",
        "from": "2025-03-10T00:00:00Z",
        "until": "2025-03-10T23:59:59Z",
    }
    meta = run_metadata(result)
    assert (meta["total_fetched"], meta["total_inserted"], meta["records_scanned"], meta["pages_read"]) == (2, 2, 2, 1)
    assert meta["window_start"] == "2025-03-10T00:00:00+00:00" and meta["rate_limited_429"] == 0


def test_paging_follows_resumption_tokens(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 230))
    result = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10", config={"batch_size": 40})
    assert result.success
    assert len(_rows(store)) == 230
    requests = fake_zenodo.oai_requests
    assert len(requests) == 5  # 50 a page
    assert "from" in requests[0].query and "resumptionToken" not in requests[0].query
    for later in requests[1:]:
        assert set(later.query) == {"verb", "resumptionToken"}  # the token is an exclusive argument
    assert len({r.query["resumptionToken"][0] for r in requests[1:]}) == 4
    meta = run_metadata(result)
    assert (meta["pages_read"], meta["complete_list_size"], meta["http_requests"]) == (5, 230, 5)
    # Re-run: nothing new, nothing rewritten.
    again = run_metadata(materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10"))
    assert (again["total_unchanged"], again["total_inserted"], again["total_updated"]) == (230, 0, 0)


def test_empty_window_is_no_records_match_not_a_failure(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY - timedelta(days=3), 5))
    result = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10")
    assert result.success
    assert store.count_datasets("zenodo") == 0
    assert len(fake_zenodo.oai_requests) == 1
    assert run_metadata(result)["total_fetched"] == 0


def test_versions_collapse_into_the_concept_row_latest_wins_across_runs(database_url, store, fake_zenodo):
    v1 = make_zenodo_record(501, DAY + timedelta(days=2, hours=5), concept_recid=500, title="Work v1", version="1.0")
    v2 = make_zenodo_record(502, DAY + timedelta(hours=1), concept_recid=500, title="Work v2", version="2.0")
    v3 = make_zenodo_record(
        503, DAY + timedelta(days=1, hours=1), concept_recid=500, title="Work v3", version="3.0", license="cc0-1.0"
    )
    other = make_zenodo_record(601, DAY + timedelta(hours=2), concept_recid=600)
    fake_zenodo.set_records([v1, v2, v3, other])
    # Day 2 (v3) first, then day 1 (v2), then day 3: v1 edited last; the latest version still wins.
    for day in ("2025-03-11", "2025-03-10", "2025-03-12"):
        assert materialize_zenodo(database_url, fake_zenodo, partition=day, config={"batch_size": 1}).success
    rows = _rows(store)
    assert set(rows) == {"500", "600"}
    work = rows["500"]
    assert work["title"] == "Work v3" and work["license"] == "CC0-1.0"
    assert work["url"] == "https://zenodo.org/records/503"
    meta = work["source_meta"]
    assert (meta["version_count"], meta["version_recids"], meta["latest_recid"]) == (3, [501, 502, 503], 503)
    assert meta["concept_doi"] == "10.5281/zenodo.500" and meta["latest"]["doi"] == "10.5281/zenodo.503"
    assert work["source_updated_at"].replace(tzinfo=UTC) == DAY + timedelta(days=2, hours=5)  # v1's edit
    # Every version in one run, any batch size: the same row.
    again = materialize_zenodo(
        database_url, fake_zenodo, partition_range=("2025-03-10", "2025-03-12"), config={"batch_size": 2}
    )
    assert again.success
    by_partition = partition_metadata(again).values()
    assert sum(m["total_inserted"] + m["total_updated"] for m in by_partition) == 0  # nothing rewritten
    assert _rows(store)["500"]["source_meta"] == meta


def test_row_mapping_from_oai_datacite(database_url, store, fake_zenodo):
    record = make_zenodo_record(
        7001,
        DAY + timedelta(hours=4),
        concept_recid=7000,
        title="Ocean temperatures 2020",
        keywords=("oceanography", "temperature"),
        license="cc-by-4.0",
        creators=(("Doe, Jane", "0000-0002-1825-0097", "CERN"), ("Roe, Rick", None, None)),
        publication_date="2024-06-30",
        resource_type=("Dataset", "Tabular data"),
        version="v2",
        sizes=("1024 Bytes", "2 KB"),
        formats=("text/csv",),
        language="deu",
    )
    fake_zenodo.set_records([record])
    assert materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10").success
    row = _rows(store)["7000"]
    assert (row["title"], row["url"], row["license"]) == (
        "Ocean temperatures 2020",
        "https://zenodo.org/records/7001",
        "CC-BY-4.0",
    )
    assert row["tags"] == ["oceanography", "temperature"] and row["languages"] == ["de"]
    assert row["file_formats"] == ["text/csv"] and row["size_bytes"] == 3024
    assert row["source_created_at"].replace(tzinfo=UTC) == datetime(2024, 6, 30, tzinfo=UTC)
    assert row["enrichment_status"] == "enriched"
    latest = row["source_meta"]["latest"]
    assert latest["creators"] == [
        {"name": "Doe, Jane", "orcid": "0000-0002-1825-0097", "affiliation": ["CERN"]},
        {"name": "Roe, Rick"},
    ]
    assert latest["resource_type"] == {"general": "Dataset", "subtype": "Tabular data"}
    assert (latest["doi"], latest["concept_doi"], latest["version"]) == (
        "10.5281/zenodo.7001",
        "10.5281/zenodo.7000",
        "v2",
    )
    assert latest["access_right"] == "openAccess" and latest["publication_date"] == "2024-06-30"


def test_html_is_reduced_to_text_and_nothing_can_render(database_url, store, fake_zenodo):
    description = (
        '<p>Intro &amp; <a href="https://x.org" onclick="evil()">link</a></p><script>alert("x")</script>'
        "<style>p{color:red}</style><ul><li>one</li><li>two</li></ul>&lt;img src=x onerror=alert(1)&gt;"
        "<p>snake_case_name stays &lt;b&gt;plain&lt;/b&gt;</p><!-- hidden -->"
    )
    fake_zenodo.set_records(
        [
            make_zenodo_record(
                42, DAY, title="A <i>title</i> &amp; more", description=description, keywords=("<b>bold</b> kw",)
            )
        ]
    )
    assert materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10").success
    row = _rows(store)["42"]
    assert row["title"] == "A title & more" and row["tags"] == ["bold kw"]
    text = row["description"]
    assert not TAG_OPENER.search(text) and "alert" not in text and "color:red" not in text and "hidden" not in text
    assert text.split("\n\n") == ["Intro & link", "one", "two", "snake_case_name stays plain"]


def test_malformed_and_deleted_records_are_skipped_and_counted(database_url, store, fake_zenodo):
    good = day_records(DAY, 3, first_recid=100)
    bad = [
        raw_record(
            "<record><header><datestamp>2025-03-10T05:00:00Z</datestamp></header></record>", DAY
        ),  # no identifier
        raw_record(
            "<record><header><identifier>oai:zenodo.org:201</identifier><datestamp>soon</datestamp></header></record>",
            DAY,
        ),
        raw_record(  # no DataCite resource
            "<record><header><identifier>oai:zenodo.org:202</identifier><datestamp>2025-03-10T06:00:00Z</datestamp>"
            "<setSpec>openaire_data</setSpec></header><metadata><oai_dc/></metadata></record>",
            DAY,
        ),
        raw_record(  # no title
            "<record><header><identifier>oai:zenodo.org:203</identifier><datestamp>2025-03-10T07:00:00Z</datestamp></header>"
            '<metadata><resource xmlns="http://datacite.org/schema/kernel-4"><titles/></resource></metadata></record>',
            DAY,
        ),
    ]
    gone = make_zenodo_record(300, DAY + timedelta(hours=8), deleted=True)
    fake_zenodo.set_records(good + bad + [gone])
    result = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10")
    assert result.success
    assert set(_rows(store)) == {"100", "101", "102"}
    meta = run_metadata(result)
    assert (meta["skipped_malformed"], meta["run_skipped_malformed"], meta["skipped_deleted"]) == (4, 4, 1)
    samples = " ".join(meta["malformed_samples"])
    assert "identifier" in samples and "datestamp" in samples and "resource" in samples and "title" in samples


def test_range_run_is_one_list_with_each_partition_counted(database_url, store, fake_zenodo):
    per_day = {DAY - timedelta(days=d): n for d, n in enumerate((4, 2, 3))}  # 03-10, 03-09, 03-08
    records = [r for i, (day, n) in enumerate(per_day.items()) for r in day_records(day, n, first_recid=1000 * (i + 1))]
    fake_zenodo.set_records(records + day_records(DAY - timedelta(days=9), 2, first_recid=9000))
    result = materialize_zenodo(database_url, fake_zenodo, partition_range=("2025-03-08", "2025-03-10"))
    assert result.success
    assert store.count_datasets("zenodo") == 9
    [request] = fake_zenodo.oai_requests
    assert (request.query["from"], request.query["until"]) == (["2025-03-08T00:00:00Z"], ["2025-03-10T23:59:59Z"])
    counts = {key: m["total_inserted"] for key, m in partition_metadata(result).items()}
    assert counts == {"2025-03-08": 3, "2025-03-09": 2, "2025-03-10": 4}
    assert run_metadata(result)["run_partitions"] == 3


def test_first_partition_takes_everything_older(database_url, store, fake_zenodo):
    fake_zenodo.set_records(
        [
            make_zenodo_record(1, datetime(2011, 1, 1, tzinfo=UTC)),
            make_zenodo_record(2, datetime(2013, 5, 1, 3, tzinfo=UTC)),
        ]
    )
    result = materialize_zenodo(database_url, fake_zenodo, partition="2013-05-01")
    assert result.success and set(_rows(store)) == {"1", "2"}
    assert "from" not in fake_zenodo.oai_requests[0].query


def test_deleted_versions_leave_their_work_and_a_work_with_none_left_turns_inactive(database_url, store, fake_zenodo):
    first = [
        make_zenodo_record(501, DAY + timedelta(hours=1), concept_recid=500, title="Work v1"),
        make_zenodo_record(502, DAY + timedelta(hours=2), concept_recid=500, title="Work v2"),
        make_zenodo_record(600, DAY + timedelta(hours=3), title="Single"),
    ]
    fake_zenodo.set_records(first)
    assert materialize_zenodo(database_url, fake_zenodo, partition="2025-03-10").success
    next_day = DAY + timedelta(days=1)
    deletions = [
        make_zenodo_record(502, next_day + timedelta(hours=1), deleted=True),
        make_zenodo_record(600, next_day + timedelta(hours=2), deleted=True),
    ]
    fake_zenodo.set_records(deletions)
    result = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-11")
    assert result.success
    rows = _rows(store)
    assert rows["500"]["is_active"] is True and rows["600"]["is_active"] is False
    work = rows["500"]["source_meta"]
    assert (work["version_recids"], work["version_count"]) == ([501], 1)
    assert rows["600"]["title"] == "Single"  # the text stays; search leaves inactive rows out
    meta = run_metadata(result)
    assert (meta["skipped_deleted"], meta["versions_withdrawn"], meta["works_withdrawn"]) == (2, 2, 1)
    again = materialize_zenodo(database_url, fake_zenodo, partition="2025-03-11")
    assert run_metadata(again)["versions_withdrawn"] == 0 and _rows(store)["600"]["is_active"] is False
    fake_zenodo.set_records(
        [make_zenodo_record(601, next_day + timedelta(hours=5), concept_recid=600, title="Single, again")]
    )
    assert materialize_zenodo(database_url, fake_zenodo, partition="2025-03-11").success
    assert _rows(store)["600"]["is_active"] is True and _rows(store)["600"]["title"] == "Single, again"


def test_a_reversed_partition_range_fails_at_once_saying_what_to_give(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 3))
    with pytest.raises(UnknownPartitionError) as refused:  # before any run exists (the CLI prints one line)
        materialize_zenodo(database_url, fake_zenodo, partition_range=("2025-03-10", "2025-03-01"))
    assert str(refused.value).startswith(
        "Partition range 2025-03-10...2025-03-01 is reversed: its start is after its end. "
        "Give START...END with START <= END, days written YYYY-MM-DD (UTC) from "
    )
    assert fake_zenodo.oai_requests == [] and store.count_datasets() == 0
