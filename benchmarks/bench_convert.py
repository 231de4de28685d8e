"""ANN -> SNN conversion: neurosim against SpikingJelly's ``ann2snn`` on the same trained ANN.

The built-in ``convert_fashion`` config (or another ``task: convert`` config
with a ReLU ANN) is run by neurosim: the ANN is trained (or loaded), its
thresholds set, and the converted network's test accuracy measured after
each step count.  Then SpikingJelly converts the very same ANN (neurosim's
trained weights, loaded into the same ``torch.nn.Sequential``):

- its ``RateCodingRecipe`` with the config's normalisation (``"99.9%"`` for
  ``percentile: 99.9``, ``"max"`` for ``max``), calibrated on the same
  training samples neurosim calibrated on, in batches of ``--calibration-batch``;
- its converted model stepped as its own example (``cnn_mnist.py``) does: the
  image in every step, the outputs summed over the steps, reset per batch.

Printed: per step count both test accuracies, their difference and ratio, and
the time each SNN evaluation took; with ``--zero-start`` neurosim also runs
with its membranes starting at 0 (SpikingJelly's start), which shows what the
half-threshold start contributes.  JSON to ``benchmarks/results/``.

SpikingJelly is a benchmark-only peer: ``pip install --no-deps spikingjelly``
(its dependency list would replace the CPU build of torch).

    python benchmarks/bench_convert.py                         # built-in config, full test set
    python benchmarks/bench_convert.py --set data.test=1000 --set ann.epochs=1
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from _results import write_result

from neurosim.config import load_config
from neurosim.convert.ann import build_ann
from neurosim.convert.snn import ConvertedSNN, snn_accuracy
from neurosim.convert.task import convert
from neurosim.training.loop import load_samples

RESULTS = Path(__file__).resolve().parent / "results"


def spikingjelly_mode(normalisation) -> str:
    """SpikingJelly's ``mode`` for a neurosim normalisation."""
    if normalisation.kind == "max":
        return "max"
    if normalisation.kind == "percentile":
        return f"{normalisation.percentile:g}%"
    raise SystemExit("bench_convert: SpikingJelly has no QCFS clip normalisation; "
                     "use a relu config with max or percentile")


@torch.no_grad()
def spikingjelly_accuracy(ann, calibration, batch, images, labels, steps, mode, test_batch):
    """SpikingJelly's converted ``ann``: accuracy after each of ``steps``, and seconds."""
    from spikingjelly.activation_based import ann2snn, functional

    loader = [calibration[i:i + batch] for i in range(0, len(calibration), batch)]
    recipe = ann2snn.RateCodingRecipe(dataloader=loader, mode=mode)
    snn = ann2snn.FXConverter(recipe=recipe, device="cpu").convert(copy.deepcopy(ann)).eval()
    hits = dict.fromkeys(steps, 0)
    start = time.perf_counter()
    for first in range(0, len(labels), test_batch):
        x, y = images[first:first + test_batch], labels[first:first + test_batch]
        functional.reset_net(snn)
        total = None
        for t in range(1, max(steps) + 1):
            out = snn(x)
            total = out if total is None else total + out
            if t in hits:
                hits[t] += int((total.argmax(1) == y).sum())
    return {t: hits[t] / len(labels) for t in steps}, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="convert_fashion")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY.PATH=VALUE", help="override a config value")
    parser.add_argument("--calibration-batch", type=int, default=100,
                        help="SpikingJelly's calibration batch (its hooks keep a running "
                             "percentile over batches; torch.quantile takes 2**24 values at most)")
    parser.add_argument("--zero-start", action="store_true",
                        help="also run neurosim with membranes starting at 0")
    parser.add_argument("--output", default=str(RESULTS / "bench_convert.json"))
    args = parser.parse_args()

    cfg = load_config(args.config, overrides=args.overrides)
    mode = spikingjelly_mode(cfg.conversion.normalisation)
    torch.set_num_threads(cfg.threads)
    steps = cfg.conversion.steps
    result = convert(cfg, quiet=False)
    ours = dict(zip(steps, result.snn_accuracy.tolist()))

    ann = build_ann(cfg)
    ann.load_state_dict({k: torch.from_numpy(v) for k, v in result.weights.items()})
    ann.eval()
    samples = load_samples(cfg)
    test = samples["test"]
    calibration = samples["train"].images[:cfg.conversion.calibration]
    theirs, their_s = spikingjelly_accuracy(ann, calibration, args.calibration_batch,
                                            test.images, test.labels, steps, mode,
                                            cfg.ann.batch_size)
    zero = None
    if args.zero_start:
        snn = ConvertedSNN(ann, result.thresholds, 0.0, cfg.conversion.compile)
        zero = snn_accuracy(snn, test.images, test.labels, steps, cfg.ann.batch_size)[0]

    print(f"\n{cfg.name}: ANN test accuracy {100 * result.ann_accuracy:.2f}% on "
          f"{len(test.labels)} samples; normalisation {mode}, {os.cpu_count()} cores, "
          f"{cfg.threads} thread(s), load {os.getloadavg()[0]:.1f}")
    head = f"{'steps':>6} {'neurosim':>9} {'SpikingJelly':>13} {'diff':>7} {'ratio':>6}"
    print(head + (f" {'neurosim u=0':>13}" if zero else ""))
    for t in steps:
        line = (f"{t:6d} {100 * ours[t]:8.2f}% {100 * theirs[t]:12.2f}% "
                f"{100 * (ours[t] - theirs[t]):+6.2f} {ours[t] / max(theirs[t], 1e-12):6.3f}")
        print(line + (f" {100 * zero[t]:12.2f}%" if zero else ""))
    ours_s = result.timings["snn_s"]
    print(f"SNN evaluation to {max(steps)} steps: neurosim {ours_s:.1f} s, SpikingJelly "
          f"{their_s:.1f} s ({their_s / ours_s:.2f}x)")
    within = [t for t in steps if t <= 32 and result.ann_accuracy - ours[t] <= 0.01]
    print(f"within 1 % of the ANN at <= 32 steps: {within or 'none'}; at least SpikingJelly's "
          f"at every count: {all(ours[t] >= theirs[t] for t in steps)}")

    from importlib.metadata import version

    write_result({
        "config": cfg.name, "overrides": args.overrides, "normalisation": mode,
        "machine": {"platform": platform.platform(), "cores": os.cpu_count(),
                    "threads": cfg.threads, "load_1min": os.getloadavg()[0]},
        "versions": {"torch": str(torch.__version__),
                     "spikingjelly": version("spikingjelly")},
        "ann_accuracy": result.ann_accuracy, "test_samples": len(test.labels),
        "thresholds": result.thresholds, "steps": steps,
        "neurosim_accuracy": [ours[t] for t in steps],
        "spikingjelly_accuracy": [theirs[t] for t in steps],
        "neurosim_zero_start_accuracy": [zero[t] for t in steps] if zero else None,
        "neurosim_snn_s": ours_s, "spikingjelly_snn_s": their_s,
        "neurosim_timings": result.timings,
    }, args.output, default=lambda x: x.item() if isinstance(x, np.generic) else str(x))
    print(f"json: {args.output}")


if __name__ == "__main__":
    main()
