#!/usr/bin/env python3
"""An Optuna TPE study whose trials train on a coreset through `subset evaluate`, then the best
configuration retrained on the full data: its coreset and full-data accuracy, and the energy.

    optuna_coreset.py STORE SEL --trials N [--subset-bin PATH] [--space space.json] [--seed S]
                      [--full-all] [--json] [-- FIXED EVALUATE OPTIONS...]

The space file is `subset hpo`'s (docs/hpo.md: log, float, int, choice); without one, a small MLP
space. Options after `--` are passed to every `subset evaluate` (e.g. `--schedule epochs
--epochs 3`). What is printed, and what it does not claim:
- the best trial's coreset accuracy and the same configuration's full-data accuracy (measured);
- the coreset study's energy (the selection once, its embedding included, plus every trial's
  training) against a full-data study of the same trials, *estimated* as N times the measured
  full-data training of the best configuration (configurations differ in cost);
- the regret (the full-data accuracy lost by trusting the coreset's ranking) is only known when
  every trial is also trained on the full data: `--full-all` does that, measures the full study's
  energy instead of estimating it, and reports the regret among the study's own configurations.
  Without it the regret is printed as not measured.
Needs Debian's python3-optuna; uses nothing but the standard library besides.
"""
import argparse
import json
import os
import subprocess
import sys

DEFAULT_SPACE = {
    "lr": {"log": [1e-4, 1e-2]},
    "weight-decay": {"log": [1e-6, 1e-3]},
    "hidden": {"choice": [64, 128, 256]},
    "depth": {"int": [1, 2]},
}


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def suggest(trial, space):
    """The trial's configuration, drawn by Optuna from a space in `subset hpo`'s format; the tool
    validates the values themselves (one `error:` line naming the option)."""
    config = {}
    for key, entry in space.items():
        if not isinstance(entry, dict) or len(entry) != 1:
            fail(f"space entry '{key}': expected an object with exactly one of log, float, int, choice")
        (kind, values), = entry.items()
        if kind in ("log", "float", "int") and (not isinstance(values, list) or len(values) != 2):
            fail(f"space entry '{key}': \"{kind}\" needs [low, high]")
        if kind == "log":
            config[key] = trial.suggest_float(key, values[0], values[1], log=True)
        elif kind == "float":
            config[key] = trial.suggest_float(key, values[0], values[1])
        elif kind == "int":
            config[key] = trial.suggest_int(key, values[0], values[1])
        elif kind == "choice" and isinstance(values, list) and values:
            config[key] = trial.suggest_categorical(key, values)
        else:
            fail(f"space entry '{key}': unknown kind '{kind}' (valid: log, float, int, choice)")
    return config


def options(config):
    # Whole-number parameters drawn from a log range are rounded, as `subset hpo` does.
    out = []
    for key, value in config.items():
        if isinstance(value, float) and key in ("hidden", "depth", "epochs", "batch", "steps", "patience"):
            value = max(1, round(value))
        out += [f"--{key}", repr(value) if isinstance(value, float) else str(value)]
    return out


def evaluate(args, config, full):
    """One `subset evaluate --json` run (one training per set, seed --seed); its parsed output."""
    cmd = [args.subset_bin, "evaluate", args.store, "--selection", args.selection, "--repeats", "1",
           "--seed", str(args.seed), "--json", *args.fixed, *options(config)]
    if not full:
        cmd.append("--no-full")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        fail(f"subset evaluate failed ({lines[-1] if lines else f'exit {proc.returncode}'}): {' '.join(cmd)}")
    return json.loads(proc.stdout)


def run_study(args, space):
    import optuna  # late: --help and argument errors work without it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    records = []

    def objective(trial):
        config = suggest(trial, space)
        sel = evaluate(args, config, full=False)["selections"][0]
        records.append({"number": trial.number, "config": config, "coreset_accuracy": sel["accuracy_mean"],
                        "coreset_kwh": sel["train_kwh"], "selection_kwh": sel["select_kwh"], "n": sel["n"]})
        return sel["accuracy_mean"]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials)
    return study.best_trial.number, records


def full_data(args, config):
    full = evaluate(args, config, full=True)["full"]
    return {"accuracy": full["accuracy_mean"], "kwh": full["train_kwh"], "cached": bool(full["cached"])}


def summarise(args, best_number, records):
    best = next(r for r in records if r["number"] == best_number)
    coreset_kwh = records[0]["selection_kwh"] + sum(r["coreset_kwh"] for r in records)
    result = {"trials": records, "best_trial": best_number, "best_config": best["config"],
              "coreset_n": best["n"], "best_coreset_accuracy": best["coreset_accuracy"],
              "selection_kwh": records[0]["selection_kwh"], "coreset_study_kwh": coreset_kwh}
    if args.full_all:
        for r in records:
            r["full"] = full_data(args, r["config"])
        fulls = [r["full"]["accuracy"] for r in records]
        result["best_full_accuracy"] = best["full"]["accuracy"]
        result["regret"] = max(fulls) - best["full"]["accuracy"]
        result["full_study_kwh"] = sum(r["full"]["kwh"] for r in records)
        result["full_study_kwh_source"] = "measured: every trial trained on the full data"
    else:
        best["full"] = full_data(args, best["config"])
        result["best_full_accuracy"] = best["full"]["accuracy"]
        result["regret"] = None
        result["full_study_kwh"] = len(records) * best["full"]["kwh"]
        result["full_study_kwh_source"] = (f"estimated: {len(records)} trials x the best configuration's measured "
                                           "full-data training")
    result["full_retrain_kwh"] = best["full"]["kwh"]
    result["energy_ratio"] = coreset_kwh / result["full_study_kwh"] if result["full_study_kwh"] > 0 else None
    return result


def print_table(result):
    pct = lambda a: f"{100 * a:.2f}%"  # noqa: E731
    print(f"{len(result['trials'])} TPE trials on a coreset of {result['coreset_n']} rows")
    print(f"{'trial':>5}  {'coreset acc':>11}  {'full acc':>9}  configuration")
    for r in result["trials"]:
        full = pct(r["full"]["accuracy"]) if "full" in r else "-"
        mark = " (best)" if r["number"] == result["best_trial"] else ""
        cfg = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["config"].items())
        print(f"{r['number']:>5}  {pct(r['coreset_accuracy']):>11}  {full:>9}  {cfg}{mark}")
    print(f"best trial {result['best_trial']}: coreset accuracy {pct(result['best_coreset_accuracy'])}, "
          f"full-data accuracy {pct(result['best_full_accuracy'])}")
    if result["regret"] is None:
        print("regret: not measured (needs every trial on the full data: --full-all)")
    else:
        print(f"regret: {100 * result['regret']:.2f} points (best full-data accuracy among these trials "
              "minus the coreset's favourite's)")
    ratio = "n/a" if result["energy_ratio"] is None else f"{result['energy_ratio']:.3f}"
    print(f"energy: coreset study {result['coreset_study_kwh']:.3e} kWh (selection {result['selection_kwh']:.3e} "
          f"included), full-data study {result['full_study_kwh']:.3e} kWh ({result['full_study_kwh_source']}); "
          f"ratio {ratio}")
    print(f"retraining the best on the full data cost {result['full_retrain_kwh']:.3e} kWh")


def parse_args(argv):
    fixed = []
    if "--" in argv:
        i = argv.index("--")
        argv, fixed = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store", help="HDF5 feature store with /labels and /test")
    p.add_argument("selection", help="selection file of STORE (the coreset)")
    p.add_argument("--trials", type=int, default=10, help="Optuna trials (default 10)")
    p.add_argument("--subset-bin", default="subset", help="the subset binary (default: subset on PATH)")
    p.add_argument("--space", help="search space JSON in subset hpo's format (default: a small MLP space)")
    p.add_argument("--seed", type=int, default=0, help="seed of the TPE sampler and of every training")
    p.add_argument("--full-all", action="store_true",
                   help="train every trial on the full data too: measured regret and full-study energy")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)
    args.fixed = fixed
    if args.trials < 1:
        fail("--trials must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    space = DEFAULT_SPACE
    if args.space:
        try:
            with open(args.space) as f:
                space = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{args.space}: {e}")
        if not isinstance(space, dict) or not space:
            fail(f"{args.space}: a space is a non-empty JSON object")
    for path in (args.store, args.selection):
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
    try:
        import optuna  # noqa: F401
    except ImportError:
        fail("optuna is not installed (Debian: apt-get install python3-optuna)")
    best_number, records = run_study(args, space)
    result = summarise(args, best_number, records)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main(sys.argv[1:])
