"""Energy and carbon of any Python code, measured by the meter of `subset energy`.

    with libsubset.energy.track(region="FR") as t:
        train()
    print(t.report["kwh"], t.report["gco2e"])   # or print(t.report) for the text report

RAPL (/sys/class/powercap) and NVIDIA GPUs (NVML) are measured where the machine allows; CPU and
memory are estimated otherwise (from CPU time and peak memory), and every component says which
(docs/energy.md). The CPU time is the whole process's: trackers that overlap in time (nested, or
in several threads) each count all the process did over their own scope.
"""
from . import _native


class EnergyReport(dict):
    """The report as a dict (the JSON of `subset energy --json`): seconds, cpu_seconds, joules,
    static_joules, dynamic_joules, kwh (joules x pue / 3.6e6), gco2e (kwh x carbon_intensity), pue,
    pue_source, carbon_intensity, carbon_source, components (each: name, joules, static_joules,
    source "measured" or "estimated", method) and notes. str() gives the text `subset energy` prints."""

    def __str__(self):
        return _native.format_energy_report(dict(self))

    def __repr__(self):
        return f"<EnergyReport: {self['seconds']:.3g} s, {self['kwh']:.3g} kWh, {self['gco2e']:.3g} gCO2e>"


class Tracker:
    """Measures the energy of a scope: a context manager (``with track() as t``), or start()/stop().

    report: the EnergyReport of the last finished scope (None before). Entering again measures a
    new scope.
    """

    def __init__(self, region=None, carbon_intensity=None, pue=None, cpu_watts=None):
        self._meter = _native.EnergyMeter(dict(region=region, carbon_intensity=carbon_intensity, pue=pue,
                                               cpu_watts=cpu_watts))
        self.report = None

    @property
    def running(self):
        return self._meter.running

    def start(self):
        self._meter.start()
        return self

    def stop(self):
        """Ends the scope; returns (and keeps as .report) its EnergyReport."""
        self.report = EnergyReport(self._meter.stop())
        return self.report

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()  # also when the body raised: what it spent is still reported
        return False


def track(region=None, carbon_intensity=None, pue=None, cpu_watts=None):
    """A Tracker with the accounting of the CLI's energy options: region (a code of the shipped
    carbon-intensity table, e.g. "FR"; default: the world average) or carbon_intensity (gCO2e per
    kWh), pue (>= 1; default documented in docs/energy.md), cpu_watts (watts per busy logical CPU
    for the estimate). A bad value raises ValueError at once, before the scope starts."""
    return Tracker(region=region, carbon_intensity=carbon_intensity, pue=pue, cpu_watts=cpu_watts)


def format_report(report):
    """The text `subset energy` prints for a report dict (e.g. Selection.energy)."""
    return _native.format_energy_report(dict(report))
