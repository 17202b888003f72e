"""Pair decisions on rows shaped as the mappings write them: copies link, relatives do not."""

from dataset_catalog.clusters.links import RowFacts, decide
from dataset_catalog.clusters.names import row_phrases, text_words
from dataset_catalog.clusters.signals import row_signals

LECUN = "http://yann.lecun.com/exdb/mnist/"
HF_MNIST = {
    "id": 1,
    "external_id": "ylecun/mnist",
    "title": "MNIST",
    "url": "https://huggingface.co/datasets/ylecun/mnist",
    "description": f"The MNIST dataset consists of 70,000 28x28 black-and-white images of handwritten digits. Homepage: {LECUN}",
    "row_count": 70000,
    "column_names": ["image", "label"],
    "source_meta": {"cardData": {"paperswithcode_id": "mnist"}},
}
OPENML_MNIST = {
    "id": 2,
    "external_id": "554",
    "title": "mnist_784",
    "url": "https://www.openml.org/d/554",
    "description": f"**Author**: Yann LeCun, Corinna Cortes, Christopher J.C. Burges **Source**: [MNIST Website]({LECUN})",
    "row_count": 70000,
    "column_names": [f"pixel{i}" for i in range(1, 785)] + ["class"],
    "source_meta": {"original_data_url": LECUN},
}
KAGGLE_MNIST_CSV = {
    "id": 3,
    "external_id": "oddrationale/mnist-in-csv",
    "title": "MNIST in CSV",
    "url": "https://www.kaggle.com/datasets/oddrationale/mnist-in-csv",
    "description": f"The MNIST dataset provided in an easy-to-use CSV format. The original is at {LECUN}",
}
HF_FASHION = {
    "id": 4,
    "external_id": "zalando-datasets/fashion_mnist",
    "title": "FashionMNIST",
    "url": "https://huggingface.co/datasets/zalando-datasets/fashion_mnist",
    "description": "Fashion-MNIST is a dataset of Zalando's article images, a drop-in replacement for the "
    f"original MNIST dataset ({LECUN}): 60,000 training and 10,000 test examples.",
    "row_count": 70000,
    "column_names": ["image", "label"],
    "source_meta": {"cardData": {"paperswithcode_id": "fashion-mnist"}},
}
HF_IMDB = {
    "id": 5,
    "external_id": "stanfordnlp/imdb",
    "title": "imdb",
    "url": "https://huggingface.co/datasets/stanfordnlp/imdb",
    "description": "Large Movie Review Dataset: 50,000 highly polar movie reviews for binary sentiment classification.",
    "row_count": 100000,
}
KAGGLE_IMDB = {
    "id": 6,
    "external_id": "lakshmi25npathi/imdb-dataset-of-50k-movie-reviews",
    "title": "IMDB Dataset of 50K Movie Reviews",
    "url": "https://www.kaggle.com/datasets/lakshmi25npathi/imdb-dataset-of-50k-movie-reviews",
    "description": "IMDB dataset having 50K movie reviews for natural language processing or Text analytics. "
    "For more dataset information, please go through https://huggingface.co/datasets/stanfordnlp/imdb",
    "row_count": 50000,
    "column_names": ["review", "sentiment"],
}


def facts(row):
    return RowFacts(
        row_signals(row),
        frozenset(row_phrases(row["title"], row["external_id"])),
        text_words(row["title"], row["description"]),
    )


def test_own_and_cited_identifiers_are_read_from_addresses_without_knowing_the_source():
    kaggle = row_signals(KAGGLE_IMDB)
    assert kaggle.own == {"kaggle:lakshmi25npathi/imdb-dataset-of-50k-movie-reviews"}
    assert kaggle.cited == {"huggingface:stanfordnlp/imdb"}
    openml = row_signals(OPENML_MNIST)
    assert openml.own == {"openml:554"} and openml.origins == {"yann.lecun.com/exdb/mnist"}
    zenodo = row_signals(
        {"id": 9, "url": "https://zenodo.org/records/3352634", "citation": "Doe (2019). doi:10.5281/zenodo.3352634"}
    )
    assert zenodo.own == {"zenodo:3352634"} and zenodo.cited == set()
    assert row_signals(HF_MNIST).paperswithcode == "mnist"


def test_a_copy_that_names_the_other_home_links_despite_a_longer_title():
    decision = decide(facts(KAGGLE_IMDB), facts(HF_IMDB))
    assert decision.linked
    assert decision.evidence[0].kind == "reference" and "stanfordnlp/imdb" in decision.evidence[0].detail


def test_same_name_and_same_origin_link_copies_on_three_sites():
    assert decide(facts(HF_MNIST), facts(KAGGLE_MNIST_CSV)).linked
    # "mnist_784" only adds a number: the equal row count and the shared origin make it a copy
    openml = decide(facts(HF_MNIST), facts(OPENML_MNIST))
    assert openml.linked and {e.kind for e in openml.evidence} == {"name", "origin", "rows"}


def test_a_relative_with_the_same_shape_and_origin_stays_apart():
    decision = decide(facts(HF_MNIST), facts(HF_FASHION), similarity=0.93)
    assert {"rows", "columns", "origin", "text"} <= {e.kind for e in decision.evidence}
    assert not decision.linked  # "fashion" tells them apart, and neither names the other's page
    assert not decide(facts(KAGGLE_MNIST_CSV), facts(HF_FASHION), similarity=0.9).linked


def test_text_similarity_alone_never_links():
    a = {"id": 10, "external_id": "x/alpha", "title": "Alpha", "description": "Reviews of films."}
    b = {"id": 11, "external_id": "y/beta", "title": "Beta", "description": "Reviews of movies."}
    decision = decide(facts(a), facts(b), similarity=0.99)
    assert [e.kind for e in decision.evidence] == ["text"] and not decision.linked


OPENML_IRIS = {
    "id": 20,
    "external_id": "61",
    "title": "iris",
    "url": "https://www.openml.org/d/61",
    "description": "Source: [UCI](https://archive.ics.uci.edu/ml/datasets/Iris). The famous iris data.",
    "row_count": 150,
    "column_names": ["sepallength", "sepalwidth", "petallength", "petalwidth", "class"],
}


def test_one_catalog_holding_two_rows_of_one_name_holds_variants_not_copies():
    # OpenML's iris and its binarised version: the same name and rows, a different target
    binarised = {
        **OPENML_IRIS,
        "description": "Binarized version of the original data set (see version 1).",
        "id": 21,
        "external_id": "969",
        "url": "https://www.openml.org/d/969",
        "column_names": ["sepallength", "sepalwidth", "petallength", "petalwidth", "binaryClass"],
    }
    decision = decide(facts(OPENML_IRIS), facts(binarised))
    assert ("name", "same name in one catalog") in [(e.kind, e.detail) for e in decision.evidence]
    assert not decision.linked
    # the same evidence across two catalogs is a copy
    hub = {**binarised, "external_id": "scikit-learn/iris", "url": "https://huggingface.co/datasets/scikit-learn/iris"}
    assert decide(facts(OPENML_IRIS), facts(hub)).linked


def test_row_counts_far_apart_keep_a_subset_apart_and_are_remembered():
    subset = {**OPENML_IRIS, "id": 22, "external_id": "x/iris", "url": "https://www.kaggle.com/datasets/x/iris"}
    assert decide(facts(OPENML_IRIS), facts(subset), similarity=0.95).linked
    subset["row_count"] = 50
    decision = decide(facts(OPENML_IRIS), facts(subset), similarity=0.95)
    assert not decision.linked and decision.apart  # never to be chained into one cluster either


def test_a_name_conflict_is_remembered_only_when_the_pair_shares_evidence():
    assert decide(facts(HF_MNIST), facts(HF_FASHION), similarity=0.93).apart
    unrelated = {"id": 30, "external_id": "a/fashion-mnist", "title": "Fashion MNIST", "description": "Clothes."}
    assert not decide(facts(KAGGLE_MNIST_CSV), facts(unrelated)).apart


def test_a_card_listing_many_pages_of_a_catalog_is_a_collection_not_a_copy():
    parts = " ".join(f"https://zenodo.org/records/{4656000 + i}" for i in range(5))
    collection = {"id": 40, "external_id": "org/archive", "title": "Archive", "description": f"Parts: {parts}"}
    part = {
        "id": 41,
        "external_id": "4656001",
        "title": "Tourism",
        "url": "https://zenodo.org/records/4656001",
        "description": "",
    }
    decision = decide(facts(collection), facts(part))
    assert [e.kind for e in decision.evidence] == ["listed"] and not decision.linked
    single = {**collection, "description": "Parts: https://zenodo.org/records/4656001"}
    assert decide(facts(single), facts(part)).evidence[0].kind == "reference"
