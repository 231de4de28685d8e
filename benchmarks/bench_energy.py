#!/usr/bin/env python3
"""CUBA-4k energy on every hardware profile.

Runs the built-in ``cuba`` config (Brette et al. 2007 benchmark 2: 4,000 LIF
neurons, 1 s simulated, dt 0.1 ms) once on the cpu backend, prices its
counters with every profile in ``hardware/`` and writes
``benchmarks/results/energy_cuba.json``: the counters, and per profile the
energy per simulated second, average power, latency, breakdown and the list
of what the profile does not model. No timing claims: the numbers are
estimates from counts x cited per-operation costs.

Examples:
    python benchmarks/bench_energy.py
    python benchmarks/bench_energy.py --set duration=200ms --out /tmp/e.json
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from _results import write_result  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.energy import (  # noqa: E402
    compare_table,
    estimate_result,
    plot_comparison,
    resolve_profiles,
)
from neurosim.driver.simulation import Simulation  # noqa: E402
from neurosim.network import build_network  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a cuba config value")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "energy_cuba.json"))
    parser.add_argument("--plot", help="also write the stacked-bar PNG here")
    args = parser.parse_args()

    cfg = load_config("cuba", overrides=args.overrides)
    result = Simulation(build_network(cfg), cfg).run()
    reports = [estimate_result(result, p) for p in resolve_profiles(["all"])]
    print(compare_table(reports))
    for report in reports:
        print()
        print(report.format())
    rates = {name: result.mean_rate(name) for name in result.populations}
    payload = {
        "benchmark": "energy_cuba",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": {"name": cfg.name, "overrides": args.overrides, "duration_s": result.duration,
                   "dt_s": result.dt, "seed": result.seed,
                   "neurons": int(result.metadata["n_neurons"]),
                   "synapses": int(result.metadata["n_synapses"])},
        "rates_hz": rates,
        "counters": result.counters,
        "profiles": {r.profile: {**r.to_dict(), "title": r.title, "not_modelled": r.not_modelled}
                     for r in reports},
    }
    write_result(payload, args.out)
    print(f"\nwrote {args.out}")
    if args.plot:
        print(f"plot: {plot_comparison(reports, args.plot, title='CUBA-4k, 1 s simulated')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
