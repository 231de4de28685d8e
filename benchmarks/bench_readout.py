#!/usr/bin/env python3
"""Time and retrain the LSM softmax readout: a saved run's, or one of its size.

Two modes:

``RESULT.h5`` -- retrain the readouts of a saved LSM run (``neurosim run
nalsm8000_fashion`` stores every sample's liquid spike counts and its
config): the softmax layer at every learning rate of ``readout.learning_rate``
(``--set readout.learning_rate=[...]``, or any other ``readout.*`` key), all
trained together, and the ridge readout, with the run's own seed. Reports each
rate's validation and test accuracy, the one chosen on validation (the test
split is never used to choose) and the readouts' wall times. Writes
``results/readout_<name>.json``.

``--synthetic`` -- time the softmax readout of a config's size (``--config``,
default ``nalsm_fashion``: ``data.train`` + ``data.validation`` +
``data.test`` samples of ``liquid.size`` features, its epochs, minibatch and
learning rates) on generated Poisson spike counts, at each ``--threads``
count, alternating with ``--reference``: a readout module file, such as the
per-rate one before the rates were stacked
(``git show b98cddc:neurosim/reservoir/readout.py > /tmp/readout_old.py``),
whose ``softmax_per_rate`` runs at torch's default thread count (or
``--reference-threads``). ``--busy``
repeats every timing beside one more busy process (``python -c "while True:
pass"``), started and killed here. Prints times and ratios, and the largest
accuracy difference between the reference and the stacked readout; writes
``results/readout_synthetic_<name>[_<tag>].json``.

The products run in torch's BLAS (MKL in the pip wheels; ``torch.__config__``
is recorded), not numpy's, so ``OPENBLAS_*`` settings do not reach them. The
machine's load average is recorded with every timing: on a shared machine
other processes' load moves absolute times, and only the alternated ratios
are comparable.

Examples:
    python benchmarks/bench_readout.py results/nalsm8000_fashion.h5 \\
        --set "readout.learning_rate=[0.01, 0.003, 0.001, 0.0003]"
    python benchmarks/bench_readout.py --synthetic --reference /tmp/readout_old.py --busy
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import load_config, load_config_text  # noqa: E402
from neurosim.driver.metadata import machine, versions  # noqa: E402
from neurosim.reservoir.pipeline import (SPLITS, SplitFeatures, readout_inputs,  # noqa: E402
                                         softmax_readouts)
from neurosim.reservoir.readout import (DEFAULT_THREADS, best_on_validation,  # noqa: E402
                                        softmax_per_rate, train_ridge)

#: Mean spike count of a liquid neuron in a generated sample, and the share of it
#: that depends on the class (the rest is common to all classes).
_MEAN_COUNT, _CLASS_SHARE = 2.0, 0.15


def retrain(args: argparse.Namespace) -> None:
    import h5py

    from neurosim.reservoir.results import load_features

    with h5py.File(args.result, "r") as f:
        text = f.attrs["config"]
        saved = dict(f["accuracy"].attrs)
    cfg = load_config_text(text, "saved run", overrides=args.set)
    t0 = time.perf_counter()
    xy = readout_inputs(load_features(args.result))
    t1 = time.perf_counter()
    runs = softmax_readouts(cfg, xy)
    t2 = time.perf_counter()
    best = best_on_validation(runs)
    ridge = train_ridge(*xy, alphas=list(cfg.readout.ridge_alphas))
    t3 = time.perf_counter()
    for run in runs:
        mark = "  <- chosen on validation" if run is best else ""
        print(f"softmax lr {run.hyper:g}: validation {100 * run.validation_accuracy:.2f} %, "
              f"test {100 * run.test_accuracy:.2f} % (best epoch {run.best_epoch + 1}){mark}")
    print(f"ridge (alpha {ridge.hyper:g}): validation {100 * ridge.validation_accuracy:.2f} %, "
          f"test {100 * ridge.test_accuracy:.2f} %")
    print(f"softmax readout ({len(runs)} rates together, {DEFAULT_THREADS} thread(s)) "
          f"{t2 - t1:.1f} s, ridge {t3 - t2:.1f} s")
    row = {"result": os.path.abspath(args.result), "config": cfg.name, "overrides": args.set,
           "epochs": cfg.readout.epochs, "batch_size": cfg.readout.batch_size,
           "softmax": [{"learning_rate": r.hyper, "validation_accuracy": 100 * r.validation_accuracy,
                        "test_accuracy": 100 * r.test_accuracy, "train_accuracy": 100 * r.train_accuracy,
                        "best_epoch": r.best_epoch + 1} for r in runs],
           "chosen_learning_rate": best.hyper, "test_accuracy_softmax": 100 * best.test_accuracy,
           "ridge_alpha": ridge.hyper, "test_accuracy_ridge": 100 * ridge.test_accuracy,
           "saved_run": {k: float(v) for k, v in saved.items()},
           "softmax_s": t2 - t1, "softmax_threads": DEFAULT_THREADS, "ridge_s": t3 - t2,
           "wall_s": t3 - t0, "machine": machine(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path = write_result(row, os.path.join(args.out, f"readout_{cfg.name}.json"))
    print(f"-> {path}")


def synthetic_inputs(cfg, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`readout_inputs` of Poisson spike counts the size of ``cfg``'s run:
    each class raises the rates of its own random set of neurons."""
    rng = np.random.default_rng(seed)
    n = cfg.liquid.size
    common = rng.gamma(2.0, 0.5, n)
    profiles = rng.gamma(0.5, 2.0, (10, n))
    rates = _MEAN_COUNT * ((1 - _CLASS_SHARE) * common + _CLASS_SHARE * profiles)
    sizes = {"train": cfg.data.train, "validation": cfg.data.validation, "test": cfg.data.test}
    features = {}
    for split in SPLITS:
        labels = rng.integers(0, 10, sizes[split]).astype(np.uint8)
        counts = rng.poisson(rates[labels]).astype(np.uint16)
        features[split] = SplitFeatures(counts, labels, np.arange(sizes[split]))
    return readout_inputs(features)


def load_module(path: str):
    """The readout module in file ``path``, imported under its own name."""
    name = "reference_readout"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def busy_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def compare(args: argparse.Namespace) -> None:
    import torch

    cfg = load_config(args.config, overrides=args.set)
    ro = cfg.readout
    xy = synthetic_inputs(cfg, cfg.seed)
    kwargs = {"learning_rates": list(ro.learning_rate), "epochs": ro.epochs,
              "batch_size": ro.batch_size, "seed": cfg.seed}
    default_threads = torch.get_num_threads()
    variants = {f"stacked_t{t}": (lambda t=t: softmax_per_rate(*xy, **kwargs, threads=t))
                for t in args.threads}
    if args.reference:
        reference = load_module(args.reference)

        def run_reference():
            torch.set_num_threads(args.reference_threads or default_threads)
            try:
                return reference.softmax_per_rate(*xy, **kwargs)
            finally:
                torch.set_num_threads(default_threads)
        variants["reference"] = run_reference
    conditions = ["quiet"] + (["busy"] if args.busy else [])
    times = {c: {v: [] for v in variants} for c in conditions}
    loads = {c: [] for c in conditions}
    accuracy = {}
    print(f"{cfg.name}: {len(xy[0][1])}/{len(xy[1][1])}/{len(xy[2][1])} samples, "
          f"{xy[0][0].shape[1]} features, {ro.epochs} epochs, minibatch {ro.batch_size}, "
          f"rates {list(ro.learning_rate)}; torch default threads {default_threads}")
    # Conditions and variants alternate (the order reversed every other round), so
    # that a change in the machine's other load falls on all of them alike.
    for rep in range(args.repeats):
        for condition in conditions if rep % 2 == 0 else conditions[::-1]:
            extra = busy_process() if condition == "busy" else None
            try:
                for name in list(variants) if rep % 2 == 0 else list(variants)[::-1]:
                    load = os.getloadavg()[0]
                    t = time.perf_counter()
                    runs = variants[name]()
                    times[condition][name].append(time.perf_counter() - t)
                    loads[condition].append(load)
                    accuracy[name] = [(r.validation_accuracy, r.test_accuracy, r.best_epoch)
                                      for r in runs]
                    print(f"  {condition:5s} {name:12s} {times[condition][name][-1]:7.1f} s "
                          f"(load {load:.1f})", flush=True)
            finally:
                if extra is not None:
                    extra.kill()
                    extra.wait()
    best = {c: {v: min(ts) for v, ts in times[c].items()} for c in conditions}
    ratios = {}
    for c in conditions:
        for v in variants:
            if v != "reference" and "reference" in variants:
                ratios[f"{c}: reference / {v}"] = best[c]["reference"] / best[c][v]
    if "busy" in conditions:
        for v in variants:
            ratios[f"{v}: busy / quiet"] = best["busy"][v] / best["quiet"][v]
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}x")
    differences = {}
    if "reference" in accuracy:
        for v in variants:
            if v != "reference":
                differences[v] = float(np.max(np.abs(np.asarray(accuracy[v])[:, :2]
                                                     - np.asarray(accuracy["reference"])[:, :2])))
                same_epochs = ([a[2] for a in accuracy[v]]
                               == [a[2] for a in accuracy["reference"]])
                print(f"{v} against reference: largest accuracy difference "
                      f"{differences[v]:.2g}, same best epochs: {same_epochs}")
    row = {"config": cfg.name, "overrides": args.set, "synthetic": True,
           "samples": [len(y) for _, y in xy], "features": int(xy[0][0].shape[1]),
           "epochs": ro.epochs, "batch_size": ro.batch_size,
           "learning_rates": list(ro.learning_rate), "reference": args.reference,
           "reference_threads": args.reference_threads or default_threads,
           "torch_default_threads": default_threads, "times_s": times, "best_s": best,
           "ratios": ratios, "loadavg_at_start": loads,
           "accuracy": {v: [{"validation": a[0], "test": a[1], "best_epoch": a[2] + 1}
                            for a in accs] for v, accs in accuracy.items()},
           "largest_accuracy_difference": differences,
           "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
           "machine": machine(), "versions": versions(), "torch": torch.__version__,
           "torch_blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0],
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tag = f"_{args.tag}" if args.tag else ""
    path = write_result(row, os.path.join(args.out, f"readout_synthetic_{cfg.name}{tag}.json"))
    print(f"-> {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("result", nargs="?", help="HDF5 result of an LSM run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, e.g. readout.learning_rate=[0.01,0.001]")
    p.add_argument("--synthetic", action="store_true",
                   help="time the readout on generated counts of --config's size")
    p.add_argument("--config", default="nalsm_fashion", help="config of --synthetic")
    p.add_argument("--threads", type=int, nargs="+", default=[DEFAULT_THREADS],
                   help="thread counts of the stacked readout (--synthetic)")
    p.add_argument("--reference", help="readout module file to time against (--synthetic)")
    p.add_argument("--reference-threads", type=int, default=0,
                   help="torch threads of --reference (default: torch's default)")
    p.add_argument("--busy", action="store_true", help="also time beside a busy process")
    p.add_argument("--repeats", type=int, default=2, help="timings per variant and condition")
    p.add_argument("--tag", default="", help="suffix of the --synthetic result file's name")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    if args.synthetic == (args.result is not None):
        p.error("give either a result file or --synthetic")
    compare(args) if args.synthetic else retrain(args)


if __name__ == "__main__":
    main()
