#!/usr/bin/env python3
"""LSM / NALSM per-sample phase: the torch backend (batched) against the numba cpu backend.

For each built-in ``lsm_classification`` config:

1. speed: the liquid of the config (for plastic rules initialised on the cpu
   backend with ``--init`` images, the same ``W_ini`` for both), then the
   features (liquid spike counts, 250 ms each) of the first ``--samples`` test
   images on each backend: samples/s, synaptic events/s, and the fraction of
   per-neuron counts identical between the two (same input spikes: both use
   the counter-based draws);
2. accuracy: the whole protocol (:func:`neurosim.reservoir.pipeline.run_lsm`)
   on a small subset, once per backend: softmax and ridge test accuracies.

The machine's load average is recorded: other processes sharing the cores
slow both runs down, and torch's intra-op threads suffer most from it.

Examples:
    python benchmarks/bench_lsm_backends.py
    python benchmarks/bench_lsm_backends.py --configs lsm_fashion --samples 1000 --batch 128
    python benchmarks/bench_lsm_backends.py --device cuda --batch 512
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.data import load_fashion_mnist, normalise_images  # noqa: E402
from neurosim.driver.metadata import machine, versions  # noqa: E402
from neurosim.reservoir import LiquidSimulator, build_liquid  # noqa: E402
from neurosim.reservoir.pipeline import (  # noqa: E402
    dynamics, liquid_spec, run_lsm, split_peaks, synaptic_events)
from neurosim.reservoir.torch_simulate import TorchLiquidSimulator  # noqa: E402


def speed(cfg, args, data) -> dict:
    """Feature extraction of the same samples on both backends, from the same weights."""
    liquid = build_liquid(liquid_spec(cfg), cfg.seed)
    dyn = dynamics(cfg)
    cpu = LiquidSimulator(liquid, dyn, seed=1, threads=args.threads)
    train, test = data["train"], data["test"]
    peak = split_peaks(cfg.encoder.peak_from, train.images, test.images)
    if dyn.rule != "none" and args.init:
        probs = normalise_images(train.images[: args.init], peak["train"])
        cpu.initialise(probs, (1 << 40) + np.arange(args.init),
                       cfg.steps(cfg.protocol.init_duration))
    gpu = TorchLiquidSimulator(liquid, dyn, seed=1, threads=args.torch_threads, device=args.device,
                               batch=args.batch)
    gpu.weights = cpu.weights.copy()
    steps = cfg.steps(cfg.protocol.sample_duration)
    probs = normalise_images(test.images[: args.samples], peak["test"])
    ids = np.arange(args.samples)
    cpu.run(probs[:2], ids[:2], 5)  # compile outside the timing
    gpu.run(probs[:2], ids[:2], 5)
    row = {"samples": args.samples, "init_samples": args.init if dyn.rule != "none" else 0,
           "torch_batch": args.batch, "torch_device": args.device,
           "torch_synapses": "dense" if gpu.dense else "events",
           "cpu_threads": args.threads, "torch_threads": args.torch_threads}
    counts = {}
    for name, sim in (("cpu", cpu), ("torch", gpu)):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        counts[name], _, tally = sim.run(probs, ids, steps)
        wall = time.perf_counter() - t0
        events = synaptic_events(tally)
        row.update({f"{name}_samples_per_s": args.samples / wall,
                    f"{name}_events_per_s": events / wall, f"{name}_wall_s": wall,
                    f"{name}_loadavg_before": load, f"{name}_synaptic_events": events})
    row["fraction_counts_identical"] = float(np.mean(counts["cpu"] == counts["torch"]))
    row["fraction_samples_identical"] = float(np.mean(
        (counts["cpu"] == counts["torch"]).all(axis=1)))
    row["speedup_torch_over_cpu"] = row["torch_samples_per_s"] / row["cpu_samples_per_s"]
    return row


def accuracy(cfg_path, args) -> dict:
    row = {}
    features = {}
    for backend in ("cpu", "torch"):
        over = [f"data.train={args.train}", f"data.validation={args.validation}",
                f"data.test={args.test}", f"protocol.init_samples={args.init}",
                f"backend={backend}", f"device={args.device}", f"torch_batch={args.batch}",
                f"threads={args.threads if backend == 'cpu' else args.torch_threads}",
                f"branching.samples={min(100, args.test)}"]
        if args.data:
            over.append(f"data.path={args.data}")
        cfg = load_config(cfg_path, overrides=over)
        result = run_lsm(cfg, dump_config(cfg), progress=False)
        features[backend] = result.features["test"].counts
        row.update({f"{backend}_test_accuracy_softmax": 100 * result.softmax.test_accuracy,
                    f"{backend}_test_accuracy_ridge": 100 * result.ridge.test_accuracy,
                    f"{backend}_samples_s": result.timings["samples_s"]})
    row.update({"train": args.train, "validation": args.validation, "test": args.test,
                "init_samples": args.init,
                "softmax_difference_points": row["torch_test_accuracy_softmax"]
                - row["cpu_test_accuracy_softmax"],
                "test_fraction_counts_identical": float(np.mean(features["cpu"]
                                                                == features["torch"]))})
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="lsm_fashion,nalsm_fashion")
    p.add_argument("--samples", type=int, default=1000, help="speed: test samples")
    p.add_argument("--nalsm-samples", type=int, default=200,
                   help="speed: test samples for plastic rules (the torch path is slower there)")
    p.add_argument("--init", type=int, default=500, help="initialisation images (plastic rules)")
    p.add_argument("--train", type=int, default=1000)
    p.add_argument("--validation", type=int, default=200)
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--nalsm-split", default="300,100,200",
                   help="accuracy: train,validation,test for plastic rules")
    p.add_argument("--no-accuracy", action="store_true")
    p.add_argument("--batch", type=int, default=64, help="torch samples per batch")
    p.add_argument("--threads", type=int, default=2, help="cpu backend threads")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data", default=None,
                   help="folder of the Fashion-MNIST idx files (default: the system's)")
    p.add_argument("--tag", default="")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    data = load_fashion_mnist(args.data)
    rows = []
    for name in args.configs.split(","):
        cfg_path = os.path.join(REPO, "configs", f"{name}.yaml")
        cfg = load_config(cfg_path)
        run_args = argparse.Namespace(**vars(args))
        if cfg.plasticity.rule != "none":
            run_args.samples = args.nalsm_samples
            run_args.train, run_args.validation, run_args.test = (
                int(x) for x in args.nalsm_split.split(","))
        row = {"config": name, "rule": cfg.plasticity.rule, **speed(cfg, run_args, data)}
        print(f"{name}: cpu {row['cpu_samples_per_s']:.1f} samples/s, torch "
              f"{row['torch_samples_per_s']:.1f} samples/s ({row['torch_synapses']}, batch "
              f"{args.batch}), counts identical {row['fraction_counts_identical']:.4%}", flush=True)
        if not args.no_accuracy:
            row["accuracy"] = accuracy(cfg_path, run_args)
            a = row["accuracy"]
            print(f"{name}: test accuracy cpu {a['cpu_test_accuracy_softmax']:.2f} %, torch "
                  f"{a['torch_test_accuracy_softmax']:.2f} % (softmax, {a['train']}/"
                  f"{a['validation']}/{a['test']})", flush=True)
        rows.append(row)
    out = {"rows": rows, "machine": machine(), "versions": versions(),
           "gpu": torch.cuda.get_device_name(args.device) if args.device != "cpu" else None,
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path = write_result(out, os.path.join(args.out, f"lsm_backends{args.tag}.json"))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
