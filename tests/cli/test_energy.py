"""`subset energy -- CMD`: the report (text and --json), the command's exit status passed through,
measured figures from a fake powercap tree, the estimate's arithmetic, and every bad input."""
import json
import os

import pytest

from subset_testing import assert_error, assert_ok, file_digest

KEYS = {"seconds", "kwh", "gco2e", "pue", "carbon_intensity", "components"}


def energy_json(run, *args, env=None):
    rc, out, err = run("energy", "--json", *args, env=env)
    assert rc == 0, err
    return json.loads(out)


def test_json_report_has_the_documented_keys(run):
    report = energy_json(run, "--", "true")
    assert KEYS <= set(report)
    assert report["components"], "no component: nothing may silently report 0"
    for c in report["components"]:
        assert {"name", "joules", "source", "method"} <= set(c)
        assert c["source"] in ("measured", "estimated")
        assert c["method"]
    assert report["kwh"] == pytest.approx(sum(c["joules"] for c in report["components"]) * report["pue"] / 3.6e6)
    assert report["gco2e"] == pytest.approx(report["kwh"] * report["carbon_intensity"])


def test_text_report_follows_the_commands_own_output(run):
    rc, out, err = run("energy", "--", "echo", "hello from the child")
    assert rc == 0, err
    assert out.startswith("hello from the child\n")
    assert "kWh" in out and "gCO2e" in out


@pytest.mark.parametrize("script,status", [("exit 7", 7), ("exit 0", 0), ("kill -TERM $$", 128 + 15)])
def test_exit_status_is_the_commands(run, script, status):
    rc, out, err = run("energy", "--json", "--", "sh", "-c", script)
    assert rc == status, err
    assert KEYS <= set(json.loads(out))  # the report is still printed


def test_static_share_grows_with_wall_time_while_waiting(run):
    idle = energy_json(run, "--", "sleep", "0.6")
    assert idle["seconds"] >= 0.6
    assert idle["static_joules"] > 0, "a run that holds the machine costs something even while it waits"
    short = energy_json(run, "--", "true")
    assert idle["static_joules"] > short["static_joules"]


def test_cpu_watts_sets_the_estimate(run):
    busy = ["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]
    low = energy_json(run, "--cpu-watts", "2", "--", *busy)
    high = energy_json(run, "--cpu-watts", "20", "--", *busy)
    cpu_low = [c for c in low["components"] if c["name"] == "cpu"]
    cpu_high = [c for c in high["components"] if c["name"] == "cpu"]
    if not cpu_low:
        pytest.skip("this machine measures the CPU with RAPL; --cpu-watts only applies to the estimate")
    dyn_low = cpu_low[0]["joules"] - cpu_low[0]["static_joules"]
    dyn_high = cpu_high[0]["joules"] - cpu_high[0]["static_joules"]
    # Dynamic share = 0.9 x W x CPU-seconds (docs/energy.md), so it scales with W per CPU-second.
    assert dyn_low == pytest.approx(0.9 * 2 * low["cpu_seconds"], rel=1e-6)
    assert dyn_high == pytest.approx(0.9 * 20 * high["cpu_seconds"], rel=1e-6)
    assert "20" in cpu_high[0]["method"]


def test_region_and_intensity_and_pue(run):
    world = energy_json(run, "--", "true")
    fr = energy_json(run, "--region", "fr", "--", "true")
    assert fr["carbon_intensity"] != world["carbon_intensity"]
    set_by_hand = energy_json(run, "--carbon-intensity", "100", "--pue", "1.2", "--", "true")
    assert set_by_hand["carbon_intensity"] == 100
    assert set_by_hand["pue"] == 1.2
    # Global options work before the subcommand too.
    rc, out, err = run("--region", "FR", "energy", "--json", "--", "true")
    assert rc == 0, err
    assert json.loads(out)["carbon_intensity"] == fr["carbon_intensity"]


def write_zone(path, name, energy_uj, max_uj):
    os.makedirs(path, exist_ok=True)
    for file, value in (("name", name), ("energy_uj", energy_uj), ("max_energy_range_uj", max_uj)):
        with open(os.path.join(path, file), "w") as f:
            f.write(f"{value}\n")


def test_fake_powercap_is_measured(run, tmp_path):
    root = tmp_path / "powercap"
    write_zone(root / "intel-rapl:0", "package-0", 1_000_000, 262_143_328_850)
    write_zone(root / "intel-rapl:0" / "intel-rapl:0:0", "dram", 500_000, 65_712_999_613)
    env = dict(os.environ, SUBSET_POWERCAP_ROOT=str(root))
    bump = (f"echo 5000000 > {root}/intel-rapl:0/energy_uj; "
            f"echo 2500000 > {root}/intel-rapl:0/intel-rapl:0:0/energy_uj")
    report = energy_json(run, "--", "sh", "-c", bump, env=env)
    by_name = {c["name"]: c for c in report["components"]}
    measured = [c for c in report["components"] if c["source"] == "measured"]
    assert sum(c["joules"] for c in measured) == pytest.approx(4.0 + 2.0)
    assert all(c["source"] == "measured" for c in by_name.values() if "dram" in c["name"] or "package" in c["name"])
    assert not any(c["name"] == "memory" for c in report["components"]), "dram is measured: no memory estimate"


def test_report_to_a_file(run, tmp_path):
    target = tmp_path / "report.json"
    rc, out, err = run("energy", "--json", "-o", target, "--", "echo", "child")
    assert rc == 0, err
    assert out == "child\n"
    assert KEYS <= set(json.load(open(target)))
    before = file_digest(target)
    marker = tmp_path / "ran"
    assert_error(run("energy", "-o", target, "--", "touch", marker), "exists")
    assert not marker.exists(), "the command must not run when the report cannot be written"
    assert file_digest(target) == before
    assert_ok(run("energy", "--force", "-o", target, "--", "true"))


@pytest.mark.parametrize("args,needles,code", [
    (["--"], ["no command"], None),
    ([], ["no command"], None),
    (["--", "no-such-command-xyz"], ["command not found", "no-such-command-xyz"], 127),
    (["--region", "XX", "--", "true"], ["unknown region", "XX"], None),
    (["--pue", "0.5", "--", "true"], ["pue"], None),
    (["--pue", "-1", "--", "true"], ["pue"], None),
    (["--pue", "nan", "--", "true"], ["pue"], None),
    (["--carbon-intensity", "-5", "--", "true"], ["intensity"], None),
    (["--region", "FR", "--carbon-intensity", "50", "--", "true"], ["region"], None),
    (["--cpu-watts", "0", "--", "true"], ["--cpu-watts"], None),
    (["--cpu-watts", "abc", "--", "true"], ["cpu-watts"], None),
])
def test_bad_input(run, args, needles, code):
    assert_error(run("energy", *args), *needles, code=code)


def test_not_executable(run, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    os.chmod(script, 0o644)
    assert_error(run("energy", "--", script), code=126)


def test_commands_record_their_own_energy(run, fixtures, tmp_path):
    import h5py
    store = tmp_path / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--labels", fixtures["npy"]["labels"], "-o", store))
    sel = tmp_path / "s.sel.h5"
    assert_ok(run("select", store, "--method", "random", "--budget", "5", "-o", sel))
    small = tmp_path / "small.h5"
    assert_ok(run("extract", store, "--selection", sel, "-o", small))
    for path in (store, sel, small):
        with h5py.File(path, "r") as f:
            report = json.loads(f.attrs["energy"])
        assert KEYS <= set(report), path
        assert report["kwh"] > 0, path
    info = json.loads(assert_ok(run("info", store, "--json")))
    assert info["energy"]["kwh"] > 0
    assert "made in" in assert_ok(run("info", store))
    assert "kWh" in assert_ok(run("select", store, "--method", "random", "--budget", "5", "-o", tmp_path / "t.sel.h5"))
    rc, out, err = run("select", store, "--method", "random", "--budget", "5", "-o", tmp_path / "j.sel.h5", "--json")
    assert rc == 0, err
    assert json.loads(out)["energy"]["components"]
