"""Exception types raised by dataset_catalog.

Every message says what went wrong and what the user can do about it. Secrets are
never part of a message: use `redact` on anything that might echo one back.
"""

from __future__ import annotations

from collections.abc import Iterable


class DatasetCatalogError(Exception):
    """Base class of every error this package raises on purpose."""


class CatalogConfigError(DatasetCatalogError):
    """The catalog database setting is missing, malformed or unreachable."""


class CatalogWriteError(DatasetCatalogError):
    """Writing to the catalog failed; batches committed before the failure are kept."""


class SourceUnavailableError(DatasetCatalogError):
    """A source API failed after the client's own retries, or stalled."""


class SourceRateLimitError(SourceUnavailableError):
    """A source kept answering 429, or asked us to wait longer than we are willing to;
    `retry_after` is its last Retry-After in seconds, if it sent one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class SourceResponseError(DatasetCatalogError):
    """A source answered this one call, but not usefully (an error status or code, a malformed
    body): about this call, not about the source as a whole."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.code = status, code


class CredentialsError(DatasetCatalogError):
    """Credentials for a source are missing or were rejected."""


class SettingError(DatasetCatalogError):
    """An environment setting (dataset_catalog/settings.py) has a value this package cannot use."""


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every non-empty secret occurring in `text` with '***'."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
