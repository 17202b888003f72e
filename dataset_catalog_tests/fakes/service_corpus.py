"""Rows added to the hand-made corpus for the search service's tests: the same licenses and
languages labelled the ways different sources label them, and hostile titles and descriptions."""

from __future__ import annotations

from datetime import UTC, datetime

from dataset_catalog.common.standard_fields import CreatorKind, creators, file_entry
from dataset_catalog_tests.fakes.corpus import HF, KG, ds

XSS_TITLE = '<script>alert("title")</script><img src=x onerror="alert(1)"> Evil speech'
XSS_DESCRIPTION = (
    'German speech recordings. <img src=x onerror="alert(2)"> "><svg onload=alert(3)> '
    "</script><script>alert(4)</script> [click](javascript:alert(5))"
)
SERVICE_ROWS = [
    ds(
        HF,
        "lab/german-asr",
        "German ASR corpus",
        "Read German speech with transcripts for speech recognition.",
        task_categories=["automatic-speech-recognition"],
        languages=["de"],
        license="cc-by-sa-4.0",
        download_count=12_000,
        file_formats=["parquet"],
        size_bytes=3_200_000_000,
        row_count=180_000,
        source_created_at=datetime(2023, 3, 1, tzinfo=UTC),
        source_updated_at=datetime(2025, 9, 1, tzinfo=UTC),
        files=[file_entry("train", size_bytes=3_000_000_000, rows=170_000)],
        creators=creators("lab", kind=CreatorKind.ORGANIZATION),
    ),
    ds(
        KG,
        "someone/german-speech",
        "German Speech Clips",
        "# Clips\n\nShort **German** speech clips from radio. [More Information Needed]",
        languages=["German"],
        license="CC BY-SA 4.0",
        download_count=800,
        file_formats=["wav"],
        column_names=["path", "sentence"],
        files=[file_entry("clips.zip", size_bytes=52_000_000, file_format="zip")],
    ),
    ds(
        KG,
        "kaggler/public-domain-speech",
        "Public domain speech",
        "Speech recordings released to the public domain.",
        license="CC0: Public Domain",
        download_count=300,
        file_formats=["csv"],
        languages=["en"],
    ),
    ds(
        HF,
        "evil/xss",
        XSS_TITLE,
        XSS_DESCRIPTION,
        languages=["de"],
        license="mit",
        file_formats=["parquet"],
        url="javascript:alert(6)",
        source_updated_at=None,
    ),
]
