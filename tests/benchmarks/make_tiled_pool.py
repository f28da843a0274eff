#!/usr/bin/python3
"""Writes a large pool store by tiling a store's training rows (issue 15's scale check: a
1,000,000-row pool made of Fashion-MNIST repeated): features and labels tiled and cut at --rows,
the test split, class names, image shape and root attributes copied, the features checksum
recomputed (crc32 of the rows' bytes, as `subset import` records it). Written tile by tile, so its
memory is one tile. --noise S adds Gaussian noise of standard deviation S to every tile but the
first (seeded by the tile's number), so that the copies are near, not exact, duplicates.

    /usr/bin/python3 tests/benchmarks/make_tiled_pool.py SOURCE.h5 OUT.h5 [--rows 1000000] [--noise 0.02]
"""
import argparse
import zlib

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("output")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--noise", type=float, default=0.0)
    a = ap.parse_args()
    with h5py.File(a.source, "r") as src, h5py.File(a.output, "w") as out:
        x, y = src["features"], src["labels"][()]
        n, d = x.shape
        chunk_rows = x.chunks[0] if x.chunks else 1024
        features = out.create_dataset("features", (a.rows, d), dtype="f4", chunks=(chunk_rows, d))
        labels = out.create_dataset("labels", (a.rows,), dtype="i8")
        tile = x[()]
        crc = 0
        for number, start in enumerate(range(0, a.rows, n)):
            count = min(n, a.rows - start)
            rows = tile[:count]
            if a.noise > 0 and number > 0:
                noise = np.random.default_rng(number).standard_normal(rows.shape, dtype=np.float32)
                rows = rows + np.float32(a.noise) * noise
            features[start:start + count] = rows
            labels[start:start + count] = y[:count]
            crc = zlib.crc32(np.ascontiguousarray(rows).tobytes(), crc)
        for key, value in x.attrs.items():
            features.attrs[key] = value
        features.attrs["checksum"] = "crc32:%08x" % (crc & 0xFFFFFFFF)
        for key, value in src["labels"].attrs.items():
            labels.attrs[key] = value
        for key, value in src.attrs.items():
            out.attrs[key] = value
        noise = f", noise {a.noise}" if a.noise > 0 else ""
        out.attrs["source"] = f"{a.source} tiled to {a.rows} rows{noise} (make_tiled_pool.py)"
        # The source's energy is not this store's; with noise, neither is its value range.
        for key in ("energy",) + (("value_min", "value_max") if a.noise > 0 else ()):
            if key in out.attrs:
                del out.attrs[key]
        if "test" in src:
            src.copy(src["test"], out, "test")
    print(f"{a.output}: {a.rows} rows x {d}")


if __name__ == "__main__":
    main()
