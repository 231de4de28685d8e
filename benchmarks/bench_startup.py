#!/usr/bin/env python3
"""End-to-end time of ``neurosim run cuba``, start-up included.

Runs the command line in fresh subprocesses, as a user would: the built-in
``cuba`` config (4,000 LIF neurons, 1 s simulated), the HDF5 result written
and the summary printed, with and without the raster/rate PNG
(``--no-plot``).  One run of each variant first warms numba's compile cache;
then the variants alternate, so background load hits both alike.  Reports
min and median wall time and CPU time (user + sys of the child) and writes
``benchmarks/results/startup.json``.  Wall time on a shared machine is noisy:
each run records the share of the CPUs other processes used meanwhile.

``--checkout PATH`` (repeatable) times other source trees in the same
invocation, e.g. the tree before a change, for a before/after under the same
load.

Examples:
    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --repeats 9 --checkout /path/to/other/tree
"""
from __future__ import annotations

import argparse
import datetime
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from _results import write_result  # noqa: E402
from bench_cuba import OtherLoad, machine_info  # noqa: E402

VARIANTS = {"plot": [], "no_plot": ["--no-plot"]}


def _children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def run_once(checkout: str, extra: list[str], workdir: str, bytecode: bool) -> dict:
    """One ``python -m neurosim.cli run cuba`` with ``checkout`` first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [checkout, *filter(None, [os.environ.get("PYTHONPATH")])]))
    if bytecode:  # as an installed package runs: pip writes the .pyc files
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    output = os.path.join(workdir, "cuba.h5")
    # A result is never overwritten silently; removing it works for older trees too.
    for stale in (output, output[:-3] + ".png"):
        if os.path.exists(stale):
            os.remove(stale)
    cmd = [sys.executable, "-m", "neurosim.cli", "run", "cuba", "--output", output, *extra]
    user0, sys0 = _children_cpu()
    with OtherLoad() as load:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    user1, sys1 = _children_cpu()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return {"wall_s": wall, "user_s": user1 - user0, "sys_s": sys1 - sys0,
            "cpu_s": (user1 - user0) + (sys1 - sys0), "other_load_during": load.fraction}


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    cpus = [r["cpu_s"] for r in runs]
    return {"runs": len(runs), "wall_min_s": min(walls), "wall_median_s": statistics.median(walls),
            "cpu_min_s": min(cpus), "cpu_median_s": statistics.median(cpus)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per variant")
    parser.add_argument("--checkout", action="append", default=[], metavar="PATH",
                        help="another source tree to time as well (repeatable)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE if set (every module compiled "
                             "from source at each start, ~0.05 s more)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "startup.json"))
    args = parser.parse_args(argv)

    bytecode = not args.no_bytecode_cache
    trees = [REPO, *(os.path.abspath(p) for p in args.checkout)]
    runs: dict[str, dict[str, list[dict]]] = {t: {v: [] for v in VARIANTS} for t in trees}
    with tempfile.TemporaryDirectory() as workdir:
        for tree in trees:
            for extra in VARIANTS.values():  # warm numba's cache (and the OS's file cache)
                run_once(tree, extra, workdir, bytecode)
        for _ in range(args.repeats):
            for tree in trees:
                for variant, extra in VARIANTS.items():
                    runs[tree][variant].append(run_once(tree, extra, workdir, bytecode))

    summary = {t: {v: summarise(r) for v, r in by_variant.items()} for t, by_variant in runs.items()}
    print(f"neurosim run cuba, {args.repeats} runs per variant (warm numba cache); "
          "wall time is noisy on a shared machine")
    print(f"{'tree':<40} {'variant':<8} {'wall min':>9} {'median':>8} {'cpu min':>8} {'median':>8}")
    for tree, by_variant in summary.items():
        for variant, s in by_variant.items():
            print(f"{tree:<40} {variant:<8} {s['wall_min_s']:8.2f}s {s['wall_median_s']:7.2f}s "
                  f"{s['cpu_min_s']:7.2f}s {s['cpu_median_s']:7.2f}s")
    loads = [r["other_load_during"] for t in runs.values() for v in t.values() for r in v
             if r["other_load_during"] is not None]
    if loads:
        print(f"other processes used {min(loads):.0%}-{max(loads):.0%} of the CPUs during the runs")

    machine = machine_info("")
    machine.pop("peer_root")  # bench_cuba's peers are not used here
    payload = {
        "benchmark": "startup",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m neurosim.cli run cuba --output <tmp>/cuba.h5 [--no-plot]",
        "repeats": args.repeats, "bytecode_cache": bytecode, "machine": machine,
        "summary": summary, "runs": runs,
    }
    write_result(payload, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
