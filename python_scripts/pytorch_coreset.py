#!/usr/bin/python3
"""Train a small PyTorch MLP on a 10% coreset of Fashion-MNIST, against a random 10%, with the
energy of each run tracked: libsubset.select, libsubset.torch.subset, libsubset.torch.weighted_sampler
and libsubset.energy.track in a plain PyTorch loop.

    pytorch_coreset.py [--store fmnist.h5] [--train-rows N] [--epochs E] [--fraction 0.1]
                       [--method kmeans] [--region FR] [--full] [--json]

Without --store, Fashion-MNIST is imported (libsubset.import_fashion_mnist) into a temporary
directory. --train-rows keeps the first N training rows (a quick run); the test split is always
whole unless --test-rows. The coreset is chosen per class; its weights (how many rows each
selected row stands for) drive a WeightedRandomSampler over the Subset, so an epoch draws as many
examples as the coreset holds. The random 10% is sampled uniformly. Printed per run: rows
trained on, test accuracy, the kWh and gCO2e of the training (and of the selection, measured by
select itself), and the seconds.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

import libsubset


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", help="a Fashion-MNIST store (subset import fashion-mnist); default: import one")
    p.add_argument("--dataset-dir", default=None, help="where the Fashion-MNIST IDX files are (when importing)")
    p.add_argument("--train-rows", type=int, default=0, help="use the first N training rows (0: all)")
    p.add_argument("--test-rows", type=int, default=0, help="evaluate on the first N test rows (0: all)")
    p.add_argument("--fraction", type=float, default=0.1, help="subset size as a fraction of the training rows")
    p.add_argument("--method", default="kmeans", help="selection method of the coreset (libsubset.select)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="threads for torch and libsubset (0: all cores)")
    p.add_argument("--region", default=None, help="carbon-intensity region, e.g. FR (default: world average)")
    p.add_argument("--full", action="store_true", help="also train on the full training rows, for reference")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = p.parse_args(argv)
    if args.train_rows < 0 or args.test_rows < 0 or args.epochs < 1 or not 0 < args.fraction <= 1:
        p.error("--train-rows/--test-rows must be >= 0, --epochs >= 1, --fraction in (0, 1]")
    return args


def make_model(torch, dim, hidden, classes):
    return torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes))


def train_and_test(torch, loader, test_X, test_y, dim, classes, args, seed):
    torch.manual_seed(seed)
    model = make_model(torch, dim, args.hidden, classes)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(args.epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(test_X[i:i + 4096]).argmax(1) for i in range(0, len(test_X), 4096)])
    return float((predicted == test_y).float().mean())


def main(argv):
    args = parse_args(argv)
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.store:
            store = libsubset.Store(args.store)
        else:
            kwargs = {} if args.dataset_dir is None else {"dataset_dir": args.dataset_dir}
            store = libsubset.import_fashion_mnist(os.path.join(tmp, "fmnist.h5"), energy=False, **kwargs)
        n = store.n if args.train_rows == 0 else min(args.train_rows, store.n)
        m = store.n_test if args.test_rows == 0 else min(args.test_rows, store.n_test)
        X = store.features[:n]
        y = store.labels[:n]
        test_X = torch.from_numpy(store.test_features[:m])
        test_y = torch.from_numpy(store.test_labels[:m])
    classes = store.num_classes
    dataset = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    threads = args.threads or None
    generator = torch.Generator().manual_seed(args.seed)
    runs = []

    def run(name, selection, loader_of):
        with libsubset.energy.track(region=args.region) as t:
            accuracy = train_and_test(torch, loader_of(), test_X, test_y, X.shape[1], classes, args, args.seed)
        select_energy = None if selection is None else selection.energy
        runs.append({
            "run": name,
            "rows": n if selection is None else len(selection),
            "accuracy": accuracy,
            "train_seconds": t.report["seconds"],
            "train_kwh": t.report["kwh"],
            "train_gco2e": t.report["gco2e"],
            "select_seconds": None if selection is None else selection.seconds,
            "select_kwh": None if select_energy is None else select_energy["kwh"],
            "energy_sources": sorted({c["source"] for c in t.report["components"]}),
        })

    accounting = {"region": args.region} if args.region else {}
    coreset = libsubset.select(X, y, method=args.method, fraction=args.fraction, per_class=True, seed=args.seed,
                               energy=accounting, threads=threads, progress=False)
    run(f"coreset ({args.method})", coreset,
        lambda: DataLoader(libsubset.torch.subset(dataset, coreset), batch_size=args.batch_size,
                           sampler=libsubset.torch.weighted_sampler(coreset, generator=generator)))
    random = libsubset.select(X, y, method="random", fraction=args.fraction, seed=args.seed, energy=accounting,
                              threads=threads, progress=False)
    run("random", random,
        lambda: DataLoader(libsubset.torch.subset(dataset, random), batch_size=args.batch_size, shuffle=True,
                           generator=generator))
    if args.full:
        run("full", None, lambda: DataLoader(dataset, batch_size=args.batch_size, shuffle=True, generator=generator))

    if args.json:
        print(json.dumps({"train_rows": n, "test_rows": m, "epochs": args.epochs, "runs": runs}, indent=2))
        return 0
    print(f"Fashion-MNIST: {n} training rows, {m} test rows, {args.epochs} epochs, MLP {X.shape[1]}-{args.hidden}-{classes}")
    print(f"{'run':<20} {'rows':>7} {'accuracy':>9} {'train kWh':>11} {'select kWh':>11} {'train s':>8}")
    for r in runs:
        select_kwh = "-" if r["select_kwh"] is None else f"{r['select_kwh']:.3g}"
        print(f"{r['run']:<20} {r['rows']:>7} {r['accuracy']:>9.4f} {r['train_kwh']:>11.3g} {select_kwh:>11} "
              f"{r['train_seconds']:>8.1f}")
    print("energy: " + ", ".join(sorted({s for r in runs for s in r["energy_sources"]})) +
          " (libsubset.energy; see docs/energy.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
