#!/usr/bin/env python3
"""A sweep of 20 small runs: one after the other in one process, against ``neurosim sweep``
on a 2-worker LocalCluster.

Both sides run end to end in fresh subprocesses, as a user would: the serial
side is one Python process that runs the sweep's 20 runs in a loop (the same
function a worker runs, so start-up and numba's cache load are paid once);
the sweep side is ``neurosim sweep --workers 2``, cluster start-up and
shutdown included.  The runs are the built-in CUBA network (4,000 neurons,
one thread) for ``--duration`` of simulated time, over 5 excitatory weights
x 4 seeds.  The two sides alternate ``--repeats`` times, each into a new
folder (so nothing is reused), and each records the share of the CPUs that
other processes used meanwhile (``--wait-idle`` waits for them to pause
first).  Prints the ratio sweep / serial (the target
is <= 0.6) and writes ``benchmarks/results/sweep.json``.

Examples:
    python benchmarks/bench_sweep.py
    python benchmarks/bench_sweep.py --duration 10s --repeats 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _results import write_result  # noqa: E402
from bench_cuba import OtherLoad, machine_info, wait_for_idle  # noqa: E402

GRID = "projections.ee.weight=1.4mV,1.5mV,1.62mV,1.7mV,1.8mV"
SEEDS = 4
WORKERS = 2


def sweep_args(duration: str) -> list[str]:
    return ["cuba", "--set", f"duration={duration}", "--grid", GRID, "--seeds", str(SEEDS)]


def serial_child(duration: str, folder: str) -> None:
    """The serial side (in its own process): the sweep's runs, one after the other."""
    from neurosim.sweep.plan import make_plan, parse_grid_option
    from neurosim.sweep.worker import run_one

    plan = make_plan("cuba", [f"duration={duration}"], dict([parse_grid_option(GRID)]), SEEDS,
                     folder)
    failed = [run.label for run in plan.runs
              if run_one(run.config_text, str(run.path)).status != "done"]
    if failed:
        sys.exit(f"runs failed: {failed}")


def timed(cmd: list[str], wait_idle_s: float) -> dict:
    busy_before = wait_for_idle(wait_idle_s)
    with OtherLoad() as load:
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return {"wall_s": wall, "other_load": load.fraction, "busy_before": busy_before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s", help="simulated time of each run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                        help="wait up to S seconds for the other processes to pause before "
                             "each side (the cores are often shared)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "sweep.json"))
    parser.add_argument("--serial-child", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serial_child:
        serial_child(args.duration, args.serial_child)
        return

    # Warm numba's compile cache, so that neither side pays a compilation.
    with tempfile.TemporaryDirectory() as warm:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--duration", "10ms",
                        "--serial-child", warm], check=True)
    rows = []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as work:
            serial = timed([sys.executable, os.path.abspath(__file__), "--duration",
                            args.duration, "--serial-child", os.path.join(work, "serial")],
                           args.wait_idle)
            sweep = timed([sys.executable, "-m", "neurosim.cli", "sweep",
                           *sweep_args(args.duration), "--workers", str(WORKERS), "--quiet",
                           "--output", os.path.join(work, "sweep")], args.wait_idle)
        row = {"repeat": repeat, "serial": serial, "sweep": sweep,
               "ratio": sweep["wall_s"] / serial["wall_s"]}
        rows.append(row)
        print(f"repeat {repeat}: serial {serial['wall_s']:.2f} s (other load "
              f"{serial['other_load']}), sweep on {WORKERS} workers {sweep['wall_s']:.2f} s "
              f"(other load {sweep['other_load']}): ratio {row['ratio']:.3f}")
    ratio = statistics.median(row["ratio"] for row in rows)
    print(f"median ratio sweep / serial over {len(rows)} repeats: {ratio:.3f} (target <= 0.6)")
    runs = len(GRID.partition("=")[2].split(",")) * SEEDS
    write_result({"runs": runs, "duration": args.duration, "workers": WORKERS,
                  "median_ratio": ratio, "rows": rows, "machine": machine_info("")}, args.out)


if __name__ == "__main__":
    main()
