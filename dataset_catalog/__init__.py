"""dataset_catalog: a Dagster asset platform keeping a searchable catalog of ML datasets."""
