"""Data sets: MNIST, Fashion-MNIST, IMDb, scikit-learn's digits, and the Boolean cube.

Files are searched in ``data_dir`` (the CLI's ``--data-dir``), then ``$OCCAM_DATA_DIR``,
then the user cache (``$XDG_CACHE_HOME/occam`` or ``~/.cache/occam``), laid out as
``<root>/mnist/<file>.gz``, ``<root>/fashion-mnist/<file>.gz``, ``<root>/imdb/<archive>``.
Missing files are downloaded into the cache from their canonical addresses (or from
``$OCCAM_DATA_MIRROR/<dataset>/<file>``) and every file is checked against its SHA-256
before use. All user-facing problems raise :class:`DataError` with a one-line message.
"""

from occam.data._files import DATASETS, ENV_DATA_DIR, ENV_MIRROR, DataError, DatasetSpec, FileSpec
from occam.data.catalog import fetch, list_datasets, verify
from occam.data.idx import load_fashion_mnist, load_mnist
from occam.data.imdb import PAD, UNK, encode, imdb_dir, imdb_vocab, load_imdb, tokenize
from occam.data.synthetic import boolean_inputs, boolean_labels, load_digits
from occam.data.transforms import avg_pool_images, binarize

__all__ = [
    "DATASETS",
    "ENV_DATA_DIR",
    "ENV_MIRROR",
    "PAD",
    "UNK",
    "DataError",
    "DatasetSpec",
    "FileSpec",
    "avg_pool_images",
    "binarize",
    "boolean_inputs",
    "boolean_labels",
    "encode",
    "fetch",
    "imdb_dir",
    "imdb_vocab",
    "list_datasets",
    "load_digits",
    "load_fashion_mnist",
    "load_imdb",
    "load_mnist",
    "tokenize",
    "verify",
]
