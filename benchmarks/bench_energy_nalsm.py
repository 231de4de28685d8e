#!/usr/bin/env python3
"""NALSM-1000 energy per Fashion-MNIST sample on every hardware profile.

Runs the built-in ``nalsm1000_fashion`` config on a subset (default: 2,000
initialisation samples, 1,000 train / validation / test samples; energy per
sample needs the per-sample work, not the full protocol's accuracy), or reads
an existing LSM result file, and prices its counts with every profile in
``hardware/`` (:mod:`neurosim.reservoir.energy`). Every count is counted
during the run: spikes, synaptic events by projection and STDP weight updates
from the kernel; the crossbar's tile reads, driven rows and conversions from
replaying the recorded test samples' spikes through tiles of the liquid's
input and recurrent weight matrices (the tile size the ``rram_crossbar``
profile assumes). Writes ``benchmarks/results/energy_nalsm.json``: per
profile energy, power, latency and breakdown per sample, on the recorded test
samples (all profiles priced on the same spikes) and, for the digital
profiles, on every sample of the run as a check.

Examples:
    python benchmarks/bench_energy_nalsm.py
    python benchmarks/bench_energy_nalsm.py --save /tmp/nalsm1000.h5 --plot /tmp/e.png
    python benchmarks/bench_energy_nalsm.py --result results/nalsm1000_fashion.h5
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.energy import compare_table, plot_comparison, resolve_profiles  # noqa: E402
from neurosim.reservoir.energy import LSMActivity, lsm_reports, tile_size  # noqa: E402
from neurosim.reservoir.results import load_activity, save_lsm  # noqa: E402

#: The profiles the issue compares (every profile is reported).
HEADLINE = ("loihi", "rram_crossbar", "gpu")


def run(args) -> tuple[LSMActivity, dict]:
    overrides = [f"protocol.init_samples={args.init}", f"data.train={args.train}",
                 f"data.validation={args.validation}", f"data.test={args.test}",
                 f"branching.samples={args.record}", *args.set]
    cfg = load_config(os.path.join(REPO, "configs", "nalsm1000_fashion.yaml"),
                      overrides=overrides)
    t0 = time.perf_counter()
    from neurosim.reservoir.pipeline import run_lsm

    result = run_lsm(cfg, dump_config(cfg), progress=not args.quiet)
    if args.save:
        save_lsm(result, args.save)
    info = {"source": "run", "config": "nalsm1000_fashion", "overrides": overrides,
            "subset": True, "wall_s": time.perf_counter() - t0,
            "test_accuracy_softmax": 100 * result.softmax.test_accuracy,
            "branching_factor": result.branching_factor, "synapses": result.n_synapses}
    return LSMActivity.from_result(result), info


def per_sample(counts) -> dict:
    """The priced counts divided by the samples they cover."""
    out = {"basis": counts.basis, "samples": counts.samples, "steps": counts.steps,
           "dt_s": counts.dt, "weight_updates": counts.weight_updates / counts.samples}
    for section, rows in counts.counters.items():
        for name, row in rows.items():
            for key, value in row.items():
                if key not in ("neurons", "synapses"):
                    out[f"{section}.{name}.{key}"] = value / counts.samples
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--result", help="price this LSM result file instead of running")
    p.add_argument("--init", type=int, default=2000, help="initialisation samples")
    p.add_argument("--train", type=int, default=1000)
    p.add_argument("--validation", type=int, default=1000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--record", type=int, default=250,
                   help="test samples whose spikes are recorded (and replayed on the crossbar)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra config override (repeatable)")
    p.add_argument("--save", help="also write the run's LSM result file here")
    p.add_argument("--out", default=os.path.join(HERE, "results", "energy_nalsm.json"))
    p.add_argument("--plot", help="also write the stacked-bar PNG here")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()

    if args.result:
        activity, info = load_activity(args.result), {"source": args.result, "subset": None}
    else:
        activity, info = run(args)
    profiles = resolve_profiles(["all"])
    reports, counts = lsm_reports(activity, profiles, "recorded")
    check, check_counts = lsm_reports(activity, [q for q in profiles if not q.requires],
                                      "samples")
    print(f"per sample over {counts[0].samples} recorded test samples")
    print(compare_table(reports))
    for report in reports:
        if report.profile in HEADLINE:
            print()
            print(report.format())
    xbar = next(q for q in profiles if q.name == "rram_crossbar")
    payload = {
        "benchmark": "energy_nalsm",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run": info,
        "note": ("energy per sample needs the per-sample work, not the full protocol: a "
                 "subset of the data set is enough (the accuracy of a subset run is not "
                 "the paper's)"),
        "crossbar_tiles": dict(zip(("rows", "cols"), tile_size(xbar), strict=True)),
        "counts_per_sample": {c.basis: per_sample(c) for c in (counts[0], check_counts[0])}
        | {"recorded_crossbar": per_sample(next(c for c in counts if c.counters["hardware"]))},
        "profiles": {r.profile: {**r.to_dict(), "title": r.title, "not_modelled": r.not_modelled}
                     for r in reports},
        "all_samples_check": {r.profile: r.to_dict() for r in check},
        "headline_J_per_sample": {r.profile: r.energy_per_sample for r in reports
                                  if r.profile in HEADLINE},
    }
    write_result(payload, args.out)
    print(f"\nwrote {args.out}")
    if args.plot:
        print(f"plot: {plot_comparison(reports, args.plot, title='NALSM-1000, per sample')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
