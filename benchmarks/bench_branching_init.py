#!/usr/bin/env python3
"""Branching factor during the NALSM initialisation, from over- and under-excited starts.

The liquid of each config (default ``nalsm_fashion``, the astrocyte-modulated
rule, beside ``lsm_stdp_fashion``, plain STDP) is built with several initial
weight magnitudes (``liquid.w_init``): small weights give a quiet,
sub-critical liquid, large ones a busier one. Each is initialised with its
plasticity rule, and every ``--every`` initialisation images the branching
factor is measured, as in the protocol, on ``--probe`` test samples run from
the current weights. Writes ``benchmarks/results/branching_init.json`` and a
PNG of branching factor against initialisation images (colour: initial
weight; solid: astrocyte, dashed: plain STDP).

Example:
    python benchmarks/bench_branching_init.py --w-init 0.5,1,3 --samples 20000 --every 2000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.data import load_fashion_mnist, normalise_images  # noqa: E402
from neurosim.driver.metadata import machine  # noqa: E402
from neurosim.reservoir import LiquidSimulator, branching_factor, build_liquid  # noqa: E402
from neurosim.reservoir.pipeline import dynamics, liquid_spec, split_peaks  # noqa: E402


def trajectory(cfg, data, w_init, samples, every, probe, seed):
    seeds = np.random.SeedSequence(seed).spawn(3)
    liquid = build_liquid(liquid_spec(cfg), seed)
    sim = LiquidSimulator(liquid, dynamics(cfg), seed, cfg.threads)
    train, test = data["train"], data["test"]
    order = np.random.default_rng(seeds[1]).permutation(50_000)[:samples]
    peak = split_peaks(cfg.encoder.peak_from, train.images, test.images)
    p_train = normalise_images(train.images[order], peak["train"])
    p_test = normalise_images(test.images[:probe], peak["test"])
    steps, init_steps = cfg.steps(cfg.protocol.sample_duration), cfg.steps(cfg.protocol.init_duration)
    window, margin = cfg.steps(cfg.branching.window), cfg.steps(cfg.branching.margin)
    points = []
    for done in range(0, samples + 1, every):
        _, rasters, _ = sim.run(p_test, (1 << 32) + np.arange(probe), steps,
                                record=np.ones(probe, bool))
        sigma = branching_factor(rasters, *liquid.liquid_adjacency(), window=window, margin=margin)
        rate = rasters.sum() / (probe * liquid.n_liquid * steps * cfg.protocol.dt)
        points.append({"init_samples": done, "branching_factor": float(np.nanmean(sigma)),
                       "liquid_rate_hz": float(rate)})
        print(f"  w_init {w_init}: {done:6d} images, branching factor "
              f"{points[-1]['branching_factor']:.3f}, {rate:.1f} Hz", flush=True)
        if done < samples:
            chunk = np.arange(done, min(done + every, samples))
            sim.initialise(p_train[chunk], (1 << 40) + chunk, init_steps)
    return points


def plot(runs: dict, configs: list[str], path: str) -> None:
    """Branching factor and liquid rate against initialisation images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_rate) = plt.subplots(1, 2, figsize=(11, 4.5))
    for style, name in zip(("-", "--", ":"), configs):
        for colour, (w, pts) in enumerate(runs[name].items()):
            done = [q["init_samples"] for q in pts]
            kw = dict(ls=style, marker="o", ms=3, color=f"C{colour}")
            ax.plot(done, [q["branching_factor"] for q in pts], label=f"{name}, initial |w| = {w}",
                    **kw)
            ax_rate.plot(done, [q["liquid_rate_hz"] for q in pts], **kw)
    ax.axhline(1.0, color="k", ls=":", lw=1)
    ax.set(xlabel="initialisation images (20 ms each)", ylabel="branching factor",
           title="Branching factor during initialisation")
    ax.legend(fontsize=8)
    ax_rate.set(xlabel="initialisation images (20 ms each)", ylabel="liquid rate (Hz)",
                yscale="log", title="Liquid firing rate (probe samples)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="nalsm_fashion,lsm_stdp_fashion",
                   help="comma-separated built-in configs")
    p.add_argument("--w-init", default="0.5,1,3", help="comma-separated initial |w|")
    p.add_argument("--samples", type=int, default=5000, help="initialisation images")
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--probe", type=int, default=20, help="test samples per measurement")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--replot", action="store_true", help="only redraw the PNG from the JSON")
    args = p.parse_args()
    out = os.path.join(args.out, "branching_init.json")
    if args.replot:
        with open(out) as f:
            saved = json.load(f)
        plot(saved["runs"], saved["configs"], out.replace(".json", ".png"))
        return
    data = load_fashion_mnist()
    runs = {}
    t0 = time.perf_counter()
    configs = args.configs.split(",")
    weights = [float(x) for x in args.w_init.split(",")]
    for name in configs:
        runs[name] = {}
        for w in weights:
            cfg = load_config(os.path.join(REPO, "configs", f"{name}.yaml"),
                              overrides=[f"liquid.w_init={w}"])
            print(f"{name} ({cfg.plasticity.rule}):", flush=True)
            runs[name][str(w)] = trajectory(cfg, data, w, args.samples, args.every, args.probe,
                                            args.seed)
    write_result({"configs": configs, "probe_samples": args.probe, "runs": runs,
                  "wall_s": time.perf_counter() - t0, "machine": machine(),
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, out)
    plot(runs, configs, out.replace(".json", ".png"))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
