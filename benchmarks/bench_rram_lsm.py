"""Zero-shot RRAM LSM: test accuracy vs crossbar non-idealities.

The liquid of the built-in ``rram_lsm`` config (200 LIF neurons, 256 event
inputs, 50 steps) on Fashion-MNIST events, its spike counts read out by
ridge regression (penalty chosen on validation; ``neurosim.reservoir.readout``).
The events are encoded once; every point re-runs the liquid on them.

Sweeps, one non-ideality at a time with the others off:

- conductance levels (bits), programming noise, stuck-device (fault) rate:
  ``programmed`` mode, the software Gaussian weights written onto the tiles
  (in ``random_device`` mode nothing is programmed, so these do not apply);
- read noise: both ``programmed`` and ``random_device`` mode.

Reference points: the software liquid (and other software weight draws, for
the spread a new random matrix alone brings), the random-device liquid with ideal
periphery, and both crossbar modes with all of CrossbarConfig's default
non-idealities. Each point is the mean over ``--repeats`` crossbar seeds.

Writes ``results/rram_lsm.json`` and ``results/rram_lsm.png``.

    python benchmarks/bench_rram_lsm.py                 # ~6-10 min on 2 busy cores
    python benchmarks/bench_rram_lsm.py --train 500 --repeats 1   # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_result  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.driver.metadata import machine  # noqa: E402
from neurosim.reservoir.readout import train_ridge  # noqa: E402
from neurosim.reservoir.rram_lsm import (  # noqa: E402
    CrossbarSynapses,
    DigitalSynapses,
    device_weight_std,
    run_liquid,
    software_weights,
)
from neurosim.reservoir.rram_lsm_run import SPLITS, load_events  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
#: Everything off: each sweep switches on one non-ideality.
IDEAL = dict(levels=None, programming_noise=0.0, d2d_variation=0.0, c2c_variation=0.0,
             read_noise=0.0, stuck_on=0.0, stuck_off=0.0, dac_bits=None, adc_bits=None,
             wire_resistance=0.0)


def accuracy(cfg, events, synapses) -> tuple[float, float]:
    """Ridge test accuracy and spikes per neuron per step of one liquid."""
    lq = cfg.liquid
    counts = {s: run_liquid(events.frames[s], synapses, lq.neurons, lq.decay, lq.threshold,
                            cfg.batch) for s in SPLITS}
    ro = train_ridge(*[(counts[s].astype(np.float32), events.labels[s]) for s in SPLITS],
                     alphas=list(cfg.readout.ridge_alphas))
    return ro.test_accuracy, float(counts["test"].mean()) / cfg.encoder.steps


def crossbar_point(cfg, events, weights, settings: dict, repeats: int) -> dict:
    shape = weights.shape
    accs, rates = [], []
    for r in range(repeats):
        xcfg = cfg.crossbar.model_copy(update=settings)
        syn = CrossbarSynapses(xcfg, seed=1000 + r, weights=weights, shape=shape,
                               scale=cfg.liquid.weight_scale, dtype=np.float32)
        a, rate = accuracy(cfg, events, syn)
        accs.append(a)
        rates.append(rate)
    return {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "runs": accs,
            "rate": float(np.mean(rates))}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = results["reference"]
    sw = 100 * ref["software"]["mean"]
    draws = [sw] + [100 * a for a in ref["software_other_draws"]["runs"]]
    panels = [("levels_bits", "conductance levels (bits)"),
              ("programming_noise", "programming noise (fraction of G range)"),
              ("read_noise", "read noise (fraction of G range)"),
              ("fault_rate", "stuck-device rate (on + off)")]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, (key, label) in zip(axes, panels):
        for mode, points in results["sweeps"][key].items():
            shown = [p for p in points if key != "levels_bits" or p["value"] > 0]
            ax.errorbar([p["value"] for p in shown], [100 * p["mean"] for p in shown],
                        yerr=[100 * p["std"] for p in shown], marker="o", capsize=3,
                        label=f"crossbar, {mode}")
        ax.axhspan(min(draws), max(draws), color="0.85", label="software, other weight draws")
        ax.axhline(sw, color="k", ls="--", lw=1, label="software liquid (programmed weights)")
        ax.set_xlabel(label)
        if key != "levels_bits":
            ax.set_xscale("symlog", linthresh=1e-3)
            ax.set_xlim(0, 1.5 * max(p["value"] for p in points))
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    fig.suptitle("Zero-shot RRAM LSM (200 LIF neurons) on Fashion-MNIST events, ridge readout")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--validation", type=int, default=500)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=RESULTS / "rram_lsm.json")
    args = p.parse_args(argv)

    cfg = load_config(str(ROOT / "configs" / "rram_lsm.yaml"),
                      overrides=[f"data.train={args.train}", f"data.validation={args.validation}",
                                 f"data.test={args.test}"])
    t0 = time.perf_counter()
    events = load_events(cfg, args.threads)
    encode_s = time.perf_counter() - t0
    print(f"encoded {sum(len(events.labels[s]) for s in SPLITS)} samples in {encode_s:.0f} s")
    shape = (cfg.encoder.n_inputs + cfg.liquid.neurons, cfg.liquid.neurons)
    seeds = np.random.SeedSequence(cfg.seed).spawn(4)
    weights = software_weights(*shape, device_weight_std(cfg.crossbar), cfg.liquid.weight_scale,
                               np.random.default_rng(seeds[1]))

    def point(mode, settings, value=None):
        t = time.perf_counter()
        out = crossbar_point(cfg, events, weights, {**IDEAL, "mode": mode, **settings},
                             args.repeats)
        out["value"] = value
        print(f"  {mode:<14} {settings}: {100 * out['mean']:.2f} % "
              f"(+- {100 * out['std']:.2f}), {out['rate']:.3f} spikes/neuron/step, "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        return out

    sw_acc, sw_rate = accuracy(cfg, events, DigitalSynapses(weights, np.float32))
    print(f"  software liquid: {100 * sw_acc:.2f} %, {sw_rate:.3f} spikes/neuron/step")
    # other software draws: the spread a new random matrix alone brings
    draws = [accuracy(cfg, events, DigitalSynapses(software_weights(
        *shape, device_weight_std(cfg.crossbar), cfg.liquid.weight_scale,
        np.random.default_rng([cfg.seed, 1 + r])), np.float32))[0] for r in range(args.repeats)]
    print(f"  software liquid, {args.repeats} other draws: "
          f"{', '.join(f'{100 * a:.2f}' for a in draws)} %")
    reference = {
        "software": {"mean": sw_acc, "std": 0.0, "rate": sw_rate},
        "software_other_draws": {"mean": float(np.mean(draws)), "std": float(np.std(draws)),
                                 "runs": draws},
        "random_device_ideal_periphery": point("random_device", {}),
        "random_device_defaults": point("random_device", {k: v for k, v in cfg.crossbar
                                        .model_dump().items() if k in IDEAL}),
        "programmed_defaults": crossbar_point(cfg, events, weights, {"mode": "programmed"},
                                              args.repeats),
    }
    print(f"  programmed, all defaults: {100 * reference['programmed_defaults']['mean']:.2f} %")
    bits = [1, 2, 3, 4, 5, 6]
    sweeps = {
        "levels_bits": {"programmed": [point("programmed", {"levels": 2 ** b}, b) for b in bits]
                        + [point("programmed", {}, 0)]},
        "programming_noise": {"programmed": [point("programmed", {"programming_noise": v}, v)
                                             for v in (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)]},
        "read_noise": {m: [point(m, {"read_noise": v}, v)
                           for v in (0.0, 0.005, 0.02, 0.05, 0.1, 0.2)]
                       for m in ("programmed", "random_device")},
        "fault_rate": {"programmed": [point("programmed", {"stuck_on": v / 2, "stuck_off": v / 2},
                                            v) for v in (0.0, 0.001, 0.01, 0.05, 0.1, 0.2)]},
    }
    results = {
        "benchmark": "rram_lsm", "machine": machine(),
        "samples": {s: len(events.labels[s]) for s in SPLITS}, "repeats": args.repeats,
        "encode_seconds": encode_s, "total_seconds": time.perf_counter() - t0,
        "reference": reference, "sweeps": sweeps,
        "notes": ["ridge readout on spike counts; one software weight draw (seed 0); crossbar "
                  "points are means over --repeats crossbar seeds",
                  "levels: 2**bits conductance levels per device (0 = continuous)",
                  "timings on a 2-core machine shared with other jobs: noisy"],
    }
    write_result(results, args.out, indent=2, default=str)
    plot(results, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')} "
          f"({results['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
