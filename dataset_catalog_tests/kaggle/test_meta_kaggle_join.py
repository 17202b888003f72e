"""The Meta Kaggle join on a hand-written, dirty Meta Kaggle (no database involved)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from dataset_catalog.kaggle.mapping import REF_FIELDS_SQL, ref_fields
from dataset_catalog.kaggle.meta_kaggle import MetaKaggleJoin
from dataset_catalog.kaggle.meta_kaggle_csv import MetaKaggleFormatError
from dataset_catalog_tests.fakes.meta_kaggle import (
    EXPECTED_LINES_READ,
    EXPECTED_REFS,
    EXPECTED_SKIPPED,
    FILES,
    write_meta_kaggle,
)


def joined_rows(paths, batch_size=100):
    with MetaKaggleJoin.build(paths) as joined:
        rows = [row for batch in joined.batches(batch_size) for row in batch]
        return joined.report, {r["external_id"]: r for r in rows}


def test_every_good_dataset_resolves_and_every_bad_line_is_counted_once(tmp_path):
    report, rows = joined_rows(write_meta_kaggle(tmp_path))
    assert {ref: r["source_meta"]["meta_kaggle"]["dataset_id"] for ref, r in rows.items()} == EXPECTED_REFS
    assert report.skipped == {k: v for k, v in EXPECTED_SKIPPED.items() if v}
    assert report.lines_read == EXPECTED_LINES_READ == report.resolved + report.total_skipped
    assert report.csv.rejected == {"Datasets": {"missing_columns": 1}}  # the truncated line "16,1,1"


def test_user_owned_dataset_takes_everything_from_its_current_version(tmp_path):
    _, rows = joined_rows(write_meta_kaggle(tmp_path))
    row = rows["alice/titanic-clean"]
    assert row["url"] == "https://www.kaggle.com/datasets/alice/titanic-clean"
    assert (row["title"], row["subtitle"], row["license"]) == (
        "Titanic, cleaned",
        "Survival data",
        "CC0: Public Domain",
    )
    assert row["description"] == 'Line one\nLine "two", with a comma\n\nLine four'  # multi-line quoted field
    assert row["tags"] == ["computer science", "nlp"]  # DatasetTags -> Tags, duplicate link once, sorted
    assert (row["view_count"], row["download_count"], row["like_count"]) == (1000, 200, 30)
    assert row["source_created_at"] == datetime(2020, 2, 3, 11, 12, 13, tzinfo=UTC)  # MM/DD/YYYY HH:MM:SS
    assert row["source_updated_at"] == datetime(2021, 3, 4, tzinfo=UTC)  # date-only MM/DD/YYYY
    assert row["source_meta"]["meta_kaggle"] == {
        "dataset_id": 1,
        "current_version_id": 501,
        "version_number": 2,
        "owner_user_id": 1,
        "owner_organization_id": None,
        "creator_user_id": 1,
        "total_kernels": 4,
        "total_uncompressed_bytes": 200,
    }
    assert row["source"] == "kaggle" and "enrichment_status" not in row


def test_org_owned_float_ids_bad_dates_and_odd_counts(tmp_path):
    _, rows = joined_rows(write_meta_kaggle(tmp_path))
    org = rows["acme/acme-data"]  # OwnerOrganizationId -> Organizations.Slug
    assert org["source_meta"]["meta_kaggle"]["owner_organization_id"] == 10 and org["tags"] == ["finance"]
    assert org["source_updated_at"] is None  # "not a date"
    floats = rows["dave/float-ids"]  # Id 3.0, owner 4.0 (also 4.0 in Users.csv), version 503.0
    assert floats["source_created_at"] is None  # 13/45/2020 99:00:00
    assert floats["description"] == "Padded description"
    assert (floats["view_count"], floats["download_count"], floats["like_count"]) == (7, 3, 2)
    assert floats["tags"] == ["computer science"]  # DatasetTags.DatasetId 3.0
    counts = rows["carol/counts"]
    assert (counts["view_count"], counts["download_count"], counts["like_count"]) == (None, 1000, None)
    assert counts["license"] is None


def test_invalid_utf8_is_replaced_not_dropped(tmp_path):
    report, rows = joined_rows(write_meta_kaggle(tmp_path))
    row = rows["alice/cafe-data"]
    assert row["title"] == "Caf\ufffd data \ufffd"
    assert row["description"] == "broken \ufffd( bytes\non two lines"
    assert report.csv.repaired_utf8 == ["DatasetVersions"]
    assert "bob/shared" in rows  # bob's DisplayName has bad bytes: a column the seed never reads


def test_duplicates_keep_the_most_complete_and_newest(tmp_path):
    _, rows = joined_rows(write_meta_kaggle(tmp_path))
    assert rows["alice/dup-id-new"]["title"] == "Dup New" and "alice/dup-id-old" not in rows
    assert rows["bob/shared"]["title"] == "Shared New"  # refs collide: the newer dataset id wins


def test_batches_cover_all_rows_in_dataset_id_order(tmp_path):
    paths = write_meta_kaggle(tmp_path)
    with MetaKaggleJoin.build(paths) as joined:
        batches = list(joined.batches(3))
    assert [len(b) for b in batches] == [3, 3, 1]
    ids = [r["source_meta"]["meta_kaggle"]["dataset_id"] for b in batches for r in b]
    assert ids == sorted(EXPECTED_REFS.values())


def test_scratch_folder_is_removed_on_close(tmp_path):
    paths = write_meta_kaggle(tmp_path / "files")
    with MetaKaggleJoin.build(paths, temp_parent=tmp_path) as joined:
        assert list(tmp_path.glob(".join-*"))
        list(joined.batches(10))
    assert not list(tmp_path.glob(".join-*"))


def test_a_missing_column_is_a_clear_error(tmp_path):
    files = dict(FILES)
    files["Users"] = b"Id,DisplayName\n1,Alice\n"
    with pytest.raises(MetaKaggleFormatError, match="Users.csv lacks the column.*UserName.*force_redownload"):
        MetaKaggleJoin.build(write_meta_kaggle(tmp_path, files))


def test_a_missing_file_is_a_clear_error(tmp_path):
    paths = write_meta_kaggle(tmp_path)
    paths["Tags"].unlink()
    with pytest.raises(MetaKaggleFormatError, match="Tags.csv.*force_redownload=true"):
        MetaKaggleJoin.build(paths)


def test_many_bad_utf8_lines_repair_a_copy_of_the_file_with_the_same_result(tmp_path, monkeypatch):
    import dataset_catalog.kaggle.meta_kaggle_csv as csv_module

    _, line_by_line = joined_rows(write_meta_kaggle(tmp_path / "a"))
    monkeypatch.setattr(csv_module, "MAX_LINES_REREAD", 0)
    report, whole_file = joined_rows(write_meta_kaggle(tmp_path / "b"))
    assert whole_file == line_by_line and report.csv.repaired_utf8 == ["DatasetVersions"]


def test_malformed_lines_are_rejected_counted_and_shown_and_the_rest_is_joined(tmp_path):
    """Each of these made DuckDB's sniffer raise InvalidInputException: the seed stopped at one line."""
    files = dict(FILES)
    files["DatasetTags"] = b"Id,DatasetId,TagId\n1,1,101\n2,1\n3,2,100,9\n"  # too few and too many fields
    files["Tags"] = FILES["Tags"] + b'103,,"broken,unterminated,x,y,z,a,b,c,d\n'  # an unterminated quote, to the end
    report, rows = joined_rows(write_meta_kaggle(tmp_path, files))
    assert {ref: r["source_meta"]["meta_kaggle"]["dataset_id"] for ref, r in rows.items()} == EXPECTED_REFS
    assert report.csv.rejected == {
        "Datasets": {"missing_columns": 1},
        "DatasetTags": {"missing_columns": 1, "too_many_columns": 1},
        "Tags": {"unbalanced_quote": 1},
    }
    assert "DatasetTags.csv line 3: missing columns: 2,1" in report.csv.rejected_samples
    assert "DatasetTags.csv line 4: too many columns: 3,2,100,9" in report.csv.rejected_samples
    assert 'Tags.csv line 6: unbalanced quote: 103,,"broken,unterminated,x,y,z,a,b,c,d' in report.csv.rejected_samples


@pytest.mark.parametrize("at", [1, 9, 18, 19])  # after the header, mid-file, before and after the short line
def test_an_unbalanced_quote_in_datasets_costs_its_own_line_not_the_lines_after_it(tmp_path, at):
    """DuckDB took every line after the quote into one field and rejected them all: a third of the seed lost."""
    files = dict(FILES)
    lines = FILES["Datasets"].splitlines(keepends=True)
    lines.insert(at, b'999998,"unbalanced,3,4\n')
    files["Datasets"] = b"".join(lines)
    report, rows = joined_rows(write_meta_kaggle(tmp_path, files))
    assert {ref: r["source_meta"]["meta_kaggle"]["dataset_id"] for ref, r in rows.items()} == EXPECTED_REFS
    assert report.lines_read == EXPECTED_LINES_READ
    assert report.csv.rejected == {"Datasets": {"missing_columns": 1, "unbalanced_quote": 1}}  # with "16,1,1"
    assert f'Datasets.csv line {at + 1}: unbalanced quote: 999998,"unbalanced,3,4' in report.csv.rejected_samples
    short_line = lines.index(b"16,1,1\n") + 1
    assert f"Datasets.csv line {short_line}: missing columns: 16,1,1" in report.csv.rejected_samples


def test_an_unbalanced_quote_among_multiline_descriptions_costs_its_own_line(tmp_path):
    files = dict(FILES)
    lines = FILES["DatasetVersions"].splitlines(keepends=True)
    lines.insert(1, b'599,99,599,1,MIT,"05/06/2020,1,Stray,stray,,,,1,1\n')  # before a multi-line description
    files["DatasetVersions"] = b"".join(lines)
    report, rows = joined_rows(write_meta_kaggle(tmp_path, files))
    assert set(rows) == set(EXPECTED_REFS)
    assert rows["alice/titanic-clean"]["description"] == 'Line one\nLine "two", with a comma\n\nLine four'
    assert report.csv.rejected["DatasetVersions"] == {"unbalanced_quote": 1}


@pytest.mark.parametrize("file_name", ["DatasetVersions", "Datasets"])
def test_a_carriage_return_outside_quotes_loses_nothing(tmp_path, file_name):
    """DuckDB's parser stopped on the whole file ("reached an invalid state") and the seed aborted."""
    files = dict(FILES)
    if file_name == "DatasetVersions":
        files[file_name] = FILES[file_name].replace(b"Org description", b"Org\rdescription", 1)
    else:  # the first data line: a CR before its first field
        header, rest = FILES[file_name].split(b"\n", 1)
        files[file_name] = header + b"\n" + rest.replace(b",", b"\r,", 1)
    report, rows = joined_rows(write_meta_kaggle(tmp_path, files))
    assert set(rows) == set(EXPECTED_REFS)
    if file_name == "DatasetVersions":
        assert rows["acme/acme-data"]["description"] == "Org description"
    assert "unbalanced_quote" not in report.csv.rejected.get(file_name, {})


@pytest.mark.parametrize("content", [b"\x7fELF\x02\x01\x01\x00\x00\x00binary", b""])
def test_a_file_that_is_not_csv_is_our_error_naming_it(tmp_path, content):
    """A binary Datasets.csv raised a raw _csv.Error."""
    files = dict(FILES)
    files["Datasets"] = content
    with pytest.raises(MetaKaggleFormatError, match=r"Datasets.csv is not a CSV file: its first line holds"):
        MetaKaggleJoin.build(write_meta_kaggle(tmp_path, files))


def test_a_header_only_datasets_file_joins_nothing(tmp_path):
    files = dict(FILES)
    files["Datasets"] = FILES["Datasets"].split(b"\n", 1)[0] + b"\n"
    report, rows = joined_rows(write_meta_kaggle(tmp_path, files))
    assert rows == {} and report.lines_read == 0


@pytest.mark.parametrize("ref", ["alice/titanic-clean", "o'neil/data set", "a/b;rm -rf ~", "user/ünïcode"])
def test_the_bulk_download_line_quotes_a_ref_as_the_mapping_does(ref):
    line = duckdb.connect().execute(f"SELECT {REF_FIELDS_SQL} FROM (SELECT $ref AS ref)", {"ref": ref}).fetchone()[1]
    assert line == ref_fields(ref)["load_code"]
