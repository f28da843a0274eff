"""The result lines of the bench_* programs and their peers, `NAME key=value ...`, as
(NAME, {key: value}) pairs; lines starting with # and blank lines are skipped. Used by the
summaries of the bench_*.sh drivers (run from the repository root)."""


def read_records(path):
    records = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, *fields = line.split()
        records.append((name, dict(kv.split("=", 1) for kv in fields if "=" in kv)))
    return records
