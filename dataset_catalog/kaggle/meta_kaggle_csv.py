"""Reading Meta Kaggle's CSVs into DuckDB: dialect, rejected lines and invalid UTF-8.

DuckDB's CSV reader is the fastest of the engines measured (see docs/kaggle-seed.md) but it
rejects a whole line whose bytes are not valid UTF-8. Such a line is still a good dataset, so a
file with any is first copied with the bad bytes replaced by U+FFFD and read again from the copy.
"""

from __future__ import annotations

import codecs
import csv
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

META_KAGGLE_FILES = ("Datasets", "DatasetVersions", "Users", "Organizations", "Tags", "DatasetTags")

# Columns the seed reads from each file; the others are never parsed into values.
NEEDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Datasets": (
        "Id", "CreatorUserId", "OwnerUserId", "OwnerOrganizationId", "CurrentDatasetVersionId",
        "CreationDate", "LastActivityDate", "TotalViews", "TotalDownloads", "TotalVotes", "TotalKernels",
    ),
    "DatasetVersions": (
        "Id", "DatasetId", "LicenseName", "VersionNumber", "Title", "Slug", "Subtitle", "Description",
        "TotalUncompressedBytes",
    ),
    "Users": ("Id", "UserName"),
    "Organizations": ("Id", "Slug"),
    "Tags": ("Id", "Name"),
    "DatasetTags": ("DatasetId", "TagId"),
}

_CHUNK_BYTES = 16 * 1024 * 1024


class MetaKaggleFormatError(ValueError):
    """A Meta Kaggle file lacks a column the seed needs (a different export format)."""


@dataclass
class CsvReadReport:
    """Lines DuckDB could not take as rows, per file and error type (invalid UTF-8 is repaired)."""

    rejected: dict[str, dict[str, int]] = field(default_factory=dict)
    repaired_utf8: list[str] = field(default_factory=list)


def sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def csv_scan(path: Path, rejects: str | None = None) -> str:
    """A read_csv() table expression: every column as text, RFC-4180 quoting, multi-line fields."""
    options = [
        "header=true", "delim=','", "quote='\"'", "escape='\"'", "all_varchar=true",
        "max_line_size=4194304", "parallel=true",
    ]
    if rejects:
        options += ["store_rejects=true", f"rejects_table='{rejects}_errors'", f"rejects_scan='{rejects}_scans'"]
    return f"read_csv({sql_path(path)}, {', '.join(options)})"


def check_columns(name: str, path: Path) -> None:
    """Fail clearly when the header lacks a needed column (another export format, a wrong file)."""
    with path.open("rb") as f:
        head = f.readline(1 << 20).decode("utf-8-sig", "replace")
    present = {c.strip() for c in next(csv.reader([head]), [])}
    missing = [c for c in NEEDED_COLUMNS[name] if c not in present]
    if missing:
        raise MetaKaggleFormatError(
            f"{path.name} lacks the column(s) {', '.join(missing)}; found {', '.join(sorted(present))}. "
            "Re-download Meta Kaggle with force_redownload=true, or check that it is kaggle/meta-kaggle."
        )


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
    """CREATE TEMP TABLE `table` AS SELECT `select` FROM the file [WHERE ...], repairing bad UTF-8."""
    check_columns(name, path)
    rejects = f"rej_{table}"

    def run(source: Path) -> dict[str, int]:
        for stale in (table, f"{rejects}_errors", f"{rejects}_scans"):
            con.execute(f"DROP TABLE IF EXISTS {stale}")
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT {select} "
            f"FROM {csv_scan(source, rejects)} {where}"
        )
        rows = con.execute(
            f"SELECT error_type::VARCHAR, count(DISTINCT line) FROM {rejects}_errors GROUP BY ALL"
        ).fetchall()
        return {str(kind).lower().replace(" ", "_"): int(n) for kind, n in rows}

    errors = run(path)
    if errors.get("invalid_encoding"):
        logger.warning(f"{path.name} has {errors['invalid_encoding']} line(s) with invalid UTF-8: repairing")
        repaired = repair_utf8(path, work_dir / f".{path.stem}.utf8.csv")
        try:
            errors = run(repaired)
        finally:
            repaired.unlink(missing_ok=True)
        report.repaired_utf8.append(name)
    if errors:
        report.rejected[name] = errors
        logger.warning(f"{path.name}: lines not readable as CSV rows: {errors}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_errors")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scans")


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
    con.execute(f"SET threads={threads or max(1, min(4, os.cpu_count() or 1))}")
    return con


def file_map(paths: Mapping[str, Path]) -> dict[str, Path]:
    missing = [n for n in META_KAGGLE_FILES if n not in paths or not Path(paths[n]).is_file()]
    if missing:
        raise FileNotFoundError(f"Meta Kaggle files missing: {', '.join(f'{n}.csv' for n in missing)}")
    return {n: Path(paths[n]) for n in META_KAGGLE_FILES}
