"""The mapping on its own: OpenML's XML-converted JSON shapes, text and numbers, and the hash."""

import pytest

from dataset_catalog.openml.mapping import (
    MAX_COLUMN_NAMES,
    MalformedRecord,
    hash_inputs,
    map_row,
    read_listing_item,
    reduce_details,
    stored_details,
)

ITEM = {
    "did": "61",
    "name": "iris",
    "version": "1",
    "status": "active",
    "md5_checksum": "ad484452702105cbf3d30f8deaba39a9",
    "format": "ARFF",
    "quality": {"name": "NumberOfInstances", "value": "150.0"},
    "tags": "uci",
}


def test_listing_items_in_their_xml_converted_shapes():
    entry = read_listing_item(ITEM)  # numbers as text, one quality and one tag as bare values
    assert (entry.dataset_id, entry.version, entry.md5, entry.active) == (61, 1, ITEM["md5_checksum"], True)
    assert entry.item["qualities"] == {"NumberOfInstances": 150.0} and entry.item["tags"] == ["uci"]
    assert read_listing_item({**ITEM, "quality": [], "tags": []}).item["qualities"] == {}


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ([], "not an object"),
        ({"name": "x"}, "'did'"),
        ({"did": "1e3", "name": "x"}, "'did'"),
        ({"did": 0, "name": "x"}, "'did'"),
        ({"did": 5, "name": "  "}, "'name'"),
        ({"did": 5, "name": ["x"]}, "'name'"),
    ],
)
def test_malformed_listing_items_say_why(item, reason):
    with pytest.raises(MalformedRecord, match=reason):
        read_listing_item(item)


def test_details_tolerate_empty_elements_lists_and_huge_feature_lists():
    description = {
        "description": "Line <i>one</i> here.\x00",
        "creator": [],
        "contributor": {},
        "licence": ["CC BY 4.0"],
        "tag": ["a", "b", "a"],
        "upload_date": "2014-04-06T23:19:24",
        "default_target_attribute": "y",
    }
    features = [{"name": f"f{i}", "data_type": "numeric", "is_target": "false"} for i in range(MAX_COLUMN_NAMES + 20)]
    features += [{"name": "y", "data_type": "numeric", "is_target": "true"}, "junk", {"index": "9"}]
    details = reduce_details(description, features, None)
    assert details["creator"] is None and details["contributor"] is None and details["licence"] == "CC BY 4.0"
    assert details["tags"] == ["a", "b"] and details["features"]["count"] == MAX_COLUMN_NAMES + 22
    assert len(details["features"]["names"]) == MAX_COLUMN_NAMES and details["features"]["targets"] == {"y": "numeric"}
    row = map_row(read_listing_item({**ITEM, "quality": []}), details, [1, ITEM["md5_checksum"]])
    assert row["description"] == "Line one here." and row["task_categories"] == ["tabular-regression"]
    assert row["source_meta"]["number_of_features"] == MAX_COLUMN_NAMES + 22


def test_an_inactive_dataset_without_details_maps_from_the_listing_alone():
    row = map_row(read_listing_item({**ITEM, "status": "deactivated"}), None, None)
    assert (row["title"], row["is_active"], row["description"], row["row_count"]) == ("iris", False, None, 150)
    assert stored_details(row) == (None, None)


def test_the_hash_follows_the_inputs_and_survives_a_json_round_trip():
    import orjson

    entry = read_listing_item(ITEM)
    details = reduce_details(
        {"description": "x", "tag": "t"}, [{"name": "a", "is_target": "true", "data_type": "nominal"}], None
    )
    row = map_row(entry, details, entry.fingerprint)
    stored = orjson.loads(orjson.dumps(row, default=str))  # as a JSON column gives it back
    again, details_for = stored_details(stored)
    assert details_for == entry.fingerprint and hash_inputs(entry, again) == row["sync_hash"]
    assert hash_inputs(read_listing_item({**ITEM, "version": "2"}), again) != row["sync_hash"]
