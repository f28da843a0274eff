#!/usr/bin/python3
"""Fashion-MNIST IDX (.gz) -> HDF5 feature store, with numpy + h5py only.

The peer that `subset import fashion-mnist` is benchmarked against (tests/benchmarks/), and a
reference for writing a libsubset store from Python: same layout, dtypes and attributes
(docs/format.md), same chunking, no compression.

    /usr/bin/python3 python_scripts/import_fashion_mnist.py -o fmnist.h5
"""
import argparse
import gzip
import os
import sys
import time

import h5py
import numpy as np

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--dataset-dir", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()

    t0 = time.perf_counter()
    d = args.dataset_dir
    x = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xt = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255
    yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    chunk_rows = (1 << 20) // (784 * 4)  # libsubset's default: about 1 MiB per chunk, at most N rows
    with h5py.File(args.output, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["source"] = "fashion-mnist (%s)" % d
        f.attrs["created_by"] = "python_scripts/import_fashion_mnist.py"
        ds = f.create_dataset("features", data=x, chunks=(min(chunk_rows, len(x)), 784))
        ds.attrs["image_shape"] = np.array([1, 28, 28], dtype=np.int64)
        lab = f.create_dataset("labels", data=y)
        lab.attrs["class_names"] = CLASS_NAMES
        f.create_dataset("test/features", data=xt, chunks=(min(chunk_rows, len(xt)), 784))
        f.create_dataset("test/labels", data=yt)
    print("wrote %s in %.3f s" % (args.output, time.perf_counter() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
