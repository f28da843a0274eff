#!/usr/bin/python3
"""The summary of bench_trainer.sh: per thread count and program, the median seconds per epoch,
the test accuracy over the seeds and the time relative to ours; then whether each program's final
training loss is the same at 1 and 2 threads.

    /usr/bin/python3 tests/benchmarks/summarize_trainer.py RESULTS.txt
"""
import statistics
import sys

from bench_records import read_records
runs = {}
for name, f in read_records(sys.argv[1]):
    name = name.replace("ours-onednn", "ours")
    runs.setdefault((int(f["threads"]), name), []).append(
        (float(f["seconds_per_epoch"]), float(f["test_accuracy"]), f["final_loss"]))
order = ["ours", "ours-aten", "pytorch", "pytorch-intra1"]
print(f"{'threads':>7} {'program':<15} {'median s/epoch':>14} {'min':>7} {'test acc (median, range)':>26}  {'its time / ours':>15}")
for t in sorted({t for t, _ in runs}):
    med = {m: statistics.median(s for s, _, _ in runs[(t, m)]) for m in order if (t, m) in runs}
    for m in order:
        if m not in med:
            continue
        acc = [100 * a for _, a, _ in runs[(t, m)]]
        ratio = f"{med[m] / med['ours']:.2f}x" if "ours" in med else "-"
        print(f"{t:>7} {m:<15} {med[m]:>14.3f} {min(s for s, _, _ in runs[(t, m)]):>7.3f} "
              f"{statistics.median(acc):>9.2f}% ({min(acc):.2f}-{max(acc):.2f}%)  {ratio:>15}")
for m in order:
    if (1, m) in runs and (2, m) in runs:
        same = [a[2] == b[2] for a, b in zip(runs[(1, m)], runs[(2, m)])]
        print(f"{m}: final training loss identical at 1 and 2 threads for {sum(same)} of {len(same)} seeds")
print("(s/epoch: mean wall seconds of an epoch within a run, data in memory, test pass excluded; median over")
print(" runs, run r with seed r - 1 in every program; its time / ours > 1x: ours faster)")
