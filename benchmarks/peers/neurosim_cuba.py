#!/usr/bin/env python3
"""Scaled CUBA in neurosim; prints one JSON line with timings and memory.

Run by bench_cuba.py with neurosim's own python, in a fresh process for every
repeat like the peers, so that the peak RSS it reports is what this network
costs (inside a long-lived process, memory freed by an earlier run is reused
without raising the peak):

    python benchmarks/peers/neurosim_cuba.py --n 4000 --threads 1 --seed 1

The built-in ``cuba_scaled`` config (fixed in-degree, 80/20 exc/inh sources,
no autapses, one-step delay), sized with ``scale`` and its in-degrees set to
the peers' split.  The numba kernels are compiled (or loaded from the cache)
by a short warm-up run first, as Brian2 standalone's compilation is excluded
from its time.

Measured:
  build_s   the network build (connectivity and initial state).
  sim_s     the simulation loop of ``Simulation.run`` (its ``sim_s``).
  peak_rss_bytes   peak RSS of the process during building and running,
            minus the RSS before building (VmHWM reset first);
            array_bytes_per_synapse counts the connectivity and state arrays.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # this checkout first
import _common as C  # noqa: E402


def main(argv=None) -> int:
    args = C.parse_args("neurosim", ("cpu",), argv)
    import neurosim
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    n, threads, indegree = args.n, args.threads, args.indegree
    n_exc, _, k_exc, k_inh = C.split_counts(n, indegree)
    overrides = [f"scale={n / 4000}", f"seed={args.seed}", f"duration={args.duration}s",
                 f"threads={threads}", "record.spikes=none"]
    overrides += [f"projections.{p}.connect.k={k_exc}" for p in ("ee", "ei")]
    overrides += [f"projections.{p}.connect.k={k_inh}" for p in ("ie", "ii")]
    cfg = neurosim.load_config("cuba_scaled", overrides=overrides)
    if cfg.population_size("exc") != n_exc:
        raise ValueError(f"scale gives {cfg.population_size('exc')} excitatory neurons, "
                         f"the peers use {n_exc}")
    warm = neurosim.load_config("cuba_scaled", overrides=["scale=0.05", "duration=2ms",
                                                          f"threads={threads}"])
    Simulation(build_network(warm), warm).run()

    base = C.rss_bytes()
    C.reset_peak_rss()
    net = build_network(cfg)
    result = Simulation(net, cfg).run()
    peak = C.peak_rss_bytes() - base
    spikes = sum(c["spikes"] for c in result.counters["populations"].values())
    C.emit({
        "tool": "neurosim", "version": neurosim.__version__, "mode": args.mode, "n": n,
        "threads": threads, "threads_used": result.metadata["threads_used"],
        "seed": args.seed, "duration": args.duration, "indegree": indegree,
        "build_s": net.build_seconds, "sim_s": result.metadata["sim_s"],
        "rate_hz": spikes / (net.n_neurons * result.duration), "spikes": spikes,
        "n_synapses": net.n_synapses, "events": result.metadata["delivered_events"],
        "peak_rss_bytes": peak,
        "array_bytes_per_synapse": result.metadata["bytes_per_synapse"],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
