"""Environment settings and their documented defaults, read in one place."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "DATASET_CATALOG_DATABASE_URL"
HOME_ENV = "DATASET_CATALOG_HOME"
CACHE_DIR_ENV = "DATASET_CATALOG_CACHE_DIR"


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
