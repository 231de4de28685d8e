"""Deployment: a trained network's test samples on cpu, torch and crossbar against the
training's forward pass (issue 15's target: within 0.5 % on cpu and torch, and the
fraction of samples with identical output spike counts).

Takes a training result (``neurosim train snn_fashion -o results/snn_fashion.h5``),
deploys it with :func:`neurosim.deploy.task.deploy` on each backend over the
same test samples, and prints per backend the deployed accuracy by spike count
and by summed membrane, the training forward pass's on the same samples, their
differences, the identical-count fraction, the backend's time per sample and the
energy per inference on a few hardware profiles.  JSON to ``benchmarks/results/``.

    python benchmarks/bench_deploy.py results/snn_fashion.h5                 # full test set
    python benchmarks/bench_deploy.py results/snn_fashion.h5 --samples 2000 --backends cpu torch
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from _results import write_result

from neurosim.config import load_config_text
from neurosim.energy import estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="a training result file")
    parser.add_argument("--samples", type=int, help="first N test samples (default: all)")
    parser.add_argument("--backends", nargs="+", default=["cpu", "torch", "crossbar"])
    parser.add_argument("--crossbar-samples", type=int,
                        help="fewer samples for the crossbar (its tile emulation is slower)")
    parser.add_argument("--profiles", nargs="+", default=["cpu_core", "loihi", "rram_crossbar"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                      "bench_deploy.json"))
    args = parser.parse_args()
    from neurosim.deploy.task import deploy

    rows = {}
    for backend in args.backends:
        samples = args.crossbar_samples if backend == "crossbar" and args.crossbar_samples \
            else args.samples
        text = f"task: deploy\nsource: {args.result}\nbackend: {backend}\nthreads: {args.threads}\n"
        if samples:
            text += f"samples: {samples}\n"
        t0 = time.perf_counter()
        result = deploy(load_config_text(text, name=f"bench_deploy_{backend}"))
        wall = time.perf_counter() - t0
        a = dict(result.agreement)
        energy = {}
        for profile in args.profiles:
            report = estimate(result.counters, profile, samples=result.samples)
            energy[profile] = {"j_per_inference": report.energy_per_sample,
                               "breakdown_j": {k: v / result.samples
                                               for k, v in report.breakdown.items()}}
        rows[backend] = {**a, "count_difference": a["accuracy_count"] - a["reference_accuracy_count"],
                         "membrane_difference": a["accuracy_membrane"]
                         - a["reference_accuracy_membrane"],
                         "backend_s_per_sample": result.timings["sim_s"] / result.samples,
                         "wall_s": wall, "energy": energy, "meta": result.meta}
        print(f"{backend:9s} n={result.samples:5d}  deployed {100 * a['accuracy_count']:6.2f}% "
              f"(count) {100 * a['accuracy_membrane']:6.2f}% (membrane) | training forward "
              f"{100 * a['reference_accuracy_count']:6.2f}% / "
              f"{100 * a['reference_accuracy_membrane']:6.2f}% | identical counts "
              f"{100 * a['identical_counts']:6.2f}% | {1e3 * rows[backend]['backend_s_per_sample']:.2f}"
              f" ms/sample | " + ", ".join(f"{p} {1e6 * e['j_per_inference']:.3g} uJ"
                                            for p, e in energy.items()), flush=True)
    machine = {"platform": platform.platform(), "processor": platform.processor(),
               "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
               "torch": str(torch.__version__), "threads": args.threads}
    print(write_result({"result": args.result, "machine": machine, "backends": rows}, args.out))


if __name__ == "__main__":
    main()
