#!/usr/bin/env python3
"""Accuracy of two source trees' LSMs over seeds: is a change within one seed's spread?

For each config and seed, runs ``benchmarks/bench_nalsm.py`` of this checkout
and of ``--against`` on the same subset (each tree builds its own liquid and
runs its own pipeline), then prints, per config, each tree's mean and
standard deviation over seeds of the softmax and ridge test accuracies and
of the branching factor, and the mean paired difference::

    python benchmarks/ab_lsm_seeds.py --against ../before --configs nalsm_fashion,lsm_fashion \\
        --seeds 0,1,2 --train 5000 --validation 1000 --test 2000 --init 2000

``--summarise DIR`` only reads the JSON files such runs left in ``DIR``.
Each run uses one thread, one after another.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIGURES = ("test_accuracy_softmax", "test_accuracy_ridge", "branching_factor")


def run(tree: str, tag: str, config: str, seed: int, args) -> None:
    cmd = [sys.executable, os.path.join(tree, "benchmarks", "bench_nalsm.py"), "--configs", config,
           "--train", str(args.train), "--validation", str(args.validation), "--test",
           str(args.test), "--init", str(args.init), "--threads", "1", "--set", f"seed={seed}",
           "--out", args.out, "--tag", f"_{tag}_s{seed}", "--quiet"]
    subprocess.run(cmd, check=True, cwd=tree, env={**os.environ, "PYTHONPATH": tree})


def summarise(folder: str) -> dict:
    """``config -> tree -> figure -> [value per seed]`` of the files in ``folder``."""
    table: dict = {}
    for path in sorted(glob.glob(os.path.join(folder, "*_subset_*_s*.json"))):
        name = os.path.basename(path)[: -len(".json")]
        config, rest = name.split("_subset_")
        tree, seed = rest.rsplit("_s", 1)
        row = json.load(open(path))
        per_tree = table.setdefault(config, {}).setdefault(tree, {})
        per_tree.setdefault("seed", []).append(int(seed))
        for key in FIGURES:
            per_tree.setdefault(key, []).append(row[key])
    return table


def report(table: dict) -> None:
    for config, trees in table.items():
        print(config)
        for tree, figures in trees.items():
            cells = []
            for key in FIGURES:
                values = figures[key]
                sd = statistics.stdev(values) if len(values) > 1 else float("nan")
                cells.append(f"{key} {statistics.mean(values):.3f} +- {sd:.3f}")
            print(f"  {tree:>6} (seeds {figures['seed']}): " + " | ".join(cells))
        if {"this", "other"} <= trees.keys():
            a, b = trees["this"], trees["other"]
            common = sorted(set(a["seed"]) & set(b["seed"]))
            for key in FIGURES[:2]:
                diff = [a[key][a["seed"].index(s)] - b[key][b["seed"].index(s)] for s in common]
                print(f"  this - other, {key}: mean {statistics.mean(diff):+.3f} over seeds {common}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="the other source tree")
    ap.add_argument("--configs", default="nalsm_fashion")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--validation", type=int, default=1000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--init", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "lsm_seeds"))
    ap.add_argument("--summarise", metavar="DIR", help="only summarise the runs in DIR")
    args = ap.parse_args()
    if args.summarise:
        report(summarise(args.summarise))
        return 0
    if not args.against:
        ap.error("--against is required (or --summarise DIR)")
    args.out = os.path.abspath(args.out)
    trees = {"this": REPO, "other": os.path.abspath(args.against)}
    for config in args.configs.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            for tag, tree in trees.items():
                run(tree, tag, config, seed, args)
    report(summarise(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
