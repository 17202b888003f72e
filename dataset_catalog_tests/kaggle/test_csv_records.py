"""split_records: an unbalanced quote costs its own line, not the lines after it."""

from __future__ import annotations

import csv

import pytest

from dataset_catalog.kaggle.csv_records import split_records

HEADER = b"Id,Title,Count\n"
BAD_QUOTE = b'999998,"unbalanced,3\n'


def _rows(n: int, start: int = 1) -> list[bytes]:
    return [f"{i},title {i},{i * 2}\n".encode() for i in range(start, start + n)]


def _split(tmp_path, lines: list[bytes], max_record_bytes: int = 1 << 20):
    source, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(HEADER + b"".join(lines))
    report = split_records(source, dest, 3, max_record_bytes=max_record_bytes)
    with dest.open(newline="") as f:
        kept = list(csv.reader(f, strict=True))
    assert kept[0] == ["Id", "Title", "Count"]
    return report, kept[1:]


@pytest.mark.parametrize("at", [0, 200, 299, 300])
def test_an_unbalanced_quote_without_other_quotes_loses_only_its_line(tmp_path, at):
    lines = _rows(300)
    lines.insert(at, BAD_QUOTE)
    report, kept = _split(tmp_path, lines)
    assert [row[0] for row in kept] == [str(i) for i in range(1, 301)]
    assert report.rejected == {"unbalanced_quote": 1}
    assert report.samples == [(at + 2, "unbalanced_quote", '999998,"unbalanced,3')]  # line 1 is the header


def test_an_unbalanced_quote_among_quoted_multiline_records_loses_only_its_line(tmp_path):
    quoted = [f'{i},"title ""{i}"", with a comma\nand a second line",{i}\n'.encode() for i in range(1, 7)]
    lines = [*quoted[:3], BAD_QUOTE, *quoted[3:]]
    report, kept = _split(tmp_path, lines)
    assert [row[0] for row in kept] == ["1", "2", "3", "4", "5", "6"]
    assert kept[0][1] == 'title "1", with a comma\nand a second line'
    assert report.rejected == {"unbalanced_quote": 1}


def test_short_and_long_lines_are_rejected_by_reason_and_line_number(tmp_path):
    lines = [*_rows(3), b"4,short\n", *_rows(2, start=5), b"7,a,b,c\n", b'8,"quoted, long",1,2\n', *_rows(1, 9)]
    report, kept = _split(tmp_path, lines)
    assert [row[0] for row in kept] == ["1", "2", "3", "5", "6", "9"]
    assert report.rejected == {"missing_columns": 1, "too_many_columns": 2}
    assert [(n, reason) for n, reason, _ in report.samples] == [
        (5, "missing_columns"),
        (8, "too_many_columns"),
        (9, "too_many_columns"),
    ]


def test_a_quote_open_longer_than_the_bound_is_rejected_and_reading_goes_on(tmp_path):
    lines = [b'1,"a title that runs on\n', *(b"and on,\n" for _ in range(50)), b'the end",1\n', *_rows(2, 2)]
    report, kept = _split(tmp_path, lines, max_record_bytes=100)
    assert [row[0] for row in kept] == ["2", "3"]  # the stray continuation lines are rejected one by one
    assert report.rejected["unbalanced_quote"] >= 1
    generous_report, generous = _split(tmp_path, lines)
    assert [row[0] for row in generous] == ["1", "2", "3"] and generous_report.rejected == {}


def test_invalid_utf8_and_crlf_are_copied_byte_for_byte(tmp_path):
    lines = [b"1,caf\xe9 \xff,2\r\n", b'2,"two\r\nlines",3\r\n']
    source, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(HEADER + b"".join(lines))
    report = split_records(source, dest, 3, max_record_bytes=1 << 20)
    assert report.rejected == {} and dest.read_bytes() == source.read_bytes()


def test_a_carriage_return_outside_quotes_becomes_a_space_and_crlf_and_quoted_ones_stay(tmp_path):
    lines = [b"1,old\rtitle,2\n", b'2,"quoted\rkept",4\r\n', b"3,crlf,6\r\n"]
    source, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(HEADER + b"".join(lines))
    report = split_records(source, dest, 3, max_record_bytes=1 << 20)
    assert dest.read_bytes() == HEADER + b'1,old title,2\n2,"quoted\rkept",4\r\n3,crlf,6\r\n'
    assert report.stray_carriage_returns == 1 and report.rejected == {}
