"""Fingerprints of every built-in config, to compare two trees bit for bit.

Runs each built-in config at a size that takes seconds and prints one JSON
document: SHA-256 hashes of the spike trains, final states, traces, liquid
features and initialised weights, and the accuracies of the readouts.  Run
it in two checkouts and compare::

    python benchmarks/fingerprints.py --out /tmp/after.json
    (cd ../before && python benchmarks/fingerprints.py --out /tmp/before.json)
    python benchmarks/fingerprints.py --compare /tmp/before.json /tmp/after.json

Only public API calls (``load_config``, ``simulate``, the task runners), so
the same script runs on the tree before a change and after it.  LSM runs need
Fashion-MNIST (``apt-get install dataset-fashion-mnist``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import numpy as np

#: Network runs: (label, config, overrides, backend).  Traces cover v and
#: both synaptic variables of a few neurons; Poisson inputs are exercised by
#: the extra projection of ``cuba_poisson``.
NETWORK_RUNS = [
    ("cuba", "cuba", [], None),
    ("cuba_f64", "cuba", ["precision=float64"], None),
    ("coba", "coba", [], None),
    ("cuba_scaled", "cuba_scaled", [], None),
    ("cuba_scaled_x10_2threads", "cuba_scaled", ["scale=10", "duration=0.3 s", "threads=2"],
     None),
    ("cuba_delays", "cuba", ["projections.ee.delay=1.5 ms", "projections.ie.delay=0.7 ms",
                             "duration=0.4 s"], None),
    ("cuba_traces", "cuba", ["duration=0.3 s", "record.traces.p.population=exc",
                             "record.traces.p.neurons=[0, 5, 77]",
                             "record.traces.p.variables=[v, I_syn_e, I_syn_i]"], None),
    ("coba_traces", "coba", ["duration=0.3 s", "record.traces.p.population=inh",
                             "record.traces.p.neurons=[1, 9]",
                             "record.traces.p.variables=[v, g_e, g_i]"], None),
    ("cuba_poisson", "cuba", ["duration=0.3 s", "populations.ext.size=100",
                              "populations.ext.model=poisson",
                              "populations.ext.params.rate=20 Hz",
                              "projections.xe.source=ext", "projections.xe.target=exc",
                              "projections.xe.receptor=exc",
                              "projections.xe.connect.rule=fixed_probability",
                              "projections.xe.connect.p=0.1", "projections.xe.weight=2 mV",
                              "projections.xe.delay=0.5 ms"], None),
    ("cuba_torch", "cuba", ["duration=0.2 s"], "torch"),
    ("coba_torch", "coba", ["duration=0.2 s"], "torch"),
    ("cuba_crossbar", "cuba", ["duration=0.2 s"], "crossbar"),
]

_LSM_SUBSET = ["data.train=300", "data.validation=100", "data.test=100",
               "protocol.init_samples=300", "branching.samples=20", "readout.epochs=5"]
#: LSM runs: (label, config, overrides).
LSM_RUNS = [
    ("lsm_fashion", "lsm_fashion", _LSM_SUBSET),
    ("lsm_stdp_fashion", "lsm_stdp_fashion", _LSM_SUBSET),
    ("nalsm_fashion", "nalsm_fashion", _LSM_SUBSET),
    ("nalsm1000_fashion", "nalsm1000_fashion", _LSM_SUBSET),
    ("nalsm8000_fashion", "nalsm8000_fashion",
     ["data.train=60", "data.validation=30", "data.test=30", "protocol.init_samples=40",
      "branching.samples=10", "readout.epochs=3"]),
    ("nalsm_torch", "nalsm_fashion",
     ["data.train=40", "data.validation=20", "data.test=20", "protocol.init_samples=40",
      "branching.samples=5", "readout.epochs=3", "backend=torch", "torch_batch=16"]),
    ("lsm_torch", "lsm_fashion",
     ["data.train=40", "data.validation=20", "data.test=20", "branching.samples=5",
      "readout.epochs=3", "backend=torch", "torch_batch=16"]),
]
RRAM_RUNS = [
    ("rram_lsm", "rram_lsm", ["data.train=400", "data.validation=100", "data.test=200",
                              "readout.epochs=5"]),
]


def digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def network_fingerprint(config: str, overrides: list[str], backend: str | None) -> dict:
    from neurosim import load_config
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    cfg = load_config(config, overrides=overrides)
    net = build_network(cfg)
    sim = Simulation(net, cfg, backend=backend)
    res = sim.run()
    out = {"synapses": digest(net.indptr, net.targets, net.weights)}
    for name, rec in res.spikes.items():
        out[f"spikes.{name}"] = digest(rec.times, rec.indices)
        out[f"count.{name}"] = int(rec.count)
    state = sim.backend.state()
    out["state"] = digest(*(np.asarray(state[k]) for k in ("v", "syn", "refractory")))
    for name, tr in res.traces.items():
        out[f"trace.{name}"] = digest(tr.times, tr.data)
    return out


def lsm_fingerprint(config: str, overrides: list[str]) -> dict:
    from neurosim import load_config
    from neurosim.config import dump_config
    from neurosim.reservoir.pipeline import run_lsm

    cfg = load_config(config, overrides=overrides)
    res = run_lsm(cfg, dump_config(cfg), progress=False)
    out = {f"features.{s}": digest(f.counts, f.labels, f.indices)
           for s, f in res.features.items()}
    out["w_ini"] = digest(res.w_ini)
    out["branching"] = digest(res.branching)
    out["softmax_test"] = res.softmax.test_accuracy
    out["ridge_test"] = res.ridge.test_accuracy
    out["counters"] = {k: v for k, v in res.counters.items() if k != "threads"}
    return out


def rram_fingerprint(config: str, overrides: list[str]) -> dict:
    from neurosim import load_config
    from neurosim.config import dump_config
    from neurosim.reservoir.rram_lsm_run import run_rram_lsm

    cfg = load_config(config, overrides=overrides)
    res = run_rram_lsm(cfg, dump_config(cfg))
    out = {}
    for src, r in res.sources.items():
        out[f"{src}.counts"] = digest(*(r.counts[s] for s in sorted(r.counts)))
        out[f"{src}.softmax_test"] = r.softmax.test_accuracy
        out[f"{src}.ridge_test"] = r.ridge.test_accuracy
    return out


def metrics_fingerprint() -> dict:
    from neurosim.reservoir.measure import DriveSettings, load_target, measure

    res = measure(load_target("nalsm_fashion"), None, DriveSettings(values=300, trials=3))
    return {"branching": res["branching_factor"]["mean"],
            "memory_capacity": res["memory_capacity"]["total"],
            "lyapunov": res["lyapunov"]["per_step"],
            "rate": res["drive"]["liquid_rate_hz"]}


def collect(only: set[str] | None) -> dict:
    out = {}
    jobs = ([(label, network_fingerprint, (c, o, b)) for label, c, o, b in NETWORK_RUNS]
            + [(label, lsm_fingerprint, (c, o)) for label, c, o in LSM_RUNS]
            + [(label, rram_fingerprint, (c, o)) for label, c, o in RRAM_RUNS]
            + [("metrics_nalsm", metrics_fingerprint, ())])
    for label, fn, args in jobs:
        if only and label not in only:
            continue
        t0 = time.perf_counter()
        out[label] = fn(*args)
        print(f"{label}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return out


def compare(a: dict, b: dict) -> int:
    bad = 0
    for label in sorted(set(a) | set(b)):
        if a.get(label) != b.get(label):
            bad += 1
            print(f"DIFFERENT {label}:\n  {a.get(label)}\n  {b.get(label)}")
        else:
            print(f"same      {label}")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="write the fingerprints to this JSON file")
    p.add_argument("--only", action="append", help="run only these labels (repeatable)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two JSON files")
    args = p.parse_args()
    if args.compare:
        a, b = (json.load(open(f)) for f in args.compare)
        return compare(a, b)
    res = collect(set(args.only) if args.only else None)
    text = json.dumps(res, indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
