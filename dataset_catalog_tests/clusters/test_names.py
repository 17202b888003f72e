"""Names reduced to what tells datasets apart."""

import pytest

from dataset_catalog.clusters.names import (
    name_phrase,
    name_relation,
    name_tokens,
    names_agree,
    row_names,
    row_phrases,
    text_words,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("IMDB Dataset (CSV)", "imdb"),
        ("Fashion-MNIST", "fashion_mnist"),
        ("FashionMNIST", "Fashion MNIST"),
        ("SQuAD v2", "squad_v2.0"),
        ("Iris data set", "IRIS"),
        ("The MNIST database", "mnist"),
    ],
)
def test_copies_of_a_name_agree(a, b):
    assert names_agree(row_names(a, None), row_names(b, None))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("MNIST", "Fashion-MNIST"),
        ("MNIST", "KMNIST"),
        ("CIFAR-10", "CIFAR-100"),
        ("SQuAD", "SQuAD 2.0"),
        ("Titanic", "Spaceship Titanic"),
        ("SST-2", "SST-5"),
        ("Wine Quality (red)", "Wine Quality (white)"),
    ],
)
def test_near_miss_names_do_not(a, b):
    assert not names_agree(row_names(a, None), row_names(b, None))


def test_filler_and_size_counts_drop_and_versions_normalise():
    assert name_tokens("IMDB Dataset of 50K Movie Reviews") == {"imdb", "movie", "reviews"}
    assert name_tokens("squad_v2") == name_tokens("SQuAD 2.0") == {"squad", "2"}
    assert name_tokens(None) == frozenset()


def test_an_id_slug_is_a_name_unless_it_is_a_number():
    assert row_names("Fashion MNIST", "zalando-research/fashionmnist") == {
        frozenset({"fashion", "mnist"}),
        frozenset({"fashionmnist"}),
    }
    assert row_names("mnist_784", "554") == {frozenset({"mnist", "784"})}


def _relation(a: str, b: str, a_text: str = "", b_text: str = "") -> str | None:
    return name_relation(row_phrases(a, None), text_words(a, a_text), row_phrases(b, None), text_words(b, b_text))


@pytest.mark.parametrize(
    ("a", "a_text", "b", "relation"),
    [
        ("adult", "Census income records", "Adult Census Income", "near"),  # describing words after the name
        ("iris", "", "Iris Species", "near"),
        ("wdbc", "", "Breast Cancer Wisconsin (Diagnostic)", "near"),  # initials, in any order
        ("har", "", "Human Activity Recognition Using Smartphones", "near"),
        ("kmnist", "", "Kuzushiji-MNIST", "near"),  # initials before the last word
        ("covertype", "", "Forest Cover Type", "near"),  # words run together
        ("MNIST", "handwritten digits", "Fashion-MNIST", "conflict"),  # a leading word the other never uses
        ("SQuAD", "", "SQuAD 2.0", "conflict"),  # a version
        ("iris", "", "iris-bin", "conflict"),  # a variant word
        ("OpenWebText", "", "openwebtext-10k-subset", "conflict"),
        ("heart-c", "", "heart-h", "conflict"),  # siblings differing in one word each
        ("Wine Quality red", "", "Wine Quality white", "conflict"),
        ("medmnist v2", "", "MedMNIST v2: a large-scale lightweight benchmark for 2D and 3D images", "near"),
        ("squad", "", "Stanford Question Answering", "unrelated"),
    ],
)
def test_how_two_names_relate(a, a_text, b, relation):
    assert _relation(a, b, a_text) == relation
    assert _relation(b, a, "", a_text) == relation


def test_a_row_without_a_name_has_no_relation_and_a_name_keeps_its_order():
    assert _relation("", "MNIST") is None
    assert name_phrase("Fashion MNIST dataset v2") == ("fashion", "mnist", "2")
