"""The catalog's sources, found in their own folders.

A source's plain-code package (dataset_catalog/<folder>/) declares in its `__init__.py`:

    SOURCE = "zenodo"          # the catalog's `source` value for its rows
    SOURCE_NAME = "Zenodo"     # how people call it (pages, CLI, stats)
    SOURCE_ALIASES = ("hf",)   # optional: other names people give it in a query ("on the hub")

so the CLI's `--source` choices, `stats`, catalog_health and the search pages list a new source
with no edit outside its folder. Only the packages' `__init__` modules are imported here.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

import dataset_catalog


def _source_packages():
    """Each package of dataset_catalog that declares a SOURCE, in folder order."""
    for module in sorted(pkgutil.iter_modules(dataset_catalog.__path__), key=lambda m: m.name):
        if module.ispkg:
            package = importlib.import_module(f"{dataset_catalog.__name__}.{module.name}")
            if getattr(package, "SOURCE", None):
                yield package


@functools.cache
def catalog_sources() -> dict[str, str]:
    """{source: display name} of every source package, in folder order."""
    return {package.SOURCE: getattr(package, "SOURCE_NAME", package.SOURCE) for package in _source_packages()}


@functools.cache
def source_aliases() -> dict[str, str]:
    """{lower-case name: source} of every name people give a source: its id, its display name, its aliases."""
    names: dict[str, str] = {}
    for package in _source_packages():
        for name in (
            package.SOURCE,
            getattr(package, "SOURCE_NAME", package.SOURCE),
            *getattr(package, "SOURCE_ALIASES", ()),
        ):
            names[name.lower()] = package.SOURCE
    return names


def source_name(source: str) -> str:
    """The display name of `source`; an unknown one (rows of a removed source) as written, titled."""
    return catalog_sources().get(source) or source.replace("_", " ").title()
