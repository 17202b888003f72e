"""The Kaggle tests' fixtures (fake Kaggle API, resource pointed at it), shared with the seed tests."""

from dataset_catalog_tests.kaggle.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _no_ambient_kaggle_env,
    fake_kaggle,
    kaggle_env,
    kaggle_resource,
)
