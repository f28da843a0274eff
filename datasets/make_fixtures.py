#!/usr/bin/python3
"""Tiny deterministic fixtures for the CLI and Python interoperability tests.

Nothing binary is committed: the tests call this module into a temporary directory, and a person
can run it by hand to look at the same files:

    /usr/bin/python3 datasets/make_fixtures.py OUTDIR

What it writes under OUTDIR (every byte is a function of the code alone: fixed seeds, gzip
headers without timestamps or file names):

  fashion-mnist/            a fake Fashion-MNIST in the layout of Debian's dataset-fashion-mnist:
    train-images-idx3-ubyte.gz   20 images 28x28 (uint8; includes the pixel values 0 and 255)
    train-labels-idx1-ubyte.gz   20 labels in 0..9 (every class occurs)
    t10k-images-idx3-ubyte.gz    10 images
    t10k-labels-idx1-ubyte.gz    10 labels (0..9, each once)
  npy/
    features_f32.npy   float32 [20, 6]        labels.npy       int64 [20] in 0..2
    features_f64.npy   float64 [20, 6]        labels_i32.npy   int32 [20] (same values)
    features_u8.npy    uint8   [20, 6]        test_labels.npy  int64 [8]
    test_features_f32.npy float32 [8, 6]
    images_u8.npy      uint8   [20, 5, 4]  (an [N, H, W] stack: image_shape [1, 5, 4])
  csv/
    train.csv          header f0,f1,f2,species; 12 rows; text labels (setosa/versicolor/virginica)
    test.csv           same header; 6 rows; text labels (a subset of the training names)
    int_labels.csv     header a,b,label; 9 rows; integer labels 0..2
    semicolon.csv      like int_labels.csv, ';' as delimiter

make_all() returns a dict of the paths and of the arrays written, so tests can compare values.
"""
import gzip
import io
import os
import struct
import sys

import numpy as np

SEED = 20240611
FASHION_TRAIN = 20
FASHION_TEST = 10
NPY_TRAIN = 20
NPY_TEST = 8
NPY_DIM = 6
NUM_NPY_CLASSES = 3

CSV_FEATURES = ["f0", "f1", "f2"]
CSV_LABEL = "species"
CSV_CLASSES = ["setosa", "versicolor", "virginica"]  # sorted: the order subset numbers them in


def _rng(offset):
    return np.random.RandomState(SEED + offset)


def _gzip_bytes(raw):
    """gzip with a fixed header (no mtime, no file name), so output is byte-for-byte stable."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(raw)
    return buf.getvalue()


def idx_bytes(array):
    """IDX encoding of a uint8 array: magic 0x0000 0x08 rank, big-endian dims, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def write_idx_gz(path, array):
    with open(path, "wb") as f:
        f.write(_gzip_bytes(idx_bytes(array)))


def fashion_arrays(n_train=FASHION_TRAIN, n_test=FASHION_TEST):
    rng = _rng(1)
    train_images = rng.randint(0, 256, size=(n_train, 28, 28)).astype(np.uint8)
    test_images = rng.randint(0, 256, size=(n_test, 28, 28)).astype(np.uint8)
    # Extremes must map exactly to 0.0 and 1.0.
    train_images[0, 0, 0] = 0
    train_images[0, 0, 1] = 255
    train_labels = (np.arange(n_train) * 7 % 10).astype(np.uint8)  # every class when n_train >= 10
    test_labels = (np.arange(n_test) * 3 % 10).astype(np.uint8)
    return train_images, train_labels, test_images, test_labels


def make_fashion_mnist(directory, gzipped=True):
    """A fake Fashion-MNIST IDX directory. Returns (dir, arrays dict)."""
    os.makedirs(directory, exist_ok=True)
    train_images, train_labels, test_images, test_labels = fashion_arrays()
    arrays = {
        "train-images-idx3-ubyte": train_images,
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": test_images,
        "t10k-labels-idx1-ubyte": test_labels,
    }
    for stem, arr in arrays.items():
        if gzipped:
            write_idx_gz(os.path.join(directory, stem + ".gz"), arr)
        else:
            with open(os.path.join(directory, stem), "wb") as f:
                f.write(idx_bytes(arr))
    return directory, {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }


def npy_arrays():
    rng = _rng(2)
    f64 = rng.standard_normal((NPY_TRAIN, NPY_DIM)) * 3.0
    f64[1, 2] = 1.0 / 3.0  # not exactly representable in float32: checks float64 -> float32 rounding
    test = rng.standard_normal((NPY_TEST, NPY_DIM)).astype(np.float32)
    labels = (np.arange(NPY_TRAIN) % NUM_NPY_CLASSES).astype(np.int64)
    test_labels = (np.arange(NPY_TEST) % NUM_NPY_CLASSES).astype(np.int64)
    u8 = rng.randint(0, 256, size=(NPY_TRAIN, NPY_DIM)).astype(np.uint8)
    images = rng.randint(0, 256, size=(NPY_TRAIN, 5, 4)).astype(np.uint8)
    return {
        "features_f32": f64.astype(np.float32),
        "features_f64": f64,
        "features_u8": u8,
        "test_features_f32": test,
        "labels": labels,
        "labels_i32": labels.astype(np.int32),
        "test_labels": test_labels,
        "images_u8": images,
    }


def make_npy(directory):
    """Small .npy arrays. Returns (dict name -> path, dict name -> array)."""
    os.makedirs(directory, exist_ok=True)
    arrays = npy_arrays()
    paths = {}
    for name, arr in arrays.items():
        paths[name] = os.path.join(directory, name + ".npy")
        np.save(paths[name], arr, allow_pickle=False)
    return paths, arrays


def _fmt(v):
    return repr(float(v))


def csv_tables():
    rng = _rng(3)
    train = np.round(rng.uniform(-5, 5, size=(12, 3)), 3).astype(np.float32)
    test = np.round(rng.uniform(-5, 5, size=(6, 3)), 3).astype(np.float32)
    train_names = [CSV_CLASSES[i % 3] for i in (2, 0, 1, 1, 2, 0, 0, 1, 2, 2, 0, 1)]
    test_names = [CSV_CLASSES[i] for i in (1, 2, 1, 2, 1, 2)]  # no setosa: renumbering is tested
    ints = np.round(rng.uniform(0, 10, size=(9, 2)), 2).astype(np.float32)
    int_labels = np.array([0, 1, 2, 2, 1, 0, 0, 0, 1], dtype=np.int64)
    return {
        "train": train,
        "train_labels": np.array([CSV_CLASSES.index(n) for n in train_names], dtype=np.int64),
        "train_names": train_names,
        "test": test,
        "test_labels": np.array([CSV_CLASSES.index(n) for n in test_names], dtype=np.int64),
        "test_names": test_names,
        "int": ints,
        "int_labels": int_labels,
    }


def make_csv(directory):
    """CSV files with a header row. Returns (dict name -> path, tables dict)."""
    os.makedirs(directory, exist_ok=True)
    t = csv_tables()
    paths = {}

    def write(name, header, rows, delim=","):
        paths[name] = os.path.join(directory, name + ".csv")
        with open(paths[name], "w", newline="") as f:
            f.write(delim.join(header) + "\n")
            for row in rows:
                f.write(delim.join(row) + "\n")

    write("train", CSV_FEATURES + [CSV_LABEL],
          [[_fmt(v) for v in r] + [n] for r, n in zip(t["train"], t["train_names"])])
    write("test", CSV_FEATURES + [CSV_LABEL],
          [[_fmt(v) for v in r] + [n] for r, n in zip(t["test"], t["test_names"])])
    write("int_labels", ["a", "b", "label"],
          [[_fmt(v) for v in r] + [str(l)] for r, l in zip(t["int"], t["int_labels"])])
    write("semicolon", ["a", "b", "label"],
          [[_fmt(v) for v in r] + [str(l)] for r, l in zip(t["int"], t["int_labels"])], delim=";")
    return paths, t


def make_all(directory):
    """Writes every fixture under `directory`; returns {'fashion_dir', 'fashion', 'npy', 'npy_arrays',
    'csv', 'csv_tables'}."""
    fashion_dir, fashion = make_fashion_mnist(os.path.join(directory, "fashion-mnist"))
    npy_paths, npy = make_npy(os.path.join(directory, "npy"))
    csv_paths, tables = make_csv(os.path.join(directory, "csv"))
    return {
        "fashion_dir": fashion_dir,
        "fashion": fashion,
        "npy": npy_paths,
        "npy_arrays": npy,
        "csv": csv_paths,
        "csv_tables": tables,
    }


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: make_fixtures.py OUTDIR\n")
        return 2
    make_all(argv[1])
    for root, _, files in sorted(os.walk(argv[1])):
        for name in sorted(files):
            print(os.path.join(root, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
