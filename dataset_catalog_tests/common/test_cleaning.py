"""Tolerant coercion of untrusted values: the fast paths must agree with the careful ones."""

from datetime import UTC, datetime, timedelta, timezone

from dataset_catalog.common.cleaning import clean_str_list, parse_datetime


def test_clean_str_list_keeps_clean_lists_and_repairs_the_rest():
    assert clean_str_list(["language:en", "format:csv", "language:en"]) == ["language:en", "format:csv"]
    assert clean_str_list([]) == [] and clean_str_list(None) == [] and clean_str_list("solo") == ["solo"]
    assert clean_str_list(["a", "", "  ", "b"]) == ["a", "b"]  # empty and blank items dropped
    assert clean_str_list(["nul\x00byte", "tab\tin"]) == ["nulbyte", "tab\tin"]
    assert clean_str_list([1, "a", None, 2.5]) == ["1", "a", "2.5"]
    assert clean_str_list(["x" * 300], max_chars=256) == ["x" * 256]
    assert clean_str_list([f"t{i}" for i in range(600)]) == [f"t{i}" for i in range(500)]


def test_clean_str_list_fast_path_agrees_with_the_careful_path():
    # A non-str item forces the careful path for the rest of the list; results must not differ.
    for items in (["a", " b "], ["a", "  ", "b"], [" a", "a"], ["x\u3000"], ["ok", "fine"], ["bad\ud800"]):
        careful = clean_str_list([None, *items])
        assert clean_str_list(items) == careful, items
    assert clean_str_list(["a", " b "]) == ["a", "b"] and clean_str_list([" a", "a"]) == ["a"]


def test_parse_datetime_reads_the_usual_forms_as_utc():
    assert parse_datetime("2025-06-01T10:20:30.000Z") == datetime(2025, 6, 1, 10, 20, 30, tzinfo=UTC)
    assert parse_datetime("2025-06-01T12:00:00+02:00") == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert parse_datetime(" 2025-06-01 ") == datetime(2025, 6, 1, tzinfo=UTC)  # naive: taken as UTC
    aware = datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert parse_datetime(aware) == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert parse_datetime("yesterday-ish") is None and parse_datetime("") is None and parse_datetime(5) is None
