#!/usr/bin/env python3
"""LSM / LSM+STDP / NALSM on Fashion-MNIST: accuracy, branching factor and speed.

Runs built-in ``lsm_classification`` configs (the ``configs/`` folder of this
checkout) through the whole protocol - initialisation, every sample, readouts -
optionally on a subset of the data, and writes one JSON per config to
``benchmarks/results/`` with the paper's number beside ours. Speed is
reported as samples/s and synaptic events/s of the per-sample phase and of the
initialisation; the machine's load average is recorded because other
processes sharing the cores slow the run down.

Examples:
    python benchmarks/bench_nalsm.py                                  # full NALSM-1000
    python benchmarks/bench_nalsm.py --init 5000 --train 10000 --validation 2000 --test 2000
    python benchmarks/bench_nalsm.py --configs lsm_fashion,lsm_stdp_fashion,nalsm_fashion \\
        --init 5000 --train 10000 --validation 2000 --test 2000
    python benchmarks/bench_nalsm.py --set liquid.w_init=1.5 --configs lsm_fashion --tag _w1.5
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.driver.metadata import machine, versions  # noqa: E402
from neurosim.reservoir.pipeline import run_lsm  # noqa: E402

#: The paper's mean test accuracies on Fashion-MNIST (ANCHORS.md), where published.
PAPER = {"nalsm_fashion": 83.05, "nalsm1000_fashion": 83.05, "nalsm8000_fashion": 85.61}


def bench(name: str, args) -> dict:
    overrides = list(args.set)
    for key, value in (("data.train", args.train), ("data.validation", args.validation),
                       ("data.test", args.test), ("protocol.init_samples", args.init),
                       ("threads", args.threads)):
        if value is not None:
            overrides.append(f"{key}={value}")
    cfg = load_config(os.path.join(REPO, "configs", f"{name}.yaml"), overrides=overrides)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = run_lsm(cfg, dump_config(cfg), progress=not args.quiet)
    wall = time.perf_counter() - t0
    t, c = result.timings, result.counters
    subset = any(v is not None for v in (args.train, args.validation, args.test, args.init))
    return {
        "config": name, "overrides": overrides, "subset": subset,
        "liquid_neurons": cfg.liquid.size, "synapses": result.n_synapses,
        "rule": cfg.plasticity.rule,
        "train": cfg.data.train, "validation": cfg.data.validation, "test": cfg.data.test,
        "init_samples": c["init_samples"],
        "test_accuracy_softmax": 100 * result.softmax.test_accuracy,
        "validation_accuracy_softmax": 100 * result.softmax.validation_accuracy,
        "train_accuracy_softmax": 100 * result.softmax.train_accuracy,
        "best_epoch": result.softmax.best_epoch + 1,
        "softmax_learning_rate": result.softmax.hyper,
        "test_accuracy_ridge": 100 * result.ridge.test_accuracy,
        "ridge_alpha": result.ridge.hyper,
        "paper_test_accuracy": PAPER.get(name),
        "branching_factor": result.branching_factor,
        "branching_samples": int(result.branching.size),
        "wall_s": wall, **t,
        "samples_per_s": c["samples"] / max(t["samples_s"], 1e-12),
        "synaptic_events_per_s": c["synaptic_events"] / max(t["samples_s"], 1e-12),
        "init_samples_per_s": c["init_samples"] / max(t["init_s"], 1e-12),
        "init_synaptic_events_per_s": c["init_synaptic_events"] / max(t["init_s"], 1e-12),
        "synaptic_events": c["synaptic_events"], "threads": c["threads"],
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "machine": machine(), "versions": versions(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="nalsm_fashion", help="comma-separated config names")
    p.add_argument("--train", type=int)
    p.add_argument("--validation", type=int)
    p.add_argument("--test", type=int)
    p.add_argument("--init", type=int, help="initialisation samples")
    p.add_argument("--threads", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra config override (repeatable)")
    p.add_argument("--tag", default="", help="suffix of the JSON file name")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    for name in args.configs.split(","):
        row = bench(name, args)
        suffix = "_subset" if row["subset"] else ""
        path = write_result(row, os.path.join(args.out, f"{name}{suffix}{args.tag}.json"))
        paper = f" (paper {row['paper_test_accuracy']} %)" if row["paper_test_accuracy"] else ""
        print(f"{name}: test {row['test_accuracy_softmax']:.2f} % softmax{paper}, "
              f"{row['test_accuracy_ridge']:.2f} % ridge, branching factor "
              f"{row['branching_factor']:.3f}, {row['samples_per_s']:.1f} samples/s, "
              f"{row['synaptic_events_per_s']:.3g} events/s, wall {row['wall_s']:.0f} s "
              f"(load {row['loadavg_before'][0]:.1f}) -> {path}", flush=True)


if __name__ == "__main__":
    main()
