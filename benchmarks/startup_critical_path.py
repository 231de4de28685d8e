#!/usr/bin/env python3
"""CPU-time critical path of one ``neurosim run cuba`` with its PNG (less noisy than wall time).

``neurosim run`` draws the PNG in a forked worker that imports matplotlib
while the parent runs (``neurosim/plotting_worker.py``).  On an idle machine
with two cores its wall time is therefore about: the parent's CPU time until
it hands the result over, or the fork plus the worker's import if that ends
later, plus the worker's drawing.  CPU time is much less disturbed by other
processes than wall time, so on a shared machine this estimates the idle wall
time better than timing the command.  Run it with a warm numba cache (after
one ``neurosim run cuba``); it writes into a temporary folder.

Example:
    python benchmarks/startup_critical_path.py --repeats 5
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# One instrumented run: the worker's and the parent's CPU clocks at the
# hand-over points, printed as one JSON line.
ONE_RUN = """
import json, os, sys, time
import neurosim.plotting_worker as pw

def serve(conn, parents_end):
    parents_end.close()
    c0 = time.process_time()
    from neurosim.plotting import plot_result
    c1 = time.process_time()
    result, title, path = conn.recv()
    c2 = time.process_time()
    out = plot_result(result, path, title=title)
    conn.send((True, out))
    os.write(int(sys.argv[2]), json.dumps({"import_s": c1 - c0, "draw_s": time.process_time() - c2}).encode())

marks = {}
init, plot = pw.PlotWorker.__init__, pw.PlotWorker.plot
def timed_init(self):
    marks["fork_s"] = time.process_time()
    init(self)
def timed_plot(self, result, path, title="spikes"):
    marks["send_s"] = time.process_time()
    return plot(self, result, path, title)
pw._serve, pw.PlotWorker.__init__, pw.PlotWorker.plot = serve, timed_init, timed_plot

from neurosim.cli import main
assert main(["run", "cuba", "--quiet", "--force", "--output", sys.argv[1]]) == 0
print(json.dumps(marks))
"""


def run_once(workdir: str) -> dict:
    read, write = os.pipe()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs
    proc = subprocess.run([sys.executable, "-c", ONE_RUN, os.path.join(workdir, "cuba.h5"),
                           str(write)], env=env, capture_output=True, text=True, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as fh:
        worker = json.loads(fh.read())
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    parent = json.loads(proc.stdout)
    path = max(parent["send_s"], parent["fork_s"] + worker["import_s"]) + worker["draw_s"]
    return {**parent, **worker, "critical_path_s": path}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        runs = [run_once(workdir) for _ in range(args.repeats)]
    for r in runs:
        print(f"parent: fork at {r['fork_s']:.2f} s, result sent at {r['send_s']:.2f} s; "
              f"worker: import {r['import_s']:.2f} s, draw {r['draw_s']:.2f} s; "
              f"critical path {r['critical_path_s']:.2f} s")
    paths = sorted(r["critical_path_s"] for r in runs)
    print(f"critical path (CPU s): min {paths[0]:.2f}, median {paths[len(paths) // 2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
