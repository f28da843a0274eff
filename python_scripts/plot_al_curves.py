#!/usr/bin/env python3
"""Plots `subset al simulate` results: DIR/curves.json -> DIR/curves.png, the mean test accuracy of
each strategy against labels (left) and against cumulative kWh (right), each repeat faint.

Usage: /usr/bin/python3 python_scripts/plot_al_curves.py DIR [-o OUT.png]"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    curves = json.load(open(os.path.join(args.dir, "curves.json")))["curves"]
    by = {}
    for c in curves:
        by.setdefault(c["strategy"], []).append(c["points"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (strategy, runs) in enumerate(by.items()):
        color = f"C{i}"
        labels = [p["labels"] for p in runs[0]]
        acc = np.array([[p["accuracy"] for p in r] for r in runs])
        kwh = np.array([[p["kwh"] for p in r] for r in runs])
        for r in range(len(runs)):
            left.plot(labels, acc[r], color=color, alpha=0.2, lw=0.8)
        left.plot(labels, acc.mean(0), color=color, marker="o", ms=3, label=strategy)
        right.plot(kwh.mean(0), acc.mean(0), color=color, marker="o", ms=3, label=strategy)
    left.set(xlabel="labels", ylabel="test accuracy of the proxy", title="accuracy against labels")
    right.set(xlabel="kWh (cumulative, mean of repeats)", ylabel="test accuracy", title="accuracy against energy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = args.output or os.path.join(args.dir, "curves.png")
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
