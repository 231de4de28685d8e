"""A network of a billion synapses on this machine: build, memory, a short run.

Scaled CUBA (fixed in-degree 80) at 12.5 million neurons = 1e9 synapses.
Reports build time, the bytes each synapse costs (arrays and peak RSS), and
the simulation speed over a short stretch (default 50 ms).

    python benchmarks/bench_billion.py [--neurons 12500000] [--duration 0.05]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import neurosim
from _results import write_result
from neurosim.driver.metadata import machine
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=12_500_000)
    parser.add_argument("--duration", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/billion.json")
    args = parser.parse_args(argv)

    cfg = neurosim.load_config("cuba_scaled", overrides=[
        f"scale={args.neurons / 4000}", f"duration={args.duration}s", "record.spikes=none"])
    rss0 = peak_rss_bytes()
    t0 = time.perf_counter()
    net = build_network(cfg)
    build_s = time.perf_counter() - t0
    rss_build = peak_rss_bytes()
    sim = Simulation(net, cfg, threads=args.threads)
    result = sim.run()
    spikes = sum(c["spikes"] for c in result.counters["populations"].values())
    row = {
        "neurons": net.n_neurons,
        "synapses": net.n_synapses,
        "build_s": build_s,
        "array_bytes_per_synapse": net.nbytes() / net.n_synapses,
        "peak_rss_bytes": peak_rss_bytes(),
        "rss_bytes_per_synapse": (rss_build - rss0) / net.n_synapses,
        "duration_s": result.duration,
        "sim_s": result.metadata["sim_s"],
        "sim_s_per_simulated_s": result.metadata["sim_s"] / result.duration,
        "rate_hz": spikes / (net.n_neurons * result.duration),
        "events_per_s": result.metadata["delivered_events"] / result.metadata["sim_s"],
        "threads": args.threads,
        "machine": machine(),
    }
    print(json.dumps(row, indent=1))
    write_result(row, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
