"""Environment settings and their documented defaults, read in one place."""

from __future__ import annotations

import os
from pathlib import Path

from dataset_catalog.errors import SettingError

DATABASE_URL_ENV = "DATASET_CATALOG_DATABASE_URL"
HOME_ENV = "DATASET_CATALOG_HOME"
CACHE_DIR_ENV = "DATASET_CATALOG_CACHE_DIR"
# The search service (`dataset-catalog serve` options of the same names override them).
SERVICE_HEADER_TIMEOUT_ENV = "DATASET_CATALOG_SERVICE_HEADER_TIMEOUT"
SERVICE_MAX_CONNECTIONS_ENV = "DATASET_CATALOG_SERVICE_MAX_CONNECTIONS"
SERVICE_THREADS_ENV = "DATASET_CATALOG_SERVICE_THREADS"
DEFAULT_SERVICE_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_SERVICE_MAX_CONNECTIONS = 200
DEFAULT_SERVICE_THREADS = 8


def catalog_home() -> Path:
    """Folder for the embedded default's files: `$DATASET_CATALOG_HOME`, else `~/.dataset_catalog`."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".dataset_catalog").expanduser()


def default_database_url() -> str:
    return f"sqlite:///{catalog_home() / 'catalog.sqlite3'}"


def database_url() -> str:
    """`$DATASET_CATALOG_DATABASE_URL` (any SQLAlchemy URL), else the SQLite file in `catalog_home()`."""
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def cache_dir() -> Path:
    """Downloads cache: `$DATASET_CATALOG_CACHE_DIR`, else `catalog_home()/cache`."""
    return Path(os.environ.get(CACHE_DIR_ENV) or catalog_home() / "cache").expanduser()


def service_header_timeout() -> float:
    """Seconds a client may take to send a request's headers before the service closes its
    connection: `$DATASET_CATALOG_SERVICE_HEADER_TIMEOUT`, else 10."""
    return _number(SERVICE_HEADER_TIMEOUT_ENV, DEFAULT_SERVICE_HEADER_TIMEOUT_SECONDS, float, 0.1, 3600)


def service_max_connections() -> int:
    """Open connections past which the service answers 503 at once:
    `$DATASET_CATALOG_SERVICE_MAX_CONNECTIONS`, else 200."""
    return _number(SERVICE_MAX_CONNECTIONS_ENV, DEFAULT_SERVICE_MAX_CONNECTIONS, int, 1, 100_000)


def service_threads() -> int:
    """Requests the service works on at once (more wait their turn): `$DATASET_CATALOG_SERVICE_THREADS`, else 8."""
    return _number(SERVICE_THREADS_ENV, DEFAULT_SERVICE_THREADS, int, 1, 256)


def _number(name: str, default, kind, low, high):
    text = (os.environ.get(name) or "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SettingError(f"{name}={text!r} is not a number from {low} to {high}: fix it or unset it for {default}.")
    return value
