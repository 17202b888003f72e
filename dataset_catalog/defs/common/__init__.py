"""What every area's Dagster objects share: the catalog resource, metadata tables, check factories."""
