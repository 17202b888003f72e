"""Copies of MNIST on three sources, of Fashion-MNIST on two, and a Titanic alone: rows shaped as
the mappings write them, for duplicate-cluster and folding tests."""

from dataset_catalog_tests.fakes.corpus import ds

LECUN = "http://yann.lecun.com/exdb/mnist/"
COPIES = [
    ds(
        "huggingface",
        "ylecun/mnist",
        "MNIST",
        f"70,000 images of handwritten digits. Homepage: {LECUN}",
        url="https://huggingface.co/datasets/ylecun/mnist",
        row_count=70000,
        source_meta={"cardData": {"paperswithcode_id": "mnist"}},
    ),
    ds(
        "openml",
        "554",
        "mnist_784",
        f"The MNIST database of handwritten digits. Source: [MNIST Website]({LECUN}). "
        "Also on https://huggingface.co/datasets/ylecun/mnist",
        url="https://www.openml.org/d/554",
        row_count=70000,
    ),
    ds(
        "kaggle",
        "oddrationale/mnist-in-csv",
        "MNIST in CSV",
        f"The MNIST dataset in CSV. Original: {LECUN}",
        url="https://www.kaggle.com/datasets/oddrationale/mnist-in-csv",
        row_count=70000,
    ),
    ds(
        "huggingface",
        "zalando-datasets/fashion_mnist",
        "Fashion-MNIST",
        f"Zalando's article images, a drop-in replacement for MNIST ({LECUN}).",
        url="https://huggingface.co/datasets/zalando-datasets/fashion_mnist",
        row_count=70000,
        source_meta={"cardData": {"paperswithcode_id": "fashion-mnist"}},
    ),
    ds(
        "kaggle",
        "zalando-research/fashionmnist",
        "Fashion MNIST",
        "An MNIST-like dataset of 70,000 fashion images. https://huggingface.co/datasets/zalando-datasets/fashion_mnist",
        url="https://www.kaggle.com/datasets/zalando-research/fashionmnist",
    ),
    ds(
        "kaggle",
        "someone/titanic",
        "Titanic",
        "Who survived the Titanic.",
        url="https://www.kaggle.com/datasets/someone/titanic",
    ),
]
