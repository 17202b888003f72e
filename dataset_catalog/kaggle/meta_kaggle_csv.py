"""Reading Meta Kaggle's CSVs into DuckDB: dialect, rejected lines, unbalanced quotes and invalid UTF-8.

DuckDB's CSV reader was the fastest engine measured (docs/kaggle.md, "Choosing the engine"). Nothing
is sniffed: the dialect is RFC 4180 and the columns are the file's own header, every one as text,
so one malformed line can't make DuckDB give up on a whole file. DuckDB rejects a line with
too few or too many fields, or invalid UTF-8 in a column we read; the others are read. An
unbalanced quote is different: DuckDB takes the lines after it into one field and rejects (or
fails on) them all, so a file where a quote went wrong is read again record by record
(csv_records.split_records), which rejects only the bad lines. A line with invalid UTF-8 is
still a good dataset: rejected lines are recorded (store_rejects), read again by Python with the
bad bytes replaced by U+FFFD, and inserted through the same SELECT. Lines rejected for other
reasons are counted per file, and the first few are kept to show. A file that is not CSV text
at all fails with MetaKaggleFormatError.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dataset_catalog.errors import DatasetCatalogError
from dataset_catalog.kaggle.csv_records import SplitReport, split_records

logger = logging.getLogger(__name__)

META_KAGGLE_FILES = ("Datasets", "DatasetVersions", "Users", "Organizations", "Tags", "DatasetTags")

# Columns the seed reads from each file; the others are never parsed into values.
NEEDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Datasets": (
        "Id",
        "CreatorUserId",
        "OwnerUserId",
        "OwnerOrganizationId",
        "CurrentDatasetVersionId",
        "CreationDate",
        "LastActivityDate",
        "TotalViews",
        "TotalDownloads",
        "TotalVotes",
        "TotalKernels",
    ),
    "DatasetVersions": (
        "Id",
        "DatasetId",
        "LicenseName",
        "VersionNumber",
        "Title",
        "Slug",
        "Subtitle",
        "Description",
        "TotalUncompressedBytes",
    ),
    "Users": ("Id", "UserName"),
    "Organizations": ("Id", "Slug"),
    "Tags": ("Id", "Name"),
    "DatasetTags": ("DatasetId", "TagId"),
}

_CHUNK_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 4 * 1024 * 1024  # a longer CSV record is rejected (DuckDB max_line_size)
MAX_LINES_REREAD = 10_000  # more lines with bad UTF-8 than this: repair a copy of the whole file
SAMPLE_REJECTED_LINES = 3  # rejected lines shown per file (line number, reason, start of the line)


class MetaKaggleFormatError(DatasetCatalogError):
    """A Meta Kaggle file is missing or lacks a column the seed needs (another export format)."""


@dataclass
class CsvReadReport:
    """Lines DuckDB could not take as rows, per file and error type (invalid UTF-8 is repaired)."""

    rejected: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected_samples: list[str] = field(default_factory=list)  # "Datasets.csv line 7: too many columns: 3,d,e,f"
    repaired_utf8: list[str] = field(default_factory=list)


def sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def csv_scan(path: Path, columns: list[str], rejects: str | None = None) -> str:
    """A read_csv() table expression: the given columns, every one as text, RFC-4180 quoting,
    multi-line fields, no sniffing."""
    declared = ", ".join(f"{_sql_text(c)}: 'VARCHAR'" for c in columns)
    options = [
        "header=true",
        "delim=','",
        "quote='\"'",
        "escape='\"'",
        "auto_detect=false",
        f"columns={{{declared}}}",
        f"max_line_size={MAX_LINE_BYTES}",
        "parallel=true",
    ]
    if rejects:
        options += ["store_rejects=true", f"rejects_table='{rejects}_errors'", f"rejects_scan='{rejects}_scans'"]
    return f"read_csv({sql_path(path)}, {', '.join(options)})"


def check_columns(name: str, path: Path) -> list[str]:
    """The header's columns; fail clearly when the file is not CSV text or lacks a needed column
    (another export format, a wrong file)."""
    with path.open("rb") as f:
        raw = f.readline(1 << 20)
    if b"\x00" in raw or not raw.strip():
        what = "binary data" if b"\x00" in raw else "nothing"
        raise MetaKaggleFormatError(
            f"{path.name} is not a CSV file: its first line holds {what}, not a header. Re-download Meta Kaggle "
            "with force_redownload=true, or check that the file is kaggle/meta-kaggle's."
        )
    try:
        header = [c.strip() for c in next(csv.reader([raw.decode("utf-8-sig", "replace")]), [])]
    except csv.Error as exc:
        raise MetaKaggleFormatError(f"{path.name} is not a CSV file: its header can't be read ({exc}).") from None
    present = set(header)
    missing = [c for c in NEEDED_COLUMNS[name] if c not in present]
    if missing:
        raise MetaKaggleFormatError(
            f"{path.name} lacks the column(s) {', '.join(missing)}; found {', '.join(sorted(present))}. "
            "Re-download Meta Kaggle with force_redownload=true, or check that it is kaggle/meta-kaggle."
        )
    return header


def load_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    path: Path,
    select: str,
    *,
    work_dir: Path,
    report: CsvReadReport,
    where: str = "",
) -> None:
    """CREATE TEMP TABLE `table` AS SELECT `select` FROM the file [WHERE ...], repairing bad UTF-8
    and reading past an unbalanced quote.

    DuckDB rejects a line with invalid UTF-8 in a column we read. Those lines are read again by
    Python (bad bytes replaced by U+FFFD) and inserted through the same SELECT; if there are very
    many, the whole file is repaired into a copy and read once more instead. An unbalanced quote
    makes DuckDB reject (or fail on) every line up to the next quote: then the file is split into
    its records by split_records, which rejects only the bad lines, and that copy is read.
    """
    header = check_columns(name, path)
    rejects = f"rej_{table}"

    if len(set(header)) != len(header):
        raise MetaKaggleFormatError(f"{path.name} is not a Meta Kaggle file: its header repeats a column name.")

    def run(source: Path) -> dict[str, int]:
        for stale in (table, f"{rejects}_errors", f"{rejects}_scans"):
            con.execute(f"DROP TABLE IF EXISTS {stale}")
        try:
            con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT {select} FROM {csv_scan(source, header, rejects)} {where}"
            )
        except duckdb.Error as exc:
            raise MetaKaggleFormatError(
                f"{path.name} could not be read as CSV ({type(exc).__name__}: {str(exc)[:300]}). Re-download Meta "
                "Kaggle with force_redownload=true."
            ) from None
        rows = con.execute(
            f"SELECT error_type::VARCHAR, count(DISTINCT line) FROM {rejects}_errors GROUP BY ALL"
        ).fetchall()
        return {str(kind).lower().replace(" ", "_"): int(n) for kind, n in rows}

    records = work_dir / f".{path.stem}.records.csv"
    try:
        source, errors, split = _read_past_bad_quotes(con, path, records, len(header), rejects, run)
        _repair_utf8_lines(con, table, name, source, select, where, header, errors, work_dir, report, rejects, run)
    finally:
        records.unlink(missing_ok=True)
    errors = {kind: n for kind, n in errors.items() if n}
    samples = [(line, reason.replace("_", " "), text) for line, reason, text in split.samples] if split else []
    if split:
        for reason, n in split.rejected.items():
            errors[reason] = errors.get(reason, 0) + n
    if errors:
        report.rejected[name] = errors
        samples += con.execute(
            f"SELECT DISTINCT ON (line) line, lower(error_type::VARCHAR), csv_line FROM {rejects}_errors "
            f"WHERE error_type <> 'INVALID ENCODING' ORDER BY line LIMIT {SAMPLE_REJECTED_LINES}"
        ).fetchall()
        report.rejected_samples += [
            f"{path.name} line {line}: {kind}: {' '.join(str(text or '').split())[:80]}"
            for line, kind, text in sorted(samples, key=lambda sample: sample[0])[:SAMPLE_REJECTED_LINES]
        ]
        logger.warning(f"{path.name}: lines not readable as CSV rows: {errors}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_errors")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scans")


def _read_past_bad_quotes(
    con: duckdb.DuckDBPyConnection, path: Path, records: Path, width: int, rejects: str, run: Callable
) -> tuple[Path, dict[str, int], SplitReport | None]:
    """Read `path`; if a quote went wrong, read its records (split_records) from `records` instead.
    Returns the file read, DuckDB's rejected lines per error type, and the split's own rejects."""
    try:
        errors = run(path)
    except MetaKaggleFormatError as exc:  # e.g. "The CSV Parser state machine reached an invalid state"
        failure: MetaKaggleFormatError | None = exc
    else:
        failure = None
        # A rejected stretch with a quote in it, or DuckDB's own quoting errors: a quote went wrong.
        (trouble,) = con.execute(
            f"SELECT count(*) FROM {rejects}_errors WHERE error_type <> 'INVALID ENCODING' AND (error_type IN "
            "('UNQUOTED VALUE', 'INVALID STATE', 'LINE SIZE OVER MAXIMUM') OR contains(csv_line, '\"'))"
        ).fetchone()
        if not trouble:
            return path, errors, None
    logger.warning(f"{path.name}: a quote or line break is out of place, reading the file record by record")
    split = split_records(path, records, width, max_record_bytes=MAX_LINE_BYTES, max_samples=SAMPLE_REJECTED_LINES)
    if split.stray_carriage_returns:
        logger.warning(
            f"{path.name}: {split.stray_carriage_returns} record(s) with a carriage return outside quotes, "
            "read with it as a space"
        )
    try:
        errors = run(records)
    except MetaKaggleFormatError:
        raise failure or MetaKaggleFormatError(
            f"{path.name} could not be read as CSV even record by record. Re-download Meta Kaggle with "
            "force_redownload=true."
        ) from None
    return records, errors, split


def _repair_utf8_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    source: Path,
    select: str,
    where: str,
    header: list[str],
    errors: dict[str, int],
    work_dir: Path,
    report: CsvReadReport,
    rejects: str,
    run: Callable,
) -> None:
    """Insert the lines of `source` DuckDB rejected for invalid UTF-8, with the bad bytes replaced
    (`errors` is updated to what is still rejected)."""
    bad_lines = errors.get("invalid_encoding", 0)
    if 0 < bad_lines <= MAX_LINES_REREAD:
        logger.warning(f"{name}.csv: {bad_lines} line(s) with invalid UTF-8, re-read with the bytes replaced")
        positions = [
            int(p)
            for (p,) in con.execute(
                f"SELECT DISTINCT line_byte_position FROM {rejects}_errors "
                f"WHERE error_type = 'INVALID ENCODING' ORDER BY 1"
            ).fetchall()
        ]
        records = [r for r in (read_record(source, pos, len(header)) for pos in positions) if r is not None]
        if records:
            recovered = pa.table({c: [r[i] for r in records] for i, c in enumerate(header)})
            con.register("recovered_lines", recovered)
            con.execute(f"INSERT INTO {table} SELECT {select} FROM recovered_lines {where}")
            con.unregister("recovered_lines")
        errors["invalid_encoding"] = bad_lines - len(records)
        report.repaired_utf8.append(name)
    elif bad_lines:
        logger.warning(f"{name}.csv: {bad_lines} line(s) with invalid UTF-8, repairing a copy of the file")
        repaired = repair_utf8(source, work_dir / f".{name}.utf8.csv")
        try:
            errors.clear()
            errors.update(run(repaired))
        finally:
            repaired.unlink(missing_ok=True)
        report.repaired_utf8.append(name)


def read_record(path: Path, position: int, width: int) -> list[str | None] | None:
    """The CSV record starting at byte `position`, decoded with bad bytes replaced; None if unreadable."""
    window = 1 << 16
    with path.open("rb") as f:
        # DuckDB's line_byte_position can be a byte past the line start: back up to the newline.
        base = max(0, position - 64)
        f.seek(base)
        before = f.read(position - base + 1)  # up to and including the byte at `position`
        if not before.endswith(b"\n"):  # (pointing at a newline means the line starts after it)
            before = before[:-1]
        cut = before.rfind(b"\n")
        if cut >= 0:
            position = base + cut + 1
        while True:
            f.seek(position)
            raw = f.read(window)
            at_eof = len(raw) < window
            rows = csv.reader(io.StringIO(raw.decode("utf-8", "replace"), newline=""))
            record = next(rows, None)
            complete = at_eof or next(rows, None) is not None  # a following record: this one ended
            if complete or window >= MAX_LINE_BYTES:
                break
            window *= 4
    if not complete or record is None or len(record) != width:
        return None
    return [value if value != "" else None for value in record]  # DuckDB reads empty fields as NULL


def repair_utf8(source: Path, dest: Path) -> Path:
    """Copy `source` with every invalid UTF-8 sequence replaced by U+FFFD (streamed, chunk-safe)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    with source.open("rb") as fin, tmp.open("wb") as fout:
        while chunk := fin.read(_CHUNK_BYTES):
            fout.write(decoder.decode(chunk).encode("utf-8"))
        fout.write(decoder.decode(b"", final=True).encode("utf-8"))
    tmp.replace(dest)
    return dest


def duckdb_connection(work_dir: Path, *, memory_limit: str = "1GB", threads: int | None = None) -> Any:
    """An in-memory DuckDB that spills to `work_dir` rather than exceeding `memory_limit`."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{memory_limit}'")
    con.execute(f"SET temp_directory={sql_path(work_dir / '.duckdb-spill')}")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")
    con.execute(f"SET threads={threads or max(1, min(4, os.cpu_count() or 1))}")
    return con


def file_map(paths: Mapping[str, Path]) -> dict[str, Path]:
    missing = [n for n in META_KAGGLE_FILES if n not in paths or not Path(paths[n]).is_file()]
    if missing:
        raise MetaKaggleFormatError(
            f"Meta Kaggle files missing: {', '.join(f'{n}.csv' for n in missing)}. "
            "Run kaggle_seeded_datasets with force_redownload=true to fetch them again."
        )
    return {n: Path(paths[n]) for n in META_KAGGLE_FILES}
