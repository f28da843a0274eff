#!/usr/bin/python3
"""Plots a `subset hpo` search: each configuration's test accuracy on a coreset against its accuracy
on the full data, one panel per coreset (the diagonal marks equal accuracy; the full search's best
configuration is ringed, the coreset's best is a star).

    plot_hpo.py DIR        (reads DIR/results.json, writes DIR/hpo.png)
    plot_hpo.py --check    (exits 0 when matplotlib can be imported)
"""
import json
import math
import os
import sys


def load_matplotlib():
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    return plt


def fmt(value, scale=1.0, digits=2):
    return "-" if value is None else f"{scale * value:.{digits}f}"


def plot(directory):
    plt = load_matplotlib()
    with open(os.path.join(directory, "results.json")) as f:
        results = json.load(f)
    coresets = results["coresets"]
    columns = min(3, max(1, len(coresets)))
    rows = max(1, math.ceil(len(coresets) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 4 * rows), dpi=110, squeeze=False)
    for ax in axes.flat[len(coresets):]:
        ax.axis("off")
    for ax, c in zip(axes.flat, coresets):
        points = [(100 * cfg["accuracy"][c["set"]], 100 * cfg["accuracy"]["full"], cfg["id"])
                  for cfg in results["configs"] if c["set"] in cfg["accuracy"] and "full" in cfg["accuracy"]]
        if points:
            xs, ys, ids = zip(*points)
            ax.scatter(xs, ys, s=18)
            low, high = min(xs + ys), max(xs + ys)
            ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--")
            for x, y, i in points:
                if i == c["best_config"]:
                    ax.scatter([x], [y], marker="*", s=120, color="tab:red", zorder=3, label="coreset's best")
                if i == results["full_best"]:
                    ax.scatter([x], [y], s=140, facecolors="none", edgecolors="black", zorder=3, label="full's best")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(f"{c['label']} (n={c['n']})\ntau {fmt(c['kendall_tau'])}, regret {fmt(c['regret'], 100)} pts, "
                     f"energy x{fmt(c['energy_ratio'], 1, 3)}", fontsize=8)
        ax.set_xlabel("test accuracy on the coreset (%)")
        ax.set_ylabel("test accuracy on the full data (%)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(directory, "hpo.png"))


def main(argv):
    if argv[1:] == ["--check"]:
        load_matplotlib()
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    plot(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
