"""Sources are found in their folders: the CLI, stats, catalog_health and pages list them all."""

from dataset_catalog.common.sources import catalog_sources, source_name


def test_every_source_folder_declares_itself():
    assert catalog_sources() == {
        "huggingface": "Hugging Face",
        "kaggle": "Kaggle",
        "openml": "OpenML",
        "zenodo": "Zenodo",
    }


def test_unknown_sources_show_as_written():
    assert source_name("zenodo") == "Zenodo"
    assert source_name("papers_with_code") == "Papers With Code"
