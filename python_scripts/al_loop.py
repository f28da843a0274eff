#!/usr/bin/python3
"""An active-learning loop driven from Python with libsubset.al, on a Fashion-MNIST store: the
store's own labels play the annotators (as `subset al simulate` does), revealed only for the rows
each round proposes.

    subset import fashion-mnist -o fm.h5
    PYTHONPATH=build/python /usr/bin/python3 python_scripts/al_loop.py fm.h5 --rows 5000 \\
        --seed-size 100 --batch 100 --rounds 5 --strategy entropy --output curve.json

Each round: the pending rows get their labels (al.label, from arrays), then al.query trains the
proxy on every label so far, reports its accuracy on the store's test split and proposes the next
batch. The project file (WORKDIR/project.al) is the CLI's: `subset al status WORKDIR/project.al`
shows the same rounds. --rows N uses the first N training rows (and --test-rows of the test split)
as the pool, to keep a run small; the pool is then written to WORKDIR/pool.h5 with h5py.
Prints one line a round; --output writes the learning curve as JSON (per query: the labels the
proxy was trained on and its test accuracy, and the kWh so far).
"""
import argparse
import json
import os
import sys
import tempfile

import h5py
import numpy as np

from libsubset import al


def small_pool(store, rows, test_rows, path):
    """The first `rows` training rows (and `test_rows` test rows) of `store` as a feature store."""
    with h5py.File(store, "r") as src, h5py.File(path, "w") as dst:
        dst.attrs["format"] = "subset-store"
        dst.attrs["format_version"] = 1
        dst.attrs["source"] = f"first {rows} rows of {os.path.abspath(store)}"
        features = dst.create_dataset("features", data=src["features"][:rows])
        for name, value in src["features"].attrs.items():
            features.attrs[name] = value
        labels = dst.create_dataset("labels", data=src["labels"][:rows])
        for name, value in src["labels"].attrs.items():
            labels.attrs[name] = value
        if "test" in src:
            dst.create_dataset("test/features", data=src["test/features"][:test_rows])
            dst.create_dataset("test/labels", data=src["test/labels"][:test_rows])
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", help="feature store with /labels (and a /test split for accuracies)")
    parser.add_argument("--rows", type=int, help="use the first ROWS training rows as the pool")
    parser.add_argument("--test-rows", type=int, default=2000, help="with --rows: test rows kept (default 2000)")
    parser.add_argument("--workdir", help="where the project, query CSVs and pool go (default: a new temporary "
                                          "directory)")
    parser.add_argument("--seed-size", type=int, default=100)
    parser.add_argument("--seed-method", default="random", help=", ".join(al.seed_methods()))
    parser.add_argument("--strategy", default="entropy")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5, help="queries after the seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="proxy epochs (default: the library's, about 300 steps)")
    parser.add_argument("--hidden", type=int, help="proxy hidden width")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--output", help="write the learning curve here (JSON)")
    args = parser.parse_args(argv)

    workdir = args.workdir or tempfile.mkdtemp(prefix="al-loop-")
    os.makedirs(workdir, exist_ok=True)
    pool = args.store
    if args.rows is not None:
        pool = small_pool(args.store, args.rows, args.test_rows, os.path.join(workdir, "pool.h5"))
    with h5py.File(pool, "r") as f:
        if "labels" not in f:
            sys.exit(f"error: {pool} has no /labels to answer the queries with")
        truth = f["labels"][...]  # the oracle: read here, revealed row by row below

    project = os.path.join(workdir, "project.al")
    proxy = {k: v for k, v in (("epochs", args.epochs), ("hidden", args.hidden)) if v is not None}
    info = al.init(project, pool, seed_size=args.seed_size, seed_method=args.seed_method, seed=args.seed, force=True,
                   threads=args.threads)
    print(f"project {project} over {info['pool']} ({info['pool_rows']} rows, {len(info['class_names'])} classes)")
    rows = np.asarray(info["seed_rows"] or [], dtype=np.int64)
    points = []
    for round_ in range(1, args.rounds + 1):
        if len(rows):
            al.label(project, rows, truth[rows], source="oracle")
        rows, query = al.query(project, strategy=args.strategy, batch=args.batch, threads=args.threads, force=True,
                               output=os.path.join(workdir, f"query{round_}.csv"), details=True, **proxy)
        kwh = al.status(project)["total_kwh"]
        accuracy = query["proxy_test_accuracy"]
        points.append({"round": round_, "labels": query["labelled_before"], "accuracy": accuracy, "kwh": kwh})
        shown = "-" if accuracy is None else f"{accuracy:.3f}"
        print(f"round {round_}: proxy trained on {query['labelled_before']} labels, test accuracy {shown}; "
              f"proposed {len(rows)} rows by {args.strategy}; {kwh:.3g} kWh so far", flush=True)
    if len(rows):
        al.label(project, rows, truth[rows], source="oracle")
    status = al.status(project)
    print(f"{status['labelled']} rows labelled in {len(status['rounds'])} rounds, {status['total_kwh']:.3g} kWh")
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"project": project, "pool": info["pool"], "strategy": args.strategy, "points": points,
                       "labelled": status["labelled"], "total_kwh": status["total_kwh"]}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
