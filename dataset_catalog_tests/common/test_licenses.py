import pytest

from dataset_catalog.common.licenses import matches_family, matches_license, normalize_license, what_it_allows

SAME_LICENSE = [
    # (Kaggle label, Hub id) pairs that are one license
    ("CC0: Public Domain", "cc0-1.0", "CC0-1.0", "cc0"),
    ("Attribution 4.0 International (CC BY 4.0)", "cc-by-4.0", "CC-BY-4.0", "cc-by"),
    ("CC BY-SA 4.0", "cc-by-sa-4.0", "CC-BY-SA-4.0", "cc-by-sa"),
    (
        "Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0)",
        "cc-by-nc-sa-4.0",
        "CC-BY-NC-SA-4.0",
        "cc-by-nc-sa",
    ),
    ("Database: Open Database, Contents: Database Contents", "odbl", "ODbL-1.0", "odbl"),
    ("Apache 2.0", "apache-2.0", "Apache-2.0", "apache"),
    ("GPL 2", "gpl-2.0", "GPL-2.0-only", "gpl"),
    ("MIT", "mit", "MIT", "mit"),
    (
        "Community Data License Agreement - Permissive - Version 1.0",
        "cdla-permissive-1.0",
        "CDLA-Permissive-1.0",
        "cdla-permissive",
    ),
]


@pytest.mark.parametrize(("kaggle", "hub", "spdx", "family"), SAME_LICENSE)
def test_kaggle_and_hub_labels_of_one_license_map_to_one_spdx_id(kaggle, hub, spdx, family):
    for label in (kaggle, hub):
        lic = normalize_license(label)
        assert (lic.id, lic.family, lic.label) == (spdx, family, label)  # the source's own label is kept
        assert matches_license(label, spdx) and matches_license(label, spdx.lower()) and matches_family(label, family)


def test_families_take_every_version_and_keep_variants_apart():
    assert {normalize_license(x).family for x in ("cc-by-4.0", "CC BY 3.0", "cc-by-2.0")} == {"cc-by"}
    assert normalize_license("cc-by-sa-3.0").family == "cc-by-sa" and not matches_family("cc-by-sa-3.0", "cc-by")
    assert not matches_license("cc-by-sa-4.0", "CC-BY-4.0")


def test_labels_without_a_license_id_are_other_or_unknown_and_never_crash():
    assert normalize_license("Other (specified in description)").family == "other"
    assert normalize_license("World Bank Dataset Terms of Use").name == "World Bank Dataset Terms of Use"
    assert (
        normalize_license(None).family
        == normalize_license("  ").family
        == normalize_license("unknown").family
        == "unknown"
    )
    assert normalize_license("<script>alert(1)</script>").family == "other"
    assert matches_license("Other (specified in description)", "other") and not matches_license("mit", "other")
    # well-known non-SPDX licenses of the Hub get stable ids and families
    assert (normalize_license("openrail").id, normalize_license("bigscience-openrail-m").family) == (
        "openrail",
        "openrail",
    )


@pytest.mark.parametrize(
    ("label", "spdx", "family"),
    [
        ("Public Domain (CC0)", "CC0-1.0", "cc0"),  # OpenML
        ("Creative Commons Zero v1.0 Universal", "CC0-1.0", "cc0"),  # Zenodo / DataCite, SPDX's full name
        ("Creative Commons Attribution 4.0 International", "CC-BY-4.0", "cc-by"),
        ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", "CC-BY-NC-SA-4.0", "cc-by-nc-sa"),
        ("Creative Commons Attribution-NoDerivatives 4.0 International", "CC-BY-ND-4.0", "cc-by-nd"),
    ],
)
def test_zenodo_and_openml_labels_in_words(label, spdx, family):
    lic = normalize_license(label)
    assert (lic.id, lic.family) == (spdx, family)


@pytest.mark.parametrize(
    ("label", "allows"),
    [
        ("cc0-1.0", "No conditions: use, change and share it for any purpose, commercial use included."),
        ("MIT", "Use, change and share it for any purpose, commercial use included, crediting the authors."),
        ("cc-by-sa-4.0", "share what you build from it under the same license."),
        ("cc-by-nc-4.0", "Non-commercial use only, crediting the authors."),
        ("cc-by-nc-nd-4.0", "Non-commercial use only, shared unchanged, crediting the authors."),
        ("cc-by-nd-4.0", "changed versions may not be shared."),
        ("gpl-3.0", "must carry the same license (copyleft)."),
        ("openrail", "use restrictions"),
        ("", "No license stated"),
        ("Some custom terms", "Its own terms"),
    ],
)
def test_what_a_license_allows_in_one_sentence(label, allows):
    assert allows in what_it_allows(normalize_license(label).family)
