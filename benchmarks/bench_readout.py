#!/usr/bin/env python3
"""Retrain the readouts of a saved LSM result, trying several softmax learning rates.

An LSM run (``neurosim run nalsm8000_fashion``) stores every sample's liquid
spike counts and its config in the HDF5 result; this retrains the softmax
layer once per learning rate (``--set readout.learning_rate=[...]``, or any
other ``readout.*`` key) and the ridge readout, with the run's own seed, and
reports each rate's validation and test accuracy and the one chosen on
validation (the test split is never used to choose). Writes
``benchmarks/results/readout_<name>.json``.

Example:
    python benchmarks/bench_readout.py results/nalsm8000_fashion.h5 \\
        --set "readout.learning_rate=[0.01, 0.003, 0.001, 0.0003]"
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import load_config_text  # noqa: E402
from neurosim.driver.metadata import machine  # noqa: E402
from neurosim.reservoir.pipeline import readout_inputs, softmax_readouts  # noqa: E402
from neurosim.reservoir.readout import best_on_validation, train_ridge  # noqa: E402
from neurosim.reservoir.results import load_features  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("result", help="HDF5 result of an LSM run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, e.g. readout.learning_rate=[0.01,0.001]")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    with h5py.File(args.result, "r") as f:
        text = f.attrs["config"]
        saved = dict(f["accuracy"].attrs)
    cfg = load_config_text(text, "saved run", overrides=args.set)
    t0 = time.perf_counter()
    xy = readout_inputs(load_features(args.result))
    runs = softmax_readouts(cfg, xy)
    best = best_on_validation(runs)
    ridge = train_ridge(*xy, alphas=list(cfg.readout.ridge_alphas))
    for run in runs:
        mark = "  <- chosen on validation" if run is best else ""
        print(f"softmax lr {run.hyper:g}: validation {100 * run.validation_accuracy:.2f} %, "
              f"test {100 * run.test_accuracy:.2f} % (best epoch {run.best_epoch + 1}){mark}")
    print(f"ridge (alpha {ridge.hyper:g}): validation {100 * ridge.validation_accuracy:.2f} %, "
          f"test {100 * ridge.test_accuracy:.2f} %")
    row = {"result": os.path.abspath(args.result), "config": cfg.name, "overrides": args.set,
           "epochs": cfg.readout.epochs, "batch_size": cfg.readout.batch_size,
           "softmax": [{"learning_rate": r.hyper, "validation_accuracy": 100 * r.validation_accuracy,
                        "test_accuracy": 100 * r.test_accuracy, "train_accuracy": 100 * r.train_accuracy,
                        "best_epoch": r.best_epoch + 1} for r in runs],
           "chosen_learning_rate": best.hyper, "test_accuracy_softmax": 100 * best.test_accuracy,
           "ridge_alpha": ridge.hyper, "test_accuracy_ridge": 100 * ridge.test_accuracy,
           "saved_run": {k: float(v) for k, v in saved.items()},
           "wall_s": time.perf_counter() - t0, "machine": machine(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path = write_result(row, os.path.join(args.out, f"readout_{cfg.name}.json"))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
