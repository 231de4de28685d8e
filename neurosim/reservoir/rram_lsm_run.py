"""``neurosim run`` for ``task: rram_lsm``: software vs crossbar liquid, side by side.

1. Fashion-MNIST images -> ON/OFF event frames (:func:`~neurosim.reservoir.rram_lsm.encode_images`).
2. The same frames through two liquids of one description: software weights
   (Gaussian with the random device's statistics, read digitally) and the
   crossbar (random-device weights, or the software weights programmed,
   read through the non-ideality chain).
3. The same digital readouts on each liquid's spike counts.

HDF5 layout (``format = "neurosim-rram-lsm-result"``, ``format_version = 2``; the
root header and the ``timing.`` section are the convention of :mod:`neurosim.io.hdf5`)::

    /                              attrs: header, name, timing.<key>
    /accuracy/<source>             attrs: softmax_test, softmax_validation, softmax_train,
                                          softmax_best_epoch, softmax_learning_rate,
                                          ridge_test, ridge_validation, ridge_train,
                                          ridge_alpha, mean_rate
    /features/<source>/<split>     liquid spike counts (uint16)
    /labels/<split>, /indices/<split>

with ``<source>`` in ``software``, ``crossbar``.  Version 1 lacked the common
header and ``softmax_learning_rate`` (read back as NaN); it reads the same
otherwise.  The event frames are not stored (the data set gives them again).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.config import dump_config, load_config_text
from neurosim.config.rram_lsm import RRAMLSMConfig
from neurosim.data import load_fashion_mnist, split_pools
from neurosim.io import check_writable, result_path
from neurosim.io.hdf5 import (ResultFile, create_result, open_result, read_parts, scalar_attrs,
                              write_section)
from neurosim.reservoir.readout import (ReadoutResult, best_on_validation, check_history_fits,
                                        softmax_per_rate, train_ridge)
from neurosim.reservoir.rram_lsm import (
    CrossbarSynapses,
    DigitalSynapses,
    device_weight_std,
    encode_images,
    run_liquid,
    software_weights,
)

from neurosim.tasks import TASKS

TASK = "rram_lsm"
FORMAT = TASKS[TASK].result_format
FORMAT_VERSION = TASKS[TASK].result_version
SPLITS = ("train", "validation", "test")
SOURCES = ("software", "crossbar")


@dataclass
class EventData:
    """Event frames ``(n, steps, n_inputs)`` bool, labels and data-set indices per split.

    Read back from a result file, ``frames`` is empty: files do not store them.
    """

    frames: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    indices: dict[str, np.ndarray]


@dataclass
class SourceResult:
    """One weight source: spike counts per split and both readouts."""

    counts: dict[str, np.ndarray]
    softmax: ReadoutResult
    ridge: ReadoutResult
    steps: int

    @property
    def mean_rate(self) -> float:
        """Spikes per neuron per step over the test samples."""
        return float(self.counts["test"].mean()) / self.steps


@dataclass
class RRAMLSMResult:
    name: str
    config_text: str
    data: EventData
    sources: dict[str, SourceResult]
    timings: dict[str, float] = field(default_factory=dict)


def load_events(cfg: RRAMLSMConfig, threads: int | None = None) -> EventData:
    """Pick the samples of every split (seeded) and encode them."""
    data = load_fashion_mnist(cfg.data.path)
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(4)[0])
    wanted = {"train": cfg.data.train, "validation": cfg.data.validation, "test": cfg.data.test}
    pools = split_pools(data, wanted)
    source = {"train": data["train"], "validation": data["train"], "test": data["test"]}
    frames, labels, indices = {}, {}, {}
    for split in SPLITS:
        idx = np.sort(rng.choice(pools[split], wanted[split], replace=False))
        frames[split] = encode_images(source[split].images[idx], cfg.encoder,
                                      threads or cfg.threads)
        labels[split], indices[split] = source[split].labels[idx].copy(), idx
    return EventData(frames, labels, indices)


def build_synapses(cfg: RRAMLSMConfig, dtype=np.float32) -> dict[str, object]:
    """The software and crossbar synapses of ``cfg`` (one network, two weight sources)."""
    seeds = np.random.SeedSequence(cfg.seed).spawn(4)
    shape = (cfg.encoder.n_inputs + cfg.liquid.neurons, cfg.liquid.neurons)
    weights = software_weights(*shape, device_weight_std(cfg.crossbar), cfg.liquid.weight_scale,
                               np.random.default_rng(seeds[1]))
    xbar_seed = int(seeds[2].generate_state(1)[0])
    return {"software": DigitalSynapses(weights, dtype),
            "crossbar": CrossbarSynapses(cfg.crossbar, xbar_seed, weights=weights, shape=shape,
                                         scale=cfg.liquid.weight_scale, dtype=dtype)}


def evaluate(cfg: RRAMLSMConfig, events: EventData, synapses) -> SourceResult:
    """Run one liquid on every split and train both readouts on its counts."""
    lq, ro = cfg.liquid, cfg.readout
    counts = {s: run_liquid(events.frames[s], synapses, lq.neurons, lq.decay, lq.threshold,
                            cfg.batch) for s in SPLITS}
    xy = [(counts[s].astype(np.float32), events.labels[s]) for s in SPLITS]
    seed = int(np.random.SeedSequence(cfg.seed).spawn(4)[3].generate_state(1)[0])
    softmax = best_on_validation(softmax_per_rate(
        *xy, learning_rates=ro.learning_rate, epochs=ro.epochs, batch_size=ro.batch_size,
        seed=seed))
    ridge = train_ridge(*xy, alphas=list(ro.ridge_alphas))
    return SourceResult(counts, softmax, ridge, cfg.encoder.steps)


def run_rram_lsm(cfg: RRAMLSMConfig, config_text: str, *, threads: int | None = None,
                 events: EventData | None = None) -> RRAMLSMResult:
    """Encode (unless ``events`` is given), run both liquids, train the readouts."""
    check_history_fits(cfg.readout.epochs, len(cfg.readout.learning_rate))
    t0 = time.perf_counter()
    events = load_events(cfg, threads) if events is None else events
    t1 = time.perf_counter()
    timings = {"encode_s": t1 - t0}
    results = {}
    for name, syn in build_synapses(cfg).items():
        t = time.perf_counter()
        results[name] = evaluate(cfg, events, syn)
        timings[f"{name}_s"] = time.perf_counter() - t
    timings["wall_s"] = time.perf_counter() - t0
    return RRAMLSMResult(cfg.name, config_text, events, results, timings)


def save_rram_lsm(result: RRAMLSMResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (layout in the module docstring)."""
    final = Path(path)
    with create_result(final, TASK, result.config_text) as f:
        f.attrs["name"] = result.name
        write_section(f, "timing", result.timings)
        for src, res in result.sources.items():
            acc = f.create_group(f"accuracy/{src}")
            for key, ro in (("softmax", res.softmax), ("ridge", res.ridge)):
                acc.attrs.update({f"{key}_test": ro.test_accuracy,
                                  f"{key}_validation": ro.validation_accuracy,
                                  f"{key}_train": ro.train_accuracy})
            acc.attrs.update({"softmax_best_epoch": res.softmax.best_epoch,
                              "softmax_learning_rate": res.softmax.hyper,
                              "ridge_alpha": res.ridge.hyper, "mean_rate": res.mean_rate})
            for split, c in res.counts.items():
                f.create_dataset(f"features/{src}/{split}", data=c, compression="gzip",
                                 shuffle=True)
        for split in SPLITS:
            f.create_dataset(f"labels/{split}", data=result.data.labels[split])
            f.create_dataset(f"indices/{split}", data=result.data.indices[split])
    return final


def read_rram_lsm(rf: ResultFile) -> RRAMLSMResult:
    """The :class:`RRAMLSMResult` of an open result file (:func:`neurosim.io.load`)."""
    f = rf.file
    steps = load_config_text(rf.header.config, "saved run").encoder.steps
    sources = {}
    for src in f["accuracy"]:
        acc = scalar_attrs(f[f"accuracy/{src}"])
        softmax = ReadoutResult(acc["softmax_test"], acc["softmax_validation"],
                                acc["softmax_train"], int(acc["softmax_best_epoch"]), {},
                                float(acc.get("softmax_learning_rate", np.nan)))
        ridge = ReadoutResult(acc["ridge_test"], acc["ridge_validation"], acc["ridge_train"],
                              0, {}, float(acc["ridge_alpha"]))
        counts = {split: f[f"features/{src}/{split}"][()] for split in SPLITS}
        sources[src] = SourceResult(counts, softmax, ridge, steps)
    data = EventData({}, {s: f[f"labels/{s}"][()] for s in SPLITS},
                     {s: f[f"indices/{s}"][()] for s in SPLITS})
    return RRAMLSMResult(str(f.attrs["name"]), rf.header.config, data, sources,
                         rf.section("timing"))


def load_rram_lsm(path: str | os.PathLike) -> RRAMLSMResult:
    """A saved RRAM LSM run (:func:`read_rram_lsm`); another task's file is refused."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, read_rram_lsm, what="RRAM LSM")


def summary(cfg: RRAMLSMConfig, result: RRAMLSMResult, path: Path) -> str:
    """Software vs crossbar accuracies side by side, wall time, result path."""
    sw, xb = result.sources["software"], result.sources["crossbar"]
    t = result.timings
    n = {s: len(result.data.labels[s]) for s in SPLITS}
    mode = "ideal " if cfg.crossbar.ideal else ""
    lines = [
        f"{cfg.name}: {cfg.liquid.neurons} LIF neurons, {cfg.encoder.n_inputs} event inputs, "
        f"{cfg.encoder.steps} steps; {n['train']:,} train / {n['validation']:,} validation / "
        f"{n['test']:,} test samples; crossbar {mode}{cfg.crossbar.mode}",
        f"  {'test accuracy':<22}{'software':>10}{'crossbar':>10}",
        f"  {'softmax':<22}{100 * sw.softmax.test_accuracy:>9.2f}%"
        f"{100 * xb.softmax.test_accuracy:>9.2f}%",
        f"  {'ridge':<22}{100 * sw.ridge.test_accuracy:>9.2f}%"
        f"{100 * xb.ridge.test_accuracy:>9.2f}%",
        f"  {'spikes/neuron/step':<22}{sw.mean_rate:>10.3f}{xb.mean_rate:>10.3f}",
        f"  encoding {t['encode_s']:.1f} s, software liquid+readout {t['software_s']:.1f} s, "
        f"crossbar liquid+readout {t['crossbar_s']:.1f} s",
        f"  wall time {t['wall_s']:.1f} s",
        f"result: {path}",
    ]
    return "\n".join(lines)


def run_task(cfg: RRAMLSMConfig, *, output: str | None, threads: int | None, quiet: bool,
             plot: bool) -> str:
    """Run and save; returns the summary text (no plot: the numbers are the result)."""
    out = result_path(cfg, output)
    check_writable(out)
    result = run_rram_lsm(cfg, dump_config(cfg), threads=threads)
    return summary(cfg, result, save_rram_lsm(result, out))
