"""RRAM crossbar emulation: analog MLP inference accuracy vs non-idealities, speed, backend overhead.

1. Trains an MLP 784-256-10 (ReLU) on Fashion-MNIST with torch on the CPU.
2. Runs its two layers through :class:`neurosim.crossbar.CrossbarArray`
   (biases stay digital) and sweeps one non-ideality at a time, the others
   ideal: conductance levels, programming noise, read noise, stuck-device
   rate, DAC/ADC bits, and drift time with a PCM-like device.  Each point is
   the mean over ``--repeats`` chips (seeds: each draws its own device
   properties and programming).
3. Sets IBM aihwkit 1.2's numbers for the same MLP with its PCM preset beside
   the drift curve (../shared/ANCHORS.md); aihwkit itself is not run here:
   its wheels do not work with this torch and a source build takes ~10 min.
4. Times analog inference (samples/s, one thread) and the ``crossbar``
   backend against ``cpu`` on CUBA (4,000 neurons, 1 s), best of 5 rounds
   taken in turn (CPU time of the process: the runs are single-threaded;
   at 4,000 neurons neither backend splits its work between threads).

Writes ``results/crossbar.json`` and ``results/crossbar.png``
(``--cuba-only``: only step 4's backend timing, to ``results/crossbar_cuba.json``).
``--threads``: wall time of the ``crossbar`` backend on scaled CUBA (4,000 to
16,000 neurons) on one and on two threads (to ``results/crossbar_threads.json``).
``--against TREE`` times step 4 in this checkout and in another one (e.g.
``git worktree add ../before HEAD~3``), alternating fresh processes, and
prints each tree's crossbar/cpu ratios (to ``results/crossbar_cuba_ab.json``):
on a shared machine, compare the ratios of one invocation, not seconds.

    python benchmarks/bench_crossbar.py            # ~3-5 min on 2 busy cores
    python benchmarks/bench_crossbar.py --epochs 1 --repeats 1   # quicker
    python benchmarks/bench_crossbar.py --cuba-only               # ~1 min
    python benchmarks/bench_crossbar.py --against ../before --rounds 5   # ~4 min
    python benchmarks/bench_crossbar.py --threads                 # ~1 min
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

#: The source tree whose neurosim is timed: this checkout, or the one an
#: A/B run (``--against``) names for its worker processes.
TREE = Path(os.environ.get("NEUROSIM_BENCH_TREE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(TREE))

from _results import write_result  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.crossbar import CrossbarArray, device_params  # noqa: E402
from neurosim.driver.metadata import machine  # noqa: E402
from neurosim.driver.simulation import Simulation  # noqa: E402
from neurosim.network import build_network  # noqa: E402

DATA = Path("/usr/share/datasets/fashion-mnist")
RESULTS = Path(__file__).resolve().parent / "results"
#: aihwkit 1.2, MLP 784-256-10, Fashion-MNIST, PCM preset (ANCHORS.md), in %.
AIHWKIT = {"digital": 85.3, "programmed (t=0)": 85.2, "1 hour": 84.5, "1 day": 84.2,
           "1 year": 82.5, "8-bit DAC/ADC, t=0": 85.0, "4-bit DAC/ADC, t=0": 75.0,
           "4-bit DAC/ADC, 1 hour": 42.0, "ideal converters, 1 year": 84.3,
           "samples/s, one core": 35_000}
HOUR, DAY, YEAR = 3600.0, 86_400.0, 365 * 86_400.0
NOTES = ["timings on a 2-core machine shared with other jobs: noisy",
         "aihwkit not run here (wheels incompatible with torch 2.13; source build ~10 min)",
         "PCM-like drift curve uses neurosim's own simplified model (constant "
         "programming noise, nu ~ N(0.05, 0.02)), not aihwkit's fitted PCM model"]
#: Everything off: each sweep switches on one non-ideality.
IDEAL = dict(levels=None, programming_noise=0.0, d2d_variation=0.0, c2c_variation=0.0,
             read_noise=0.0, stuck_on=0.0, stuck_off=0.0, dac_bits=None, adc_bits=None,
             wire_resistance="0 Ohm")
#: PCM-like device for the drift curve, after aihwkit's PCM model (Joshi et al.
#: 2020): g_max 25 uS, programming noise ~1 uS, nu ~ N(0.05, 0.02), t0 = 20 s,
#: global drift compensation.
PCM = dict(IDEAL, g_min="0 S", g_max="25 uS", programming_noise=0.04, drift_nu=0.05,
           drift_nu_std=0.02, drift_t0="20 s", drift_compensation=True)


def read_idx(name: str) -> np.ndarray:
    with gzip.open(DATA / name, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist():
    x_train = read_idx("train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    x_test = read_idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    return (x_train, read_idx("train-labels-idx1-ubyte.gz").astype(np.int64),
            x_test, read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))


def train_mlp(x, y, epochs: int, seed: int):
    """Adam, batch 128, lr 1e-3; returns numpy (W1, b1, W2, b2) with y = x @ W + b."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(128):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - t0
    l1, l2 = model[0], model[2]
    weights = [p.detach().numpy().astype(np.float64) for p in
               (l1.weight.T, l1.bias, l2.weight.T, l2.bias)]
    return weights, seconds


def accuracy(logits, y) -> float:
    return float(np.mean(logits.argmax(axis=1) == y) * 100)


def analog_accuracy(weights, x, y, settings: dict, seed: int) -> float:
    w1, b1, w2, b2 = weights
    cfg = device_params(**settings)
    layer1 = CrossbarArray(w1, cfg, seed=seed)
    layer2 = CrossbarArray(w2, cfg, seed=seed + 1)
    hidden = np.maximum(layer1.matvec(x) + b1, 0.0)
    return accuracy(layer2.matvec(hidden) + b2, y)


def sweep(weights, x, y, name, values, make, repeats):
    points = []
    for value in values:
        accs = [analog_accuracy(weights, x, y, make(value), seed=100 + 7 * r) for r in range(repeats)]
        points.append({"value": value, "accuracy": float(np.mean(accs)),
                       "std": float(np.std(accs)), "runs": accs})
        print(f"  {name} = {value}: {np.mean(accs):.2f} %", flush=True)
    return points


def inference_speed(weights, x, settings: dict) -> float:
    """Analog MLP samples/s in float32 (programming excluded), one thread."""
    w1, b1, w2, b2 = weights
    cfg = device_params(**settings)
    layer1 = CrossbarArray(w1, cfg, seed=1, dtype=np.float32)
    layer2 = CrossbarArray(w2, cfg, seed=2, dtype=np.float32)
    x = x.astype(np.float32)
    layer2.matvec(np.maximum(layer1.matvec(x[:10]) + b1, 0.0))  # compile
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        layer2.matvec(np.maximum(layer1.matvec(x) + b1, 0.0)) + b2
        best = min(best, time.perf_counter() - t0)
    return len(x) / best


#: CUBA-4k variants timed against each other (config overrides).
CUBA_VARIANTS = {"cpu": [], "crossbar_ideal": ["backend=crossbar", "crossbar.ideal=true"],
                 "crossbar_defaults": ["backend=crossbar"],
                 "crossbar_no_read_noise": ["backend=crossbar", "crossbar.read_noise=0"]}


def cuba_seconds(variants: dict[str, list[str]], repeats: int = 5) -> dict[str, dict]:
    """Best CPU time of 1 s of CUBA-4k per variant (config overrides).

    The variants run in turn, ``repeats`` rounds, on one network each after a
    warm-up, so a busy spell of the shared machine hits them alike; CPU time
    (the runs use one thread) leaves out the time other jobs hold the core.
    Each round simulates exactly 1 s, continuing the same simulation (its
    seconds 0.02-1.02, 1.02-2.02, ...: CUBA's activity is stationary by then).
    """
    sims = {}
    for label, sets in variants.items():
        cfg = load_config("cuba", overrides=sets + ["record.spikes=none"])
        sims[label] = Simulation(build_network(cfg), cfg)
        sims[label].run(0.02)
    best, last = dict.fromkeys(variants, np.inf), {}
    for _ in range(repeats):
        for label, sim in sims.items():
            t0 = time.process_time()
            last[label] = sim.run(1.0)
            best[label] = min(best[label], time.process_time() - t0)
    # Spikes over the whole run (warm-up included), as a sanity check of the activity.
    return {label: {"seconds": best[label], "simulated_s_total": last[label].duration,
                    "spikes_total": sum(c["spikes"]
                                        for c in last[label].counters["populations"].values())}
            for label in sims}


def cuba_overhead() -> dict[str, dict]:
    """:func:`cuba_seconds` of :data:`CUBA_VARIANTS`, each also relative to ``cpu``."""
    cuba = cuba_seconds(CUBA_VARIANTS)
    for label, row in cuba.items():
        row["overhead_vs_cpu"] = row["seconds"] / cuba["cpu"]["seconds"]
        print(f"CUBA-4k, 1 s on {label}: {row['seconds']:.3f} s "
              f"({row['overhead_vs_cpu']:.1f}x cpu; target <= 3x)", flush=True)
    return cuba


def thread_scaling(scales=(1, 2, 4), repeats: int = 3) -> dict[str, dict]:
    """Best wall time of 0.2 s of scaled CUBA on the crossbar (defaults) with
    one and two threads, the two runs of a size taken in turn."""
    out = {}
    for scale in scales:
        sims = {}
        for threads in (1, 2):
            cfg = load_config("cuba_scaled", overrides=["backend=crossbar", f"scale={scale}",
                                                        f"threads={threads}",
                                                        "record.spikes=none"])
            sims[threads] = Simulation(build_network(cfg), cfg)
            sims[threads].run(0.02)
        best = dict.fromkeys(sims, np.inf)
        for _ in range(repeats):
            for threads, sim in sims.items():
                t0 = time.perf_counter()
                sim.run(0.2)
                best[threads] = min(best[threads], time.perf_counter() - t0)
        n = sims[1].network.n_neurons
        row = {"neurons": n, "parts_with_2_threads": sims[2].backend.parts,
               "seconds_1_thread": best[1], "seconds_2_threads": best[2],
               "speedup": best[1] / best[2]}
        out[f"scale_{scale}"] = row
        print(f"crossbar, scaled CUBA {n:,} neurons, 0.2 s: 1 thread {best[1]:.3f} s, 2 threads "
              f"{best[2]:.3f} s ({row['parts_with_2_threads']} parts): {row['speedup']:.2f}x",
              flush=True)
        del sims
    return out


def cuba_ab(other: Path, rounds: int) -> dict:
    """:func:`cuba_seconds` of this tree and of ``other`` in alternating fresh
    processes (``--cuba-worker``), ``rounds`` each; medians of the seconds and
    of the ratios to ``cpu`` of each process."""
    trees = {"this": TREE, "other": other.resolve()}
    runs = {key: [] for key in trees}
    for r in range(rounds):
        for key, tree in trees.items():
            env = dict(os.environ, NEUROSIM_BENCH_TREE=str(tree))
            out = subprocess.run([sys.executable, __file__, "--cuba-worker"], env=env, cwd=tree,
                                 capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            runs[key].append(row)
            print(f"round {r + 1} {key}: " + ", ".join(
                f"{label} {v['seconds'] * 1e3:.1f} ms ({v['seconds'] / row['cpu']['seconds']:.2f}x)"
                for label, v in row.items()), flush=True)
    summary = {}
    for key, rows in runs.items():
        summary[key] = {"tree": str(trees[key]), "rounds": rows, "median": {
            label: {"seconds": statistics.median(r[label]["seconds"] for r in rows),
                    "overhead_vs_cpu": statistics.median(r[label]["seconds"] / r["cpu"]["seconds"]
                                                         for r in rows)}
            for label in rows[0]}}
    for label in runs["this"][0]:
        a, b = summary["this"]["median"][label], summary["other"]["median"][label]
        print(f"CUBA-4k, 1 s on {label}: this {a['seconds']:.3f} s ({a['overhead_vs_cpu']:.2f}x "
              f"cpu) | other {b['seconds']:.3f} s ({b['overhead_vs_cpu']:.2f}x cpu)", flush=True)
    return summary


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digital = results["digital_accuracy"]
    panels = [("levels_bits", "conductance levels (bits)", False),
              ("programming_noise", "programming noise (fraction of G range)", False),
              ("read_noise", "read noise per read (fraction of G range)", False),
              ("fault_rate", "stuck-at fault rate (on + off)", True),
              ("converter_bits", "DAC and ADC bits", False),
              ("drift_time", "time since programming (s), PCM-like", True)]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    for ax, (key, label, logx) in zip(axes.ravel(), panels):
        pts = results["sweeps"][key]
        xs = [p["value"] for p in pts]
        ax.errorbar(xs, [p["accuracy"] for p in pts], yerr=[p["std"] for p in pts], marker="o",
                    label="neurosim crossbar")
        ax.axhline(digital, color="gray", ls="--", label=f"digital {digital:.1f} %")
        if logx and min(xs) > 0:
            ax.set_xscale("log")
        elif logx:
            ax.set_xscale("symlog", linthresh=min(x for x in xs if x > 0))
            ax.set_xlim(left=0)
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    drift_ax = axes[1, 2]
    for t, acc in ((20.0, AIHWKIT["programmed (t=0)"]), (HOUR, AIHWKIT["1 hour"]),
                   (DAY, AIHWKIT["1 day"]), (YEAR, AIHWKIT["1 year"])):
        drift_ax.plot(t, acc, "rs")
    drift_ax.plot([], [], "rs", label="aihwkit 1.2 PCM (ANCHORS.md)")
    bits_ax = axes[1, 1]
    bits_ax.plot([4, 8], [AIHWKIT["4-bit DAC/ADC, t=0"], AIHWKIT["8-bit DAC/ADC, t=0"]], "rs",
                 label="aihwkit 1.2 PCM, t=0")
    for ax in (drift_ax, bits_ax):
        ax.legend(fontsize=8)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("MLP 784-256-10 on Fashion-MNIST, analog inference on emulated RRAM tiles")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="chips (seeds) per sweep point")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-cuba", action="store_true")
    ap.add_argument("--cuba-only", action="store_true",
                    help="only time the crossbar backend on CUBA (results/crossbar_cuba.json)")
    ap.add_argument("--against", type=Path, metavar="TREE",
                    help="A/B of the CUBA timing against another source tree")
    ap.add_argument("--rounds", type=int, default=5, help="processes per tree with --against")
    ap.add_argument("--threads", action="store_true",
                    help="only time the crossbar backend on one and two threads")
    ap.add_argument("--cuba-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS / "crossbar.json")
    args = ap.parse_args(argv)
    if args.cuba_worker:  # one process of an A/B: its timings as one JSON line
        cuba = cuba_seconds(CUBA_VARIANTS, repeats=3)
        print(json.dumps({label: {"seconds": row["seconds"]} for label, row in cuba.items()}))
        return 0
    if args.threads:
        out = RESULTS / "crossbar_threads.json"
        write_result({"machine": machine(), "cuba_scaled_0_2s": thread_scaling(),
                      "notes": NOTES[:1]}, out, indent=2, default=str)
        print(f"wrote {out}")
        return 0
    if args.against:
        out = RESULTS / "crossbar_cuba_ab.json"
        write_result({"machine": machine(), "cuba_4k_1s": cuba_ab(args.against, args.rounds),
                      "notes": NOTES[:1]}, out, indent=2, default=str)
        print(f"wrote {out}")
        return 0
    if args.cuba_only:
        out = RESULTS / "crossbar_cuba.json"
        write_result({"machine": machine(), "cuba_4k_1s": cuba_overhead(), "notes": NOTES[:1]},
                     out, indent=2, default=str)
        print(f"wrote {out}")
        return 0

    x_train, y_train, x_test, y_test = load_fashion_mnist()
    weights, train_s = train_mlp(x_train, y_train, args.epochs, args.seed)
    w1, b1, w2, b2 = weights
    digital = accuracy(np.maximum(x_test @ w1 + b1, 0) @ w2 + b2, y_test)
    ideal = analog_accuracy(weights, x_test, y_test, dict(IDEAL, ideal=True), seed=1)
    print(f"trained {args.epochs} epochs in {train_s:.1f} s: digital {digital:.2f} %, "
          f"ideal crossbar {ideal:.2f} %", flush=True)

    def run(name, values, make):
        print(name, flush=True)
        return sweep(weights, x_test, y_test, name, values, make, args.repeats)

    sweeps = {
        "levels_bits": run("levels (bits)", [1, 2, 3, 4, 5, 6, 8],
                           lambda b: dict(IDEAL, levels=2**b)),
        "programming_noise": run("programming noise", [0.0, 0.01, 0.02, 0.05, 0.1, 0.2],
                                 lambda s: dict(IDEAL, programming_noise=s)),
        "read_noise": run("read noise", [0.0, 0.01, 0.02, 0.05, 0.1, 0.2],
                          lambda s: dict(IDEAL, read_noise=s)),
        "fault_rate": run("stuck-at fault rate", [0.0, 0.001, 0.01, 0.02, 0.05, 0.1],
                          lambda r: dict(IDEAL, stuck_on=r / 2, stuck_off=r / 2)),
        "converter_bits": run("DAC/ADC bits", [3, 4, 5, 6, 8, 10],
                              lambda b: dict(IDEAL, dac_bits=b, adc_bits=b)),
        "drift_time": run("drift time, PCM-like", [20.0, HOUR, DAY, 30 * DAY, YEAR],
                          lambda t: dict(PCM, read_time=f"{t} s")),
        "drift_time_4bit": run("drift time, PCM-like, 4-bit DAC/ADC", [20.0, HOUR],
                               lambda t: dict(PCM, read_time=f"{t} s", dac_bits=4, adc_bits=4)),
        "drift_time_no_compensation": run("drift time, PCM-like, no compensation", [20.0, DAY, YEAR],
                                          lambda t: dict(PCM, read_time=f"{t} s",
                                                         drift_compensation=False)),
        "defaults": run("all defaults (RRAM, 32 levels, 7/9-bit DAC/ADC)", ["defaults"],
                        lambda _: {}),
    }
    speed = {"ideal": inference_speed(weights, x_test, dict(IDEAL, ideal=True)),
             "defaults": inference_speed(weights, x_test, {})}
    print(f"analog inference: {speed['ideal']:,.0f} samples/s ideal, "
          f"{speed['defaults']:,.0f} with the default non-idealities (aihwkit ~35,000)", flush=True)

    cuba = {} if args.skip_cuba else cuba_overhead()

    results = {
        "machine": machine(), "epochs": args.epochs, "train_seconds": train_s,
        "digital_accuracy": digital, "ideal_crossbar_accuracy": ideal, "repeats": args.repeats,
        "sweeps": sweeps, "aihwkit_1_2_pcm": AIHWKIT, "inference_samples_per_s": speed,
        "cuba_4k_1s": cuba,
        "notes": NOTES,
    }
    write_result(results, args.out, indent=2, default=str)
    plot(results, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
