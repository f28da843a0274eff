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


def readable_log_ticks(lo, hi):
    """Positions of labelled ticks on a log axis showing [lo, hi] (0 < lo < hi): at least 3 whenever
    the range allows. Powers of ten when they give 3 (three decades or more); else 1, 2, 5 x 10^k
    (about a decade); else 1..9 x 10^k; and for a range narrower still, evenly spaced round numbers."""
    import math
    from matplotlib.ticker import MaxNLocator
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0 ** e for e in decades for m in mantissas if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 3:
            return ticks
    return [t for t in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi) if lo <= t <= hi and t > 0]


def tick_format(ticks):
    """The shortest %g format (2 to 12 significant digits) that tells all the ticks apart."""
    for digits in range(2, 13):
        if len({"%.*g" % (digits, t) for t in ticks}) == len(ticks):
            return "%%.%dg" % digits
    return "%.12g"


def set_energy_ticks(ax):
    """Labels the log-kWh axis readably: a bench's points often lie within one decade, where
    matplotlib's default log ticks label a single power of ten (or none)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi)  # fixed: the ticks are chosen for these limits
    ticks = readable_log_ticks(lo, hi)
    fmt = tick_format(ticks)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: fmt % x))
    ax.xaxis.set_minor_formatter(NullFormatter())


def figure(results):
    """The plot of a results.json's contents, as a matplotlib figure."""
    plt = load_matplotlib()
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
    set_energy_ticks(ax)  # once every point is drawn: the limits are final
    fig.tight_layout()
    return fig


def plot(results_path, output_path):
    with open(results_path) as f:
        results = json.load(f)
    figure(results).savefig(output_path)


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
