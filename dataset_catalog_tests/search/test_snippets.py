from dataset_catalog.search.snippets import make_snippet, match_spans, stem


def test_snippet_is_clean_text_around_the_first_match_with_marked_words():
    description = (
        "# Card\n\n" + "Intro words. " * 40 + "A **German** speech corpus with <b>transcripts</b>. " + "Outro. " * 40
    )
    snippet = make_snippet(description, ["german", "transcript"], width=120)
    assert snippet.text.startswith("…") and snippet.text.endswith("…") and len(snippet.text) <= 122
    assert "**" not in snippet.text and "<b>" not in snippet.text and "#" not in snippet.text
    marked = [snippet.text[a:b] for a, b in snippet.highlights]
    assert marked == ["German", "transcripts"]
    assert "".join(piece for piece, _ in snippet.segments()) == snippet.text
    assert [piece for piece, matched in snippet.segments() if matched] == marked


def test_boilerplate_only_descriptions_give_an_empty_snippet():
    assert make_snippet("[More Information Needed]", ["x"]).text == ""
    assert make_snippet(None, ["x"]).text == ""


def test_stems_mark_word_forms_but_not_short_noise():
    assert stem("images") == "imag" and stem("translation") == "translation"
    text = "image classification of images; an imaging study"
    assert [text[a:b] for a, b in match_spans(text, ["images", "of", "an"])] == ["image", "images", "imaging"]
