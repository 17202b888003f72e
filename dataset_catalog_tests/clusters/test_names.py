"""Names reduced to what tells datasets apart."""

import pytest

from dataset_catalog.clusters.names import name_tokens, names_agree, row_names


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
