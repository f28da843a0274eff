#!/usr/bin/python3
"""The PyTorch peer of bench_trainer: the proxy MLP (Linear(dim, hidden) - ReLU - Linear(hidden,
classes)) trained with Adam on a store's /features and /labels, tested on /test/features and
/test/labels. A plain loop, as a PyTorch user would write it: a fresh random permutation each
epoch, x[idx] batches, nn.CrossEntropyLoss, optimizer.zero_grad(), loss.backward(), step().
Prints, per run, the wall seconds of each epoch, their mean, and the test accuracy.

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/benchmarks/peers_trainer.py STORE \\
        [--threads 2] [--epochs 5] [--batch 256] [--hidden 256] [--lr 1e-3] [--seed 0] [--repeats 1]
        [--intra-op-threads N]

Debian's python3-torch (1.13, CPU). torch.set_num_threads sets the intra-op (OpenMP) pool only:
give OpenBLAS, which does the matrix products, the same count through OPENBLAS_NUM_THREADS.
--intra-op-threads N (default: --threads) calls torch.set_num_threads(N) instead, the tuned
variant: with N = 1 the OpenMP and OpenBLAS pools no longer fight over the cores (printed as
"pytorch-intra1").
"""
import argparse
import os
import time

import h5py
import numpy as np
import torch
from torch import nn


def run(x, y, xt, yt, a, seed):
    torch.manual_seed(seed)
    classes = int(max(y.max(), yt.max())) + 1
    model = nn.Sequential(nn.Linear(x.shape[1], a.hidden), nn.ReLU(), nn.Linear(a.hidden, classes))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds, losses = [], []
    for _ in range(a.epochs):
        t = time.perf_counter()
        perm = torch.randperm(x.shape[0])
        total = 0.0
        for i in range(0, x.shape[0], a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        epoch_seconds.append(time.perf_counter() - t)
        losses.append(total / x.shape[0])  # mean over rows, as libsubset's final_loss
    t = time.perf_counter()
    with torch.no_grad():
        correct = sum(int((model(xt[i:i + 4096]).argmax(1) == yt[i:i + 4096]).sum())
                      for i in range(0, xt.shape[0], 4096))
    test_seconds = time.perf_counter() - t
    return epoch_seconds, losses[-1], correct / xt.shape[0], test_seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--intra-op-threads", type=int, default=0)
    a = ap.parse_args()
    intra = a.intra_op_threads or a.threads
    torch.set_num_threads(intra)
    name = "pytorch" if intra == a.threads else f"pytorch-intra{intra}"
    with h5py.File(a.store, "r") as f:
        x = torch.from_numpy(np.ascontiguousarray(f["features"][...], dtype=np.float32))
        y = torch.from_numpy(f["labels"][...].astype(np.int64))
        xt = torch.from_numpy(np.ascontiguousarray(f["test/features"][...], dtype=np.float32))
        yt = torch.from_numpy(f["test/labels"][...].astype(np.int64))
    print(f"# pytorch {torch.__version__}: {x.shape[0]} x {x.shape[1]}, test {xt.shape[0]}, "
          f"torch threads {torch.get_num_threads()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}",
          flush=True)
    for r in range(a.repeats):
        secs, loss, acc, test_s = run(x, y, xt, yt, a, a.seed + r)
        per_epoch = " ".join(f"{s:.3f}" for s in secs)
        print(f"{name} threads={a.threads} epochs={a.epochs} seconds_per_epoch={sum(secs) / len(secs):.3f} "
              f"epoch_seconds={per_epoch} test_seconds={test_s:.3f} final_loss={loss:.9f} test_accuracy={acc:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
