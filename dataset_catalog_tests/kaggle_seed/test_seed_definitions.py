"""The code location carries the seed asset, in the kaggle_api pool, with its resources."""

import dagster as dg

from dataset_catalog.definitions import defs


def test_seed_asset_is_defined_in_the_kaggle_pool():
    dg.Definitions.validate_loadable(defs)
    assets = defs.resolve_asset_graph().get(dg.AssetKey("kaggle_seeded_datasets")).assets_def
    assert assets.op.pool == "kaggle_api"
    assert {"kaggle", "catalog"} <= set(assets.required_resource_keys)
