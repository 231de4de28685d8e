#!/usr/bin/env python3
"""A/B of the engine between two source trees: scaled CUBA, alternating fresh processes.

Runs ``benchmarks/peers/neurosim_cuba.py`` of this checkout and of
``--against`` (another checkout, e.g. ``git worktree add ../before HEAD``)
in turn, each repeat a fresh process per tree, and prints each tree's best
and median ``sim_s`` and the ratio of the medians (this tree / the other)::

    python benchmarks/ab_cuba.py --against ../before --sizes 4000,40000,400000 --repeats 7

Both trees run with the same python; each process puts its own tree first
on ``sys.path``.  Timing belongs here, never in the tests.  On a shared
machine, compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def run(tree: str, n: int, threads: int, duration: float) -> dict:
    script = os.path.join(tree, "benchmarks", "peers", "neurosim_cuba.py")
    out = subprocess.run([sys.executable, script, "--n", str(n), "--threads", str(threads),
                          "--duration", str(duration)],
                         capture_output=True, text=True, check=True, cwd=tree).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, help="the other source tree")
    ap.add_argument("--sizes", default="4000,40000,400000")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    args = ap.parse_args()
    trees = {"this": REPO, "other": os.path.abspath(args.against)}
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        for threads in (int(x) for x in args.threads.split(",")):
            times = {k: [] for k in trees}
            spikes = {}
            for _ in range(args.repeats):
                for key, tree in trees.items():
                    res = run(tree, n, threads, args.duration)
                    times[key].append(res["sim_s"])
                    spikes[key] = res.get("spikes")
            med = {k: statistics.median(v) for k, v in times.items()}
            ratio = med["this"] / med["other"]
            rows.append({"n": n, "threads": threads, "this": times["this"],
                         "other": times["other"], "ratio": ratio, "spikes": spikes})
            print(f"N={n:>7,} threads={threads}: this best {min(times['this']):.4f} median "
                  f"{med['this']:.4f} s | other best {min(times['other']):.4f} median "
                  f"{med['other']:.4f} s | ratio {ratio:.3f} | spikes {spikes['this']} vs "
                  f"{spikes['other']}", flush=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
