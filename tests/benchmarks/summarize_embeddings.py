"""Prints bench_embeddings.sh's sweeps as one markdown table: space, method, fraction, test accuracy
(mean ± sd over the repeats), the embedding's, selection's and training's kWh per run, and the
break-even count of trainings."""
import json
import sys
from pathlib import Path


def cell(x, fmt="%.3g"):
    return "–" if x is None else fmt % x


def main(out):
    out = Path(out)
    print("| space | method | fraction | test accuracy | embed kWh | select kWh | train kWh | break-even |")
    print("|---|---|---|---|---|---|---|---|")
    for space in ("pixels", "mlp", "pca"):
        path = out / space / "results.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        full = r["full"]
        if space == "pixels":
            print("| full data | – | 1 | %.2f%% ± %.2f | – | – | %s | – |" % (
                100 * full["accuracy_mean"], 100 * full["accuracy_std"], cell(full["train_kwh"])))
        for row in r["rows"]:
            print("| %s | %s | %g | %.2f%% ± %.2f | %s | %s | %s | %s |" % (
                space, row["method"], row["fraction"], 100 * row["accuracy_mean"], 100 * row["accuracy_std"],
                cell(row.get("embed_kwh")), cell(row.get("select_kwh")), cell(row["train_kwh"]),
                row["break_even_trainings"] if row["break_even_trainings"] is not None else "never"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/embbench")
