"""libsubset.energy.track: the meter of `subset energy`, checked against the CLI's accounting (region
table, PUE), the wall clock, a fake RAPL counter and the report's own arithmetic."""
import json
import os
import threading
import time

import pytest

from subset_testing import assert_ok

libsubset = pytest.importorskip("libsubset")
from libsubset import energy  # noqa: E402


def busy(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1
    return x


def cli_accounting(run, *options):
    """(carbon_intensity, pue) that `subset energy` uses with these options."""
    report = json.loads(assert_ok(run("energy", "--json", *options, "--", "true")))
    return report["carbon_intensity"], report["pue"]


def check_arithmetic(report):
    assert report["joules"] == pytest.approx(sum(c["joules"] for c in report["components"]), rel=1e-9)
    assert report["kwh"] == pytest.approx(report["joules"] * report["pue"] / 3.6e6, rel=1e-9)
    assert report["gco2e"] == pytest.approx(report["kwh"] * report["carbon_intensity"], rel=1e-9)
    names = set()
    for c in report["components"]:
        assert set(c) >= {"name", "joules", "source", "method"}
        assert c["source"] in ("measured", "estimated")
        assert c["method"] and c["joules"] >= 0
        names.add(c["name"])
    assert {"cpu", "memory"} <= names or any(n.startswith("package") for n in names)


def test_region_fr_against_cli(run):
    intensity, pue = cli_accounting(run, "--region", "FR")
    with energy.track(region="FR") as t:
        assert t.report is None and t.running
        busy(0.3)
    r = t.report
    assert not t.running
    assert isinstance(r, dict)
    assert r["carbon_intensity"] == intensity and r["pue"] == pue
    assert "FR" in r["carbon_source"]
    assert r["kwh"] > 0 and r["gco2e"] > 0
    check_arithmetic(r)
    # The default (no region) is the CLI's default: the world average.
    world, default_pue = cli_accounting(run)
    with energy.track() as t2:
        pass
    assert t2.report["carbon_intensity"] == world and t2.report["pue"] == default_pue
    check_arithmetic(t2.report)


def test_explicit_intensity_pue_and_cpu_watts(run):
    intensity, pue = cli_accounting(run, "--carbon-intensity", "123.5", "--pue", "1.7")
    with energy.track(carbon_intensity=123.5, pue=1.7, cpu_watts=7.5) as t:
        busy(0.2)
    r = t.report
    assert (r["carbon_intensity"], r["pue"]) == (intensity, pue) == (123.5, 1.7)
    check_arithmetic(r)
    cpu = [c for c in r["components"] if c["name"] == "cpu"]
    if cpu and cpu[0]["source"] == "estimated":
        assert "7.500 W" in cpu[0]["method"] and "--cpu-watts" in cpu[0]["method"]


def test_seconds_and_cpu_time_of_a_busy_loop():
    with energy.track() as t:
        t0, c0 = time.monotonic(), time.process_time()
        busy(0.5)
        elapsed, cpu = time.monotonic() - t0, time.process_time() - c0
    r = t.report
    assert elapsed <= r["seconds"] <= elapsed + 0.25, (elapsed, r["seconds"])
    # The process's CPU time over the scope, as Python's own clock counts it (a loaded machine may
    # give the loop less than 0.5 s of CPU).
    assert cpu - 0.02 <= r["cpu_seconds"] <= cpu + 0.2, (cpu, r["cpu_seconds"])


def test_bad_accounting_raises_value_error_before_the_scope():
    with pytest.raises(ValueError, match="region"):
        energy.track(region="XX")
    with pytest.raises(ValueError, match="region"):
        energy.track(region="FR", carbon_intensity=50)
    with pytest.raises(ValueError, match="pue"):
        energy.track(pue=0.5)
    with pytest.raises(ValueError, match="carbon"):
        energy.track(carbon_intensity=-1)
    with pytest.raises(ValueError, match="cpu"):
        energy.track(cpu_watts=0)
    tracker = energy.track()
    with pytest.raises(RuntimeError):
        tracker.stop()  # never started


def test_nested_and_parallel_trackers():
    with energy.track(region="FR") as outer:
        busy(0.1)
        with energy.track(region="DE") as inner:
            busy(0.2)
        busy(0.1)
    assert outer.report["seconds"] >= inner.report["seconds"] + 0.15
    assert outer.report["carbon_intensity"] != inner.report["carbon_intensity"]
    check_arithmetic(outer.report)
    check_arithmetic(inner.report)

    reports = {}
    barrier = threading.Barrier(3)

    def worker(name, seconds):
        barrier.wait()
        with energy.track() as t:
            time.sleep(seconds)
        reports[name] = t.report

    threads = [threading.Thread(target=worker, args=(f"t{i}", 0.3 + 0.1 * i)) for i in range(3)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    assert sorted(reports) == ["t0", "t1", "t2"]
    assert wall < 0.3 + 0.4 + 0.5, "trackers in threads run at the same time"
    for i in range(3):
        r = reports[f"t{i}"]
        assert 0.3 + 0.1 * i <= r["seconds"] <= 0.3 + 0.1 * i + 0.3
        check_arithmetic(r)


def test_report_when_the_body_raises_and_reuse():
    t = energy.track()
    with pytest.raises(ZeroDivisionError):
        with t:
            busy(0.05)
            1 / 0
    assert t.report is not None and t.report["seconds"] >= 0.05
    first = t.report
    with t:
        busy(0.02)
    assert t.report is not first and t.report["seconds"] < first["seconds"] + 1


def test_text_report():
    with energy.track(region="FR") as t:
        busy(0.05)
    text = str(t.report)
    assert "kWh" in text and "gCO2e" in text
    for c in t.report["components"]:
        assert c["name"] in text
    assert energy.format_report(t.report) == text
    assert "kWh" in repr(t.report)


def test_measured_rapl_counter(tmp_path, monkeypatch):
    """A fake powercap tree (the kernel's layout): the package energy is read from its counter."""
    root = tmp_path / "powercap"
    zone = root / "intel-rapl" / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "max_energy_range_uj").write_text("262143328850\n")

    def set_energy(uj):
        (zone / "energy_uj.tmp").write_text(f"{uj}\n")
        os.replace(zone / "energy_uj.tmp", zone / "energy_uj")

    set_energy(1_000_000)
    os.symlink(zone, root / "intel-rapl:0")
    monkeypatch.setenv("SUBSET_POWERCAP_ROOT", str(root))
    with energy.track(pue=1.5, carbon_intensity=100) as t:
        set_energy(1_000_000 + 7_250_000)  # 7.25 J
    r = t.report
    package = [c for c in r["components"] if c["name"] == "package-0"]
    assert package and package[0]["source"] == "measured"
    assert package[0]["joules"] == pytest.approx(7.25)
    assert "intel-rapl:0" in package[0]["method"]
    assert not any(c["name"] == "cpu" and c["source"] == "estimated" for c in r["components"])
    check_arithmetic(r)
