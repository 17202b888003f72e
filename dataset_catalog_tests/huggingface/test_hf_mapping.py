"""The Hub mapping's load snippet: runnable as it stands, naming the card's configuration."""

import pytest

from dataset_catalog.huggingface.mapping import map_item

ITEM = {"id": "nyu-mll/glue", "lastModified": "2025-05-06T10:00:00.000Z"}


@pytest.mark.parametrize(
    "card",
    [
        {"configs": ["cola", "sst2", "mrpc"]},  # older cards: names
        {
            "configs": [
                {"config_name": "cola", "data_files": "cola/*"},
                {"config_name": "sst2"},
                {"config_name": "mrpc"},
            ]
        },
        {"dataset_info": [{"config_name": "cola"}, {"config_name": "sst2"}, {"config_name": "mrpc"}]},
    ],
)
def test_the_load_snippet_names_the_first_configuration_and_lists_the_others(card):
    row = map_item({**ITEM, "cardData": card}).row
    assert row["load_code"] == (
        'import datasets\n\nds = datasets.load_dataset("nyu-mll/glue", "cola")\n# other configurations: sst2, mrpc'
    )
    compile(row["load_code"], "snippet", "exec")  # valid Python


def test_a_card_without_configurations_loads_by_id_alone():
    assert (
        map_item({**ITEM, "cardData": {}}).row["load_code"]
        == 'import datasets\n\nds = datasets.load_dataset("nyu-mll/glue")'
    )


def test_configuration_names_cannot_become_code():
    hostile = ['a"); import os; os.system("x', 'b\nimport os\nos.system("rm")', "c"]
    code = map_item({**ITEM, "cardData": {"configs": hostile}}).row["load_code"]
    lines = code.split("\n")
    assert len(lines) == 4 and lines[3].startswith("# other configurations: b import os os.system")
    tree = compile(code, "snippet", "exec", flags=0x400)  # ast.PyCF_ONLY_AST
    assert [type(n).__name__ for n in tree.body] == ["Import", "Assign"]  # the hostile name stays a string


def test_many_configurations_are_counted_not_listed():
    names = [f"c{i}" for i in range(20)]
    code = map_item({**ITEM, "cardData": {"configs": names}}).row["load_code"]
    assert code.endswith("# other configurations: c1, c2, c3, c4, c5, c6, c7, c8 (+11 more)")
