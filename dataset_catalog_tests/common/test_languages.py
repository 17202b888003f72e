from dataset_catalog.common.languages import language_code, language_name, normalize_languages


def test_codes_tags_and_names_become_one_iso_code():
    assert {language_code(v) for v in ("de", "deu", "ger", "de-DE", "de_AT", "German", "Deutsch")} == {"de"}
    assert normalize_languages(["en", "eng", "English", "fr", "zh-Hans", "yue"]) == ["en", "fr", "zh", "yue"]


def test_values_that_name_no_language_are_dropped():
    assert normalize_languages(["code", "multilingual", "und", "xx", "", "not a language at all 123", None, 5]) == []
    assert language_code("x" * 500) is None


def test_codes_are_shown_as_names():
    assert [language_name(c) for c in ("de", "en", "yue")] == ["German", "English", "Cantonese"]
