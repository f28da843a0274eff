#!/usr/bin/python3
"""Plots `subset bench` results: test accuracy against energy, one line per selection method.

    plot_bench.py RESULTS_JSON OUTPUT_PNG
    plot_bench.py --check          (exits 0 when matplotlib can be imported)

The energy of a point is what one subset costs end to end: its selection plus one training on it,
in kWh (facility energy, PUE included). The full-data training is drawn as a star.
"""
import json
import sys


def load_matplotlib():
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    return plt


def plot(results_path, output_path):
    plt = load_matplotlib()
    with open(results_path) as f:
        results = json.load(f)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    methods = []
    for row in results["rows"]:
        if row["method"] not in methods:
            methods.append(row["method"])
    for method in methods:
        rows = sorted((r for r in results["rows"] if r["method"] == method), key=lambda r: r["fraction"])
        x = [(r["select_kwh"] or 0.0) + r["train_kwh"] for r in rows]
        y = [100 * r["accuracy_mean"] for r in rows]
        err = [100 * r["accuracy_std"] for r in rows]
        line = ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=method)
        for xi, yi, r in zip(x, y, rows):
            ax.annotate(f"{r['fraction']:g}", (xi, yi), textcoords="offset points", xytext=(4, -10),
                        fontsize=7, color=line[0].get_color())
    full = results["full"]
    ax.errorbar([full["train_kwh"]], [100 * full["accuracy_mean"]], yerr=[100 * full["accuracy_std"]],
                marker="*", markersize=14, color="black", linestyle="none", label="full data")
    ax.set_xscale("log")
    ax.set_xlabel("energy per run: selection + one training (kWh, PUE %.2f)" % results["pue"])
    ax.set_ylabel("test accuracy (%%), mean ± std over %d repeats" % results["repeats"])
    ax.set_title("%s: proxy %s, %d epochs" % (results["store"].split("/")[-1], results["model"], results["epochs"]))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output_path)


def main(argv):
    if argv[1:] == ["--check"]:
        load_matplotlib()
        return 0
    if len(argv) != 3:
        print("usage: plot_bench.py RESULTS_JSON OUTPUT_PNG | --check", file=sys.stderr)
        return 2
    plot(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
