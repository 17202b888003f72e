"""Every Dagster object of the platform, a folder per area; definitions.py loads the whole tree.

Each folder holds its area's assets, resources, partitions, schedules and checks; they call the
plain code in the package's top-level folders, which imports no Dagster. A source folder lists
the assets that write catalog rows in its `CATALOG_SOURCE_ASSETS` (see common/catalog_sources.py).
"""
