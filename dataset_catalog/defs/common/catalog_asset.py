"""`@catalog_asset`: `@dg.asset` with what every asset of the platform carries.

Owners, a code reference to the function, kinds that name the catalog's real storage (sqlite or
postgres, from the configured catalog URL when the code location loads) unless the asset keeps
nothing in the catalog, the source tag of a source's assets, and for assets that write the
`datasets` table its column schema.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from dataset_catalog import settings
from dataset_catalog.catalog.schema import datasets

OWNERS = ["team:dataset-catalog"]
SOURCE_TAG = "dataset_catalog/source"


def storage_kind() -> str:
    """The kind (Dagster's icon) of the catalog database this code location is configured for."""
    return "postgres" if sa.make_url(settings.database_url()).get_backend_name() == "postgresql" else "sqlite"


def datasets_column_schema() -> dg.TableSchema:
    """The `datasets` table's columns, as `dagster/column_schema` shows them."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=str(column.type.compile(dialect=sqlite.dialect())).lower(),
                constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
            )
            for column in datasets.columns
        ]
    )


def catalog_asset(
    *,
    source: str | None = None,
    writes_datasets: bool = False,
    in_catalog: bool = True,
    kinds: Iterable[str] = ("python",),
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    **asset_kwargs: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    def decorate(fn: Callable[..., Any]) -> dg.AssetsDefinition:
        reference = dg.LocalFileCodeReference(
            file_path=inspect.getsourcefile(fn) or "", line_number=fn.__code__.co_firstlineno
        )
        all_metadata: dict[str, Any] = {
            **(metadata or {}),
            "dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference]),
        }
        if writes_datasets:
            all_metadata["dagster/table_name"] = "datasets"
            all_metadata["dagster/column_schema"] = datasets_column_schema()
        all_tags = {**(tags or {}), **({SOURCE_TAG: source} if source else {})}
        all_kinds = {*kinds, storage_kind()} if in_catalog else set(kinds)
        return dg.asset(owners=OWNERS, kinds=all_kinds, metadata=all_metadata, tags=all_tags, **asset_kwargs)(fn)

    return decorate
