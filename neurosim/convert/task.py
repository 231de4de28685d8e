"""``neurosim convert`` (and ``neurosim run``) for ``task: convert``: train or load
the ANN, set the thresholds, run the converted network, save."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from neurosim.config import dump_config
from neurosim.config.convert import ConvertConfig
from neurosim.convert.ann import accuracy, build_ann, load_weights, train_ann
from neurosim.convert.energy import ann_counters, snn_counters
from neurosim.convert.normalise import thresholds
from neurosim.convert.result import ConvertResult, save_convert
from neurosim.convert.snn import ConvertedSNN, snn_accuracy
from neurosim.io import check_writable
from neurosim.threads import torch_threads
from neurosim.training.loop import load_samples


def convert(cfg: ConvertConfig, *, threads: int | None = None, quiet: bool = True
            ) -> ConvertResult:
    """Train (or load) the ANN, normalise, and measure the SNN at every step count."""
    with torch_threads(threads or cfg.threads):
        t0 = time.perf_counter()
        model = build_ann(cfg)
        if cfg.ann.weights is not None:
            load_weights(model, cfg.ann.weights)  # a misfit fails before any data is read
        samples = load_samples(cfg)
        t1 = time.perf_counter()
        history = {} if cfg.ann.weights is not None else train_ann(model, cfg, samples, quiet)
        t2 = time.perf_counter()
        size = cfg.ann.batch_size
        test = samples["test"]
        ann_accuracy = accuracy(model, test, size)
        calibration = samples["train"].images[:cfg.conversion.calibration]
        levels = thresholds(model, cfg.conversion.normalisation, calibration, size)
        t3 = time.perf_counter()
        snn = ConvertedSNN(model, levels, cfg.conversion.initial_membrane,
                           cfg.conversion.compile)
        by_steps, totals = snn_accuracy(snn, test.images, test.labels, cfg.conversion.steps, size)
        t4 = time.perf_counter()
        n, most = len(test.labels), max(cfg.conversion.steps)
        counters = {"snn": snn_counters(snn, tuple(test.images.shape[1:]), totals, n, most),
                    "ann": ann_counters(model, test.images, size)}
    return ConvertResult(
        name=cfg.name, config_text=dump_config(cfg),
        weights={k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
        thresholds=levels, history={k: np.array(v) for k, v in history.items()},
        ann_accuracy=ann_accuracy, steps=np.array(cfg.conversion.steps),
        snn_accuracy=np.array([by_steps[t] for t in cfg.conversion.steps]), firing_rates={name: float(t.sum()) / (t.numel() * most * n)
                                                       for name, t in totals.items()},
        counters=counters, test_samples=n,
        meta={"threads": threads or cfg.threads, "torch_version": str(torch.__version__),
              "weights_loaded": cfg.ann.weights is not None},
        timings={"setup_s": t1 - t0, "train_s": t2 - t1, "calibrate_s": t3 - t2,
                 "snn_s": t4 - t3, "wall_s": t4 - t0})


def describe(cfg: ConvertConfig) -> str:
    """``neurosim validate``'s text: the ANN and the conversion set-up."""
    kinds = "-".join(layer.type for layer in cfg.ann.layers.values())
    activation = (f"qcfs L={cfg.ann.levels}" if cfg.ann.activation == "qcfs" else "relu")
    norm = cfg.conversion.normalisation
    how = f"{norm.percentile:g} percentile" if norm.kind == "percentile" else norm.kind
    source = f"weights {cfg.ann.weights}" if cfg.ann.weights else f"{cfg.ann.epochs} epoch(s)"
    return (f"convert: {kinds} {activation} ANN ({source}), IF neurons with reset by "
            f"subtraction at the {how}, steps {'/'.join(map(str, cfg.conversion.steps))}")


def summary(result: ConvertResult, path: Path) -> str:
    """ANN accuracy, the SNN's against the steps, where the result went."""
    h = result.history
    lines = [f"{result.name}: ANN -> SNN conversion"]
    for e in range(len(h.get("loss", ()))):
        shown = (f", validation {100 * h['validation_accuracy'][e]:.2f}%"
                 if "validation_accuracy" in h else "")
        lines.append(f"  ANN epoch {e + 1}: loss {h['loss'][e]:.4f}, train "
                     f"{100 * h['train_accuracy'][e]:.2f}%{shown}, "
                     f"{h['samples_per_s'][e]:,.0f} samples/s")
    lines.append("  thresholds: " + ", ".join(f"{k} {v:.4g}" for k, v in result.thresholds.items()))
    lines.append(f"  ANN test accuracy {100 * result.ann_accuracy:.2f}%")
    lines.append("  steps   SNN test   vs ANN")
    for t, acc in zip(result.steps, result.snn_accuracy):
        lines.append(f"  {t:5d}   {100 * acc:7.2f}%  {100 * (acc - result.ann_accuracy):+6.2f}")
    lines.append("  firing rate (spikes/neuron/step): "
                 + ", ".join(f"{k} {v:.3f}" for k, v in result.firing_rates.items()))
    lines += [f"  wall time {result.timings['wall_s']:.1f} s", f"result: {path}"]
    return "\n".join(lines)


def run_task(cfg: ConvertConfig, *, output: str | None, threads: int | None, quiet: bool,
             plot: bool) -> str:
    """Convert and save; returns the summary text (no plot)."""
    out = Path(output) if output else Path(cfg.output.dir) / f"{cfg.name}.h5"
    check_writable(out)
    result = convert(cfg, threads=threads, quiet=quiet)
    return summary(result, save_convert(result, out))
