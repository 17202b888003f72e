from dataset_catalog.common.languages import language_code, language_name, normalize_languages


def test_codes_tags_and_names_become_one_iso_code():
    assert {language_code(v) for v in ("de", "deu", "ger", "de-DE", "de_AT", "German", "Deutsch")} == {"de"}
    assert normalize_languages(["en", "eng", "English", "fr", "zh-Hans", "yue"]) == ["en", "fr", "zh", "yue"]


def test_values_that_name_no_language_are_dropped():
    assert normalize_languages(["code", "multilingual", "und", "xx", "", "not a language at all 123", None, 5]) == []
    assert language_code("x" * 500) is None


def test_codes_are_shown_as_names():
    assert [language_name(c) for c in ("de", "en", "yue")] == ["German", "English", "Cantonese"]


def test_control_characters_never_reach_the_language_library():
    """`de\\x00` raised UnicodeDecodeError from langcodes' C code (a 500 for `language=de%00`)."""
    for value in ("de\x00", "x\x00", "\x00", "Ger\x1bman", "de\ud800", "e\x85n"):
        assert language_code(value) is None, repr(value)
        assert normalize_languages([value, "fr"]) == ["fr"]
    assert language_name("de\x00") == "de\x00" and language_name("\ud800") == "\ud800"


def test_a_failure_inside_the_language_library_means_no_language(monkeypatch):
    import langcodes

    def broken(*_args, **_kwargs):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(langcodes, "find", broken)
    monkeypatch.setattr(langcodes.Language, "display_name", broken)
    language_code.cache_clear()
    language_name.cache_clear()
    try:
        assert language_code("Deutschish") is None  # a name: goes to langcodes.find
        assert language_name("zu") == "zu"
    finally:
        language_code.cache_clear()
        language_name.cache_clear()
