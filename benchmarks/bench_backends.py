#!/usr/bin/env python3
"""cpu (numba) against torch backend on a built-in network (default CUBA, 4,000 neurons, 1 s).

For each precision, the same config runs on both backends in this process;
the table reports each backend's simulation time (best of --repeats), the
ratio torch / cpu, and how far the two agree: the fraction of neurons whose
spike trains are identical, the fraction with identical spike counts, and the
first step at which the two rasters differ (none: identical throughout).

The cpu backend's numba kernels are compiled (or loaded from the cache) by a
short warm-up run first; torch's first step is warmed up the same way.

Examples:
    python benchmarks/bench_backends.py
    python benchmarks/bench_backends.py --repeats 1 --duration 0.2
    python benchmarks/bench_backends.py --torch-path dense    # force the dense path
    python benchmarks/bench_backends.py --device cuda --precisions float32 \
        --config cuba_scaled --set scale=100 --out benchmarks/results/backends_cuda_400k.json
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from _results import write_result  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.driver.metadata import machine, versions  # noqa: E402
from neurosim.driver.simulation import Simulation  # noqa: E402
from neurosim.network import build_network  # noqa: E402


def raster(result) -> tuple[np.ndarray, np.ndarray]:
    """All spikes as (step, global neuron) sorted by step then neuron."""
    steps, neurons, offset = [], [], 0
    for name, info in result.populations.items():
        rec = result.spikes[name]
        steps.append(np.rint(rec.times / result.dt).astype(np.int64) - 1)
        neurons.append(rec.indices.astype(np.int64) + offset)
        offset += info["size"]
    steps, neurons = np.concatenate(steps), np.concatenate(neurons)
    order = np.lexsort((neurons, steps))
    return steps[order], neurons[order]


def agreement(a, b, n: int) -> dict:
    """Identical spike trains / counts per neuron and the first differing step."""
    sa, na = raster(a)
    sb, nb = raster(b)
    counts_a, counts_b = np.bincount(na, minlength=n), np.bincount(nb, minlength=n)
    # Per neuron, its spike steps in order: equal trains <=> equal sequences.
    ta = np.split(sa[np.argsort(na, kind="stable")], np.cumsum(counts_a)[:-1])
    tb = np.split(sb[np.argsort(nb, kind="stable")], np.cumsum(counts_b)[:-1])
    same = np.array([np.array_equal(x, y) for x, y in zip(ta, tb)])
    m = min(sa.size, sb.size)
    differ = np.nonzero((sa[:m] != sb[:m]) | (na[:m] != nb[:m]))[0]
    if differ.size:
        first = int(min(sa[differ[0]], sb[differ[0]]))
    elif sa.size != sb.size:
        first = int(sa[m] if sa.size > m else sb[m])
    else:
        first = None
    return {"identical_trains": float(same.mean()),
            "identical_counts": float(np.mean(counts_a == counts_b)),
            "first_differing_step": first,
            "spikes_cpu": int(sa.size), "spikes_torch": int(sb.size)}


#: Config keys each run sets itself (per backend, per precision, warm-up).
_SET_BY_SCRIPT = ("backend", "device", "precision", "threads", "duration")


def run(cfg, repeats: int) -> tuple[float, object, object]:
    """Best simulation time over ``repeats`` fresh runs of ``cfg``, the last result and backend."""
    times, result = [], None
    for _ in range(repeats):
        sim = Simulation(build_network(cfg), cfg)
        result = sim.run()
        times.append(result.metadata["sim_s"])
    return min(times), result, sim.backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--repeats", type=int, default=3, help="runs per backend (best kept)")
    parser.add_argument("--precisions", default="float32,float64")
    parser.add_argument("--torch-path", choices=("auto", "dense", "sparse"), default="auto",
                        help="force the torch backend's synapse path")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="the torch backend's device")
    parser.add_argument("--config", default="cuba", help="built-in config or path")
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="config override (repeatable)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "backends.json"))
    args = parser.parse_args()
    fixed = [s for s in args.set if s.split("=", 1)[0].strip() in _SET_BY_SCRIPT]
    if fixed:
        parser.error(f"--set {fixed[0]}: this script sets {', '.join(_SET_BY_SCRIPT)} itself")

    import torch

    from neurosim.backends import torch_backend
    if args.torch_path != "auto":
        torch_backend.DENSE_MIN_DENSITY[args.device] = (0.0 if args.torch_path == "dense"
                                                        else np.inf)

    rows = []
    for precision in args.precisions.split(","):
        sets = {"cpu": [*args.set, f"precision={precision}", "threads=1", "backend=cpu"]}
        sets["torch"] = sets["cpu"][:-1] + ["backend=torch", f"device={args.device}"]
        for backend in ("cpu", "torch"):
            warm = load_config(args.config, sets[backend] + ["duration=10 ms"])
            Simulation(build_network(warm), warm).run()
        load_before = os.getloadavg()[0]
        timed = {name: load_config(args.config, over + [f"duration={args.duration} s"])
                 for name, over in sets.items()}
        cpu_s, cpu_res, _ = run(timed["cpu"], args.repeats)
        torch_s, torch_res, backend = run(timed["torch"], args.repeats)
        row = {"config": args.config, "overrides": args.set, "device": args.device,
               "precision": precision, "duration_s": args.duration,
               "n_neurons": cpu_res.metadata["n_neurons"],
               "n_synapses": cpu_res.metadata["n_synapses"], "torch_path": backend.path,
               "cpu_sim_s": cpu_s, "torch_sim_s": torch_s, "torch_over_cpu": torch_s / cpu_s,
               "load_avg_1min_before": load_before, "load_avg_1min_after": os.getloadavg()[0]}
        row.update(agreement(cpu_res, torch_res, row["n_neurons"]))
        rows.append(row)
        print(f"{precision}: cpu {cpu_s:.3f} s, torch ({backend.path}) {torch_s:.3f} s "
              f"= {torch_s / cpu_s:.1f}x cpu; identical trains {row['identical_trains']:.1%}, "
              f"identical counts {row['identical_counts']:.1%}, first differing step "
              f"{row['first_differing_step']} "
              f"({row['spikes_cpu']} vs {row['spikes_torch']} spikes)")

    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "versions": {**versions(), "torch": torch.__version__},
              "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
              "torch_threads": 1, "repeats": args.repeats, "results": rows}
    write_result(report, args.out, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
