#!/usr/bin/python3
"""Out-of-core selection, extraction and compression under --memory-limit (issue 18).

Fashion-MNIST's training rows tiled (make_tiled_pool.py, noise 0.02 on every copy but the first)
to a store that fits in memory and one four times the memory limit. For each method: the in-memory
run and the streamed run on the store that fits (same answer? time ratio), then the streamed run on
the large store: wall time, peak resident memory (the kernel's, wait4) against the limit, passes
over the data, and for k-center the share of blocks its bounds left unread.

    /usr/bin/python3 tests/benchmarks/bench_out_of_core.py BUILD [--scratch DIR] [--store FMNIST.h5]
        [--small-rows 300000] [--large-rows 1280000] [--limit 1G] [--budget 100] [--methods A,B]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1024 * 1024


def measured(cmd):
    """(wall seconds, peak resident bytes, stdout) of `subset -v ...`, which must succeed. The peak is
    the one `subset -v` reports (its VmHWM): the kernel's wait4 figure for a child of this
    interpreter would count the interpreter's pages too."""
    cmd = [cmd[0], "-v", *map(str, cmd[1:])]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    err = proc.stderr.decode()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    peak = float(re.search(r"^peak memory ([0-9.]+) MiB resident$", err, re.M).group(1)) * MIB
    return wall, peak, proc.stdout.decode()


def indices(path):
    with h5py.File(path, "r") as f:
        return f["indices"][()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--scratch", default=None)
    ap.add_argument("--store", default=None)
    ap.add_argument("--small-rows", type=int, default=300_000)
    ap.add_argument("--large-rows", type=int, default=1_280_000)
    ap.add_argument("--limit", default="1G")
    ap.add_argument("--small-limit", default="512M")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--methods", default="kcenter,herding,kmeans")
    a = ap.parse_args()
    subset = os.path.join(a.build, "tools", "subset")
    scratch = a.scratch or tempfile.mkdtemp(prefix="subset-bench-ooc-", dir="/var/tmp")
    os.makedirs(scratch, exist_ok=True)
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        print(f"# machine: {os.cpu_count()} cores, {cpu}")
        store = a.store
        if not store:
            store = os.path.join(scratch, "fmnist.h5")
            subprocess.run([subset, "import", "fashion-mnist", "-o", store, "-q"], check=True, stdout=subprocess.DEVNULL)
        small, large = os.path.join(scratch, "small.h5"), os.path.join(scratch, "large.h5")
        for path, rows in ((small, a.small_rows), (large, a.large_rows)):
            if not os.path.exists(path):
                subprocess.run([sys.executable, os.path.join(HERE, "make_tiled_pool.py"), store, path, "--rows",
                                str(rows), "--noise", "0.02"], check=True, stdout=subprocess.DEVNULL)
        for path in (small, large):
            with h5py.File(path, "r") as f:
                n, d = f["features"].shape
            print(f"# {os.path.basename(path)}: {n} x {d} float32, {n * d * 4 / 2**30:.2f} GiB of features")

        extra_args = {"kmeans": ["--iterations", "5"]}
        methods = [(m, extra_args.get(m, [])) for m in a.methods.split(",") if m]
        print(f"\n## select, budget {a.budget}: in memory vs on disk (--memory-limit {a.small_limit}) on small.h5,"
              f" then on disk on large.h5 (--memory-limit {a.limit})")
        print("| method | in memory s | peak MiB | on disk s | peak MiB | same picks | ratio |"
              " large s | peak MiB | passes | blocks skipped |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for method, extra in methods:
            base = [subset, "select", "-m", method, "--budget", str(a.budget), "--json", "--force", *extra]
            mem_out, disk_out = os.path.join(scratch, "mem.h5"), os.path.join(scratch, "disk.h5")
            t_mem, p_mem, _ = measured(base + [small, "-o", mem_out])
            t_disk, p_disk, _ = measured(base + [small, "-o", disk_out, "--memory-limit", a.small_limit])
            same = np.array_equal(indices(mem_out), indices(disk_out))
            big_out = os.path.join(scratch, "large_sel.h5")
            t_big, p_big, text = measured(base + [large, "-o", big_out, "--memory-limit", a.limit])
            stats = json.loads(text)["stats"]
            passes = stats.get("rows_read", 0) / a.large_rows
            skipped = stats.get("blocks_skipped")
            scanned = stats.get("blocks_scanned")
            share = f"{skipped / (skipped + scanned):.1%}" if skipped is not None and scanned else "-"
            print(f"| {method} | {t_mem:.1f} | {p_mem / MIB:.0f} | {t_disk:.1f} | {p_disk / MIB:.0f} | "
                  f"{'yes' if same else 'NO'} | {t_disk / t_mem:.2f} | {t_big:.1f} | {p_big / MIB:.0f} | "
                  f"{passes:.1f} | {share} |")

        print(f"\n## extract a random 30% of large.h5 and compress it (pca --dim 32), --memory-limit {a.limit}")
        sel = os.path.join(scratch, "random.h5")
        subprocess.run([subset, "select", large, "-m", "random", "--fraction", "0.3", "-o", sel, "-q", "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        print("| job | s | peak MiB |")
        print("|---|---|---|")
        out = os.path.join(scratch, "extract.h5")
        for label, cmd in (
                ("extract, default limit (rows in memory)", [subset, "extract", large, "-s", sel, "-o", out,
                                                             "--force"]),
                (f"extract, --memory-limit {a.limit} (through a file)",
                 [subset, "extract", large, "-s", sel, "-o", out, "--force", "--memory-limit", a.limit]),
                (f"compress pca --dim 32, --memory-limit {a.limit}",
                 [subset, "compress", large, "-m", "pca", "--dim", "32", "-o", out, "--force",
                  "--memory-limit", a.limit])):
            t, p, _ = measured(cmd)
            print(f"| {label} | {t:.1f} | {p / MIB:.0f} |")
    finally:
        if not a.scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
