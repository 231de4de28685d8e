#!/usr/bin/env python3
"""Adaptive E/I reservoir against the globally tuned one and ReservoirPy's ESN.

One invocation, same inputs, seeds, lengths, readout and scoring for every
model (neurosim.reservoir.metrics / tasks):

- memory capacity (MC): iid uniform input on [-1, 1], delays 0..200, ridge
  readout trained on the first half after a 200-step washout, squared
  correlations summed on the second half;
- NARMA-10: NRMSE (divided by the target's standard deviation) of a ridge
  readout trained on steps [200, T - T/3) and tested on the last third.

Models (500 units each by default):

- ``esn``: ReservoirPy ``Reservoir`` (tanh, leak 1.0, spectral radius 1.0,
  its default sparse random W); NARMA input scaling 0.5 with bias 0.5, MC input
  scaling 0.1 (the settings the project measured the ESN-500 at before);
- ``ei_global``: neurosim's E/I sigmoid reservoir without adaptation, one
  global E/I balance beta for all units, swept over --betas; the best beta is
  picked on the test score, which flatters this baseline;
- ``ei_adaptive``: the same reservoir started balanced (beta = 0), its
  inhibition adapted locally for --adapt-steps on a separate input sequence
  of the task's kind (target rate 0.4 for every unit), then frozen;
- ``ei_adaptive_het``: the same with heterogeneous targets 0.4 +- 0.2;
- ``ei_adaptive`` is also started from every beta of the sweep, to show how
  little the starting balance matters once the units adapt; for the first
  seed the largest Lyapunov exponent (Benettin, MC input) of every fixed and
  adapted reservoir is recorded too.

Wall times cover building the reservoir, adaptation, running it over the task
input, and fitting and scoring the readout (numba compiled beforehand).
The machine is shared; the fraction of CPU used by other processes during the
run is recorded (``other_load``), and timings with a high value are noisy.

Usage:  python benchmarks/bench_reservoir_esn.py [--seeds 0,1,2] [--n 500]
            [--steps 6000] [--adapt-steps 3000] [--out benchmarks/results/reservoir_esn.json]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from _results import write_result  # noqa: E402
from bench_cuba import OtherLoad  # noqa: E402
from neurosim.driver.metadata import machine, versions  # noqa: E402
from neurosim.reservoir.adaptive import adapt, make_ei_reservoir, run, targets  # noqa: E402
from neurosim.reservoir.metrics import (largest_lyapunov, memory_capacity, ridge_fit,  # noqa: E402
                                        ridge_predict)
from neurosim.reservoir.tasks import memory_capacity_input, narma10, nrmse  # noqa: E402

WASHOUT = 200
MAX_DELAY = 200
RIDGE = 1e-6
RHO, RHO_SPREAD, DELTA = 0.4, 0.2, 1e-3
#: input scaling per task: the ESN's (project settings) and the E/I reservoir's (its units
#: sum about 1 of excitation, gain 10: 0.01 keeps MC inputs in the near-linear range).
ESN_SCALING = {"mc": dict(input_scaling=0.1), "narma": dict(input_scaling=0.5, bias=0.5)}
EI_SCALING = {"mc": 0.01, "narma": 0.03}


def score(task, states, data):
    if task == "mc":
        return memory_capacity(states, data["u"], MAX_DELAY, WASHOUT, ridge=RIDGE).total
    u, y = data["u"], data["y"]
    split = u.size - u.size // 3
    fit = ridge_fit(states[WASHOUT:split], y[WASHOUT:split, None], RIDGE)
    return nrmse(y[split:], ridge_predict(fit, states[split:])[:, 0])


def task_data(task, steps, adapt_steps, seed):
    if task == "mc":
        return {"u": memory_capacity_input(steps, seed=1000 + seed),
                "adapt": memory_capacity_input(adapt_steps, seed=3000 + seed)}
    u, y = narma10(steps, seed=2000 + seed)
    return {"u": u, "y": y, "adapt": narma10(adapt_steps, seed=4000 + seed)[0]}


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def run_esn(task, data, n, seed):
    from reservoirpy.nodes import Reservoir

    def go():
        esn = Reservoir(n, lr=1.0, sr=1.0, seed=seed, **ESN_SCALING[task])
        return score(task, esn.run(data["u"][:, None]), data)
    return timed(go)


def run_ei(task, data, n, seed, beta, target=None):
    def go():
        res = make_ei_reservoir(n, beta=beta, input_scaling=EI_SCALING[task], seed=seed)
        r0 = None
        if target is not None:
            res, r0 = adapt(res, data["adapt"], target, delta=DELTA)
        return score(task, run(res, data["u"], r0), data)
    return timed(go)


def lyapunov(task, data, n, seed, beta, target=None):
    """Largest Lyapunov exponent (per step) of the fixed or adapted reservoir under the task input."""
    res = make_ei_reservoir(n, beta=beta, input_scaling=EI_SCALING[task], seed=seed)
    r0 = np.zeros(n)
    if target is not None:
        res, r0 = adapt(res, data["adapt"], target, delta=DELTA)
    u = data["u"]
    return largest_lyapunov(lambda x, t: run(res, u[t:t + 1], x)[0], r0, n_steps=1500,
                            n_transient=WASHOUT, eps=1e-9)


def summary(values):
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "sd": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "values": a.tolist()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--adapt-steps", type=int, default=3000)
    ap.add_argument("--betas", default="0.5,0,-0.5,-1,-1.5,-2")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "reservoir_esn.json"))
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    betas = [float(b) for b in args.betas.split(",")]
    import reservoirpy

    # Compile the numba kernels before anything is timed.
    small = make_ei_reservoir(20, in_degree=5)
    adapt(small, np.zeros(3), targets(20, RHO))
    run(small, np.zeros(3))

    raw = {task: {"esn": [], "ei_global_best": [], "ei_global_best_beta": [], "ei_adaptive": [],
                  "ei_adaptive_het": [], "time_s": {"esn": [], "ei_global_per_beta": [],
                                                    "ei_adaptive": []},
                  "ei_global_by_beta": {b: [] for b in betas},
                  "ei_adaptive_from_beta": {b: [] for b in betas}}
           for task in ("mc", "narma")}
    with OtherLoad() as load:
        for seed in seeds:
            homo = targets(args.n, RHO)
            het = targets(args.n, RHO, RHO_SPREAD, seed=5000 + seed)
            for task, rec in raw.items():
                data = task_data(task, args.steps, args.adapt_steps, seed)
                value, t = run_esn(task, data, args.n, seed)
                rec["esn"].append(value)
                rec["time_s"]["esn"].append(t)
                by_beta = {}
                for b in betas:
                    by_beta[b], t = run_ei(task, data, args.n, seed, b)
                    rec["ei_global_by_beta"][b].append(by_beta[b])
                    rec["time_s"]["ei_global_per_beta"].append(t)
                    rec["ei_adaptive_from_beta"][b].append(run_ei(task, data, args.n, seed, b, homo)[0])
                pick = max if task == "mc" else min
                best = pick(betas, key=by_beta.get)
                rec["ei_global_best"].append(by_beta[best])
                rec["ei_global_best_beta"].append(best)
                value, t = run_ei(task, data, args.n, seed, 0.0, homo)
                rec["ei_adaptive"].append(value)
                rec["time_s"]["ei_adaptive"].append(t)
                rec["ei_adaptive_het"].append(run_ei(task, data, args.n, seed, 0.0, het)[0])
                print(f"seed {seed} {task:5s}: esn {rec['esn'][-1]:.3f}  global(beta={best:+.1f}) "
                      f"{by_beta[best]:.3f}  adaptive {value:.3f}  adaptive-het "
                      f"{rec['ei_adaptive_het'][-1]:.3f}", flush=True)

    data = task_data("mc", args.steps, args.adapt_steps, seeds[0])
    lyap = {str(b): {"fixed": lyapunov("mc", data, args.n, seeds[0], b),
                     "adapted": lyapunov("mc", data, args.n, seeds[0], b, targets(args.n, RHO))}
            for b in betas}

    result = {"machine": machine(), "versions": {**versions(), "reservoirpy": reservoirpy.__version__},
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "other_load": load.fraction,
              "settings": {"n": args.n, "steps": args.steps, "adapt_steps": args.adapt_steps,
                           "seeds": seeds, "betas": betas, "washout": WASHOUT, "max_delay": MAX_DELAY,
                           "ridge": RIDGE, "rho": RHO, "rho_spread": RHO_SPREAD, "delta": DELTA,
                           "esn": ESN_SCALING, "ei_input_scaling": EI_SCALING},
              "lyapunov_mc_seed0": lyap, "tasks": {}}
    print(f"\n{args.n} units, {len(seeds)} seeds, mean +- sd   (MC: higher is better; NARMA-10 NRMSE: lower)")
    print(f"{'task':8s} {'esn':>14s} {'ei_global':>14s} {'ei_adaptive':>14s} {'ei_adapt_het':>14s}"
          f" {'adapt/global':>13s} {'adapt/esn':>10s} {'t_esn/t_adapt':>14s}")
    for task, rec in raw.items():
        s = {k: summary(rec[k]) for k in ("esn", "ei_global_best", "ei_adaptive", "ei_adaptive_het")}
        times = {k: summary(v) for k, v in rec["time_s"].items()}
        ratios = {"adaptive_over_global": s["ei_adaptive"]["mean"] / s["ei_global_best"]["mean"],
                  "adaptive_over_esn": s["ei_adaptive"]["mean"] / s["esn"]["mean"],
                  "esn_time_over_adaptive_time": times["esn"]["mean"] / times["ei_adaptive"]["mean"]}
        result["tasks"][task] = {
            **s, "ei_global_best_beta": rec["ei_global_best_beta"], "time_s": times, "ratios": ratios,
            "ei_global_by_beta": {str(b): summary(v) for b, v in rec["ei_global_by_beta"].items()},
            "ei_adaptive_from_beta": {str(b): summary(v) for b, v in rec["ei_adaptive_from_beta"].items()}}
        cells = " ".join(f"{s[k]['mean']:8.3f}+-{s[k]['sd']:5.3f}" for k in
                         ("esn", "ei_global_best", "ei_adaptive", "ei_adaptive_het"))
        print(f"{task:8s} {cells} {ratios['adaptive_over_global']:13.2f} "
              f"{ratios['adaptive_over_esn']:10.2f} {ratios['esn_time_over_adaptive_time']:14.2f}")
    for task, rec in result["tasks"].items():
        g = "  ".join(f"{b}:{v['mean']:.3f}" for b, v in rec["ei_global_by_beta"].items())
        a = "  ".join(f"{b}:{v['mean']:.3f}" for b, v in rec["ei_adaptive_from_beta"].items())
        print(f"{task}: by beta, fixed    {g}\n{task}: by beta, adapted  {a}")
        t = rec["time_s"]
        print(f"{task}: wall s per model run: esn {t['esn']['mean']:.2f}, ei fixed "
              f"{t['ei_global_per_beta']['mean']:.2f}, ei adaptive (incl. adaptation) "
              f"{t['ei_adaptive']['mean']:.2f}")
    print("largest Lyapunov exponent per step (MC input, seed %d), fixed -> adapted:  " % seeds[0]
          + "  ".join(f"{b}: {v['fixed']:+.3f} -> {v['adapted']:+.3f}" for b, v in lyap.items()))
    print(f"other processes' CPU share during the run: {load.fraction}")
    write_result(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
