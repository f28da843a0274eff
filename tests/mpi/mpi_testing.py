"""What the MPI tests share: running `subset` under mpirun on one machine, and the stores they use."""
import os
import subprocess

import h5py
import numpy as np

N, D, CLASSES = 6000, 24, 4


def mpirun_command(ranks, binary, *args):
    command = ["mpirun", "-q", "-np", str(ranks)]
    if os.geteuid() == 0:
        command.append("--allow-run-as-root")
    return command + [binary, "--threads", "1", *map(str, args)]


# One machine, no ssh needed (OpenMPI otherwise wants an rsh agent even for local ranks), more ranks
# than cores allowed, and no single-copy shared memory (refused in many containers).
MPI_ENV = dict(os.environ, OMPI_MCA_plm="isolated", OMPI_MCA_rmaps_base_oversubscribe="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")


def mpirun(ranks, binary, *args, timeout=300):
    proc = subprocess.run(mpirun_command(ranks, binary, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout, env=MPI_ENV)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def make_store(path, nan_row=None):
    rng = np.random.RandomState(3)
    centres = rng.normal(0, 3, (9, D)).astype(np.float32)
    which = rng.randint(0, 9, N)
    x = (centres[which] + rng.normal(0, 0.4, (N, D))).astype(np.float32)
    x[100:140] = x[0]  # exact duplicates: ties that the lowest row must win on every rank count
    if nan_row is not None:
        x[nan_row, 5] = np.nan
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x, chunks=(128, D))
        f.create_dataset("labels", data=(which % CLASSES).astype(np.int64))
    return str(path)


def make_wide_store(path):
    """A store of four 64 MiB fit blocks (compress reads its fit in blocks that size): 3 ranks own
    them unevenly, and the fit's stripes cross the ranks' shares."""
    rng = np.random.RandomState(5)
    n, d = 200_000, 256
    basis = rng.normal(size=(12, d)).astype(np.float32)
    x = rng.normal(size=(n, 12)).astype(np.float32) @ basis + 0.1 * rng.normal(size=(n, d)).astype(np.float32) + 2.0
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x.astype(np.float32), chunks=(4096, d))
        f.create_dataset("labels", data=rng.randint(0, 3, n).astype(np.int64))
    return str(path)


def read_datasets(path):
    """Every dataset at the file's top level, by name."""
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in f if isinstance(f[name], h5py.Dataset)}


def processes_running(binary, argument):
    """Pids of the processes whose command line is `binary ... argument ...` (no procps in a minimal system)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
        except OSError:
            continue
        if words and words[0] == os.fsencode(binary) and os.fsencode(argument) in words:
            found.append(int(entry))
    return sorted(found)


