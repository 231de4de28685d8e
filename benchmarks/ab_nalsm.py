#!/usr/bin/env python3
"""A/B of the liquid kernels between two source trees: NALSM-1000's per-sample phase.

Both trees simulate the *same* liquid (built once by this checkout, handed
to each as arrays) on the same test images: ``--samples`` samples of
250 ms from ``W_ini``, the features the readout gets.  Each repeat runs one
fresh process per tree, alternating, and each process takes the best of
``--inner`` passes (from ``W_ini`` after ``--init`` initialisation samples,
also timed); the script prints both trees' best and median
samples/s and the ratio of the medians (this tree's time / the other's)::

    python benchmarks/ab_nalsm.py --against ../before --threads 1 --repeats 5

``--backend torch`` times the torch batched liquid instead of the numba
one.  The spike counts of both trees are compared too (``same features``).
Timing belongs here, never in the tests.  On a shared machine, compare the
ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def overrides(args) -> list[str]:
    return [f"data.path={args.data}"] if args.data else []


def save_liquid(args, path: str) -> None:
    """This checkout's liquid of the config (its seed) as arrays."""
    from neurosim.config import load_config
    from neurosim.reservoir import build_liquid
    from neurosim.reservoir.pipeline import liquid_spec

    cfg = load_config(args.config, overrides=overrides(args))
    liquid = build_liquid(liquid_spec(cfg), cfg.seed)
    np.savez(path, kind=liquid.kind, position=liquid.position, pre=liquid.pre(),
             post=liquid.post, weight=liquid.weight)


def child(args) -> None:
    """Time the per-sample phase with the neurosim of ``args.tree``."""
    sys.path.insert(0, args.tree)
    import time

    from neurosim.config import load_config
    from neurosim.data import load_fashion_mnist, normalise_images
    from neurosim.reservoir import LiquidSimulator
    from neurosim.reservoir.liquid import from_synapses
    from neurosim.reservoir.pipeline import dynamics, liquid_spec, split_peaks

    cfg = load_config(args.config, overrides=overrides(args))
    arrays = np.load(args.liquid)
    liquid = from_synapses(liquid_spec(cfg), arrays["kind"], arrays["position"], arrays["pre"],
                           arrays["post"], arrays["weight"])
    if args.backend == "torch":
        from neurosim.reservoir.torch_simulate import TorchLiquidSimulator
        sim = TorchLiquidSimulator(liquid, dynamics(cfg), 1, args.threads, batch=args.batch)
    else:
        sim = LiquidSimulator(liquid, dynamics(cfg), 1, args.threads)
    data = load_fashion_mnist(cfg.data.path)
    peak = split_peaks(cfg.encoder.peak_from, data["train"].images, data["test"].images)
    probs = normalise_images(data["test"].images[: args.samples], peak["test"])
    ids = np.arange(args.samples)
    steps = cfg.steps(cfg.protocol.sample_duration)
    sim.run(probs[:2], ids[:2], 5)  # compile outside the timing
    init_s = 0.0
    if args.init:  # W_ini, as the pipeline's per-sample phase starts from it
        init_probs = normalise_images(data["train"].images[: args.init], peak["train"])
        t0 = time.perf_counter()
        sim.initialise(init_probs, (1 << 40) + np.arange(args.init),
                       cfg.steps(cfg.protocol.init_duration))
        init_s = time.perf_counter() - t0
    best = np.inf
    for _ in range(args.inner):
        t0 = time.perf_counter()
        counts, _, _ = sim.run(probs, ids, steps)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"wall_s": best, "init_s": init_s, "counts_sum": int(np.asarray(counts).sum()),
                      "counts_hash": int(np.asarray(counts, np.int64).ravel()
                                         @ np.arange(1, np.asarray(counts).size + 1) % 2**61)}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="the other source tree")
    ap.add_argument("--config", default="nalsm_fashion")
    ap.add_argument("--data", help="Fashion-MNIST folder (default: the config's)")
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--init", type=int, default=0,
                    help="initialisation samples (plastic configs) before the timed phase")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--backend", choices=("cpu", "torch"), default="cpu")
    ap.add_argument("--batch", type=int, default=32, help="samples per torch batch")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--inner", type=int, default=3, help="passes per process (best is kept)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--liquid", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return 0
    if not args.against:
        ap.error("--against is required")
    sys.path.insert(0, REPO)
    trees = {"this": REPO, "other": os.path.abspath(args.against)}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "liquid.npz")
        save_liquid(args, path)
        runs = {k: [] for k in trees}
        for _ in range(args.repeats):
            for key, tree in trees.items():
                cmd = [sys.executable, os.path.abspath(__file__), "--child", "--tree", tree,
                       "--liquid", path, "--config", args.config, "--samples",
                       str(args.samples), "--threads", str(args.threads), "--inner",
                       str(args.inner), "--init", str(args.init), "--backend", args.backend,
                       "--batch", str(args.batch)] + (["--data", args.data] if args.data else [])
                out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                     cwd=tree, env={**os.environ, "PYTHONPATH": tree}).stdout
                runs[key].append(json.loads(out.strip().splitlines()[-1]))
    rate = {k: [args.samples / r["wall_s"] for r in v] for k, v in runs.items()}
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    same = runs["this"][0]["counts_hash"] == runs["other"][0]["counts_hash"]
    ratio = med["this"] / med["other"]
    init = {k: statistics.median(r["init_s"] for r in v) for k, v in runs.items()}
    print(f"{args.config} ({args.backend}), {args.samples} samples, threads={args.threads}: this best "
          f"{max(rate['this']):.1f} median {statistics.median(rate['this']):.1f} samples/s | "
          f"other best {max(rate['other']):.1f} median {statistics.median(rate['other']):.1f} "
          f"samples/s | time ratio {ratio:.3f} | same features: {same}")
    if args.init:
        print(f"initialisation, {args.init} samples: this median {init['this']:.3f} s | other "
              f"{init['other']:.3f} s | time ratio {init['this'] / init['other']:.3f}")
    print(json.dumps({"config": args.config, "backend": args.backend, "samples": args.samples, "threads": args.threads,
                      "this_samples_per_s": rate["this"], "other_samples_per_s": rate["other"],
                      "ratio": ratio, "same_features": same, "init_samples": args.init,
                      "init_s": {k: [r["init_s"] for r in v] for k, v in runs.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
