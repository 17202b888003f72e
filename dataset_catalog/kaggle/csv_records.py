"""Splitting a CSV file into its records when a quote is unbalanced, losing only the bad lines.

A quote that is opened and never closed (`999998,"unbalanced,3,4`) makes every CSV reader take the
lines after it as one quoted field, up to the next quote in the file: DuckDB then rejects that
whole stretch as one line, losing every good row in it. Here a record grows from a line while its
quotes are unbalanced, up to a bounded size; it is kept when it parses as one RFC 4180 record of
the header's width. Otherwise only its first line is rejected, and reading starts again at the
next line, so the good lines after a bad quote are read as the records they are.

A carriage return alone outside quotes (`1,old\rtitle,3` in a file of `\n` lines) stops DuckDB's
parser for the whole file ("the CSV Parser state machine reached an invalid state"): each such
CR is replaced by a space, so the record keeps its data and the file reads.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

SAMPLE_CHARS = 80  # of a rejected line, in a sample


@dataclass
class SplitReport:
    """Lines rejected by split_records, per reason, and the first few (line number, reason, start)."""

    rejected: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[int, str, str]] = field(default_factory=list)
    stray_carriage_returns: int = 0  # records whose lone CRs outside quotes became spaces

    def reject(self, number: int, reason: str, line: bytes, max_samples: int) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if len(self.samples) < max_samples:
            text = " ".join(line.decode("utf-8", "replace").split())[:SAMPLE_CHARS]
            self.samples.append((number, reason, text))


def split_records(source: Path, dest: Path, width: int, *, max_record_bytes: int, max_samples: int = 3) -> SplitReport:
    """Copy `source` to `dest` keeping the header and every record of `width` fields; reject the rest.

    Line numbers count from 1 at the header, as DuckDB's rejects do. Records are copied byte for
    byte (invalid UTF-8 included: the reader repairs that).
    """
    report = SplitReport()
    with source.open("rb") as fin, dest.open("wb") as fout:
        fout.write(fin.readline())  # the header, checked by the caller
        for kind, number, raw in _records(enumerate(fin, start=2), width, max_record_bytes):
            if kind == "record":
                if b"\r" in raw.rstrip(b"\r\n"):
                    repaired = _without_stray_carriage_returns(raw)
                    report.stray_carriage_returns += repaired != raw
                    raw = repaired
                fout.write(raw)
            else:
                report.reject(number, kind, raw, max_samples)
    return report


def _records(lines: Iterator[tuple[int, bytes]], width: int, max_bytes: int) -> Iterator[tuple[str, int, bytes]]:
    """("record", first line number, bytes) for each good record; (reason, line number, line) for each
    rejected line."""
    pending: deque[tuple[int, bytes]] = deque()  # lines read and not yet decided
    while True:
        if not pending:
            line = next(lines, None)
            if line is None:
                return
            pending.append(line)
        quotes = size = used = 0
        while True:  # grow a record from pending[0] until its quotes balance
            if used == len(pending):
                line = next(lines, None)
                if line is None:
                    break
                pending.append(line)
            raw = pending[used][1]
            quotes += raw.count(b'"')
            size += len(raw)
            used += 1
            if quotes % 2 == 0 or size > max_bytes:
                break
        first_number, first_line = pending[0]
        if used == 1 and quotes == 0:  # the common case, without a parser: fields are between commas
            fields = first_line.count(b",") + 1 if first_line.strip(b"\r\n") else width
            reason = _width_reason(fields, width)
        elif quotes % 2:
            reason = "unbalanced_quote"  # never closed within max_bytes or before the end of the file
        else:
            reason = _parse_reason(b"".join(raw for _, raw in islice(pending, used)), width)
        if reason is None:
            yield "record", first_number, b"".join(pending.popleft()[1] for _ in range(used))
        else:
            pending.popleft()  # only the first line: the next one may start a good record
            yield reason, first_number, first_line


def _without_stray_carriage_returns(record: bytes) -> bytes:
    """`record` with each CR outside quotes that does not end a line (CRLF) made a space."""
    out, quoted = bytearray(), False
    for i, byte in enumerate(record):
        if byte == 0x22:  # '"': an escaped quote ("") toggles twice, leaving the state as it was
            quoted = not quoted
        elif byte == 0x0D and not quoted and record[i + 1 : i + 2] != b"\n":
            byte = 0x20
        out.append(byte)
    return bytes(out)


def _width_reason(fields: int, width: int) -> str | None:
    if fields == width:
        return None
    return "missing_columns" if fields < width else "too_many_columns"


def _parse_reason(raw: bytes, width: int) -> str | None:
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8", "replace"), newline=""), strict=True))
    except csv.Error:
        return "unbalanced_quote"  # e.g. a closing quote followed by text: it closed someone else's field
    if len(rows) != 1:
        return "unbalanced_quote"
    return _width_reason(len(rows[0]), width)
