r"""The ANN of a ``task: convert`` config: built, trained or loaded, evaluated.

The ANN is a plain ``torch.nn.Sequential`` of torch's own layers (so any torch
tool, SpikingJelly's converter among them, takes it as it is), its modules
named after the config's layers, each activation after its layer
(``conv1``, ``conv1_act``, ...).  The QCFS activation (Bu et al. 2022,
"Optimal ANN-SNN conversion for high-accuracy and ultra-low-latency spiking
neural networks") is

.. math::

    h(x) = \lambda\, \mathrm{clamp}\!\left(\frac{1}{L}\left\lfloor \frac{x L}{\lambda}
           + \frac{1}{2} \right\rfloor, 0, 1\right)

with a trained clip value :math:`\lambda` per layer and ``L`` levels: what an
IF neuron of threshold :math:`\lambda`, started at :math:`\lambda / 2`, gives
after ``L`` steps of a constant input.  The floor passes its gradient
straight through.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from neurosim import seeds
from neurosim.config.convert import (ACTIVATION_SUFFIX, AvgPool2d, Conv2d, ConvertConfig,
                                     Flatten)
from neurosim.errors import ConfigError, DataError
from neurosim.training.loop import Samples, correct, make_optimizer


class QCFS(torch.nn.Module):
    """Quantised clip-floor-shift activation with a trained clip value (module docstring)."""

    def __init__(self, levels: int, initial_clip: float):
        super().__init__()
        self.levels = levels
        self.clip = torch.nn.Parameter(torch.tensor(float(initial_clip)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled = x * (self.levels / self.clip) + 0.5
        floored = scaled + (torch.floor(scaled) - scaled).detach()  # straight-through floor
        return torch.clamp(floored / self.levels, 0, 1) * self.clip


def build_ann(cfg: ConvertConfig) -> torch.nn.Sequential:
    """The config's ANN with torch's default initial weights, drawn from the seed's
    initial-weight stream (whatever torch drew before)."""
    ann = cfg.ann
    activated = set(ann.activated())
    modules: OrderedDict[str, torch.nn.Module] = OrderedDict()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds.stream_int(cfg.seed, seeds.TRAIN_WEIGHTS))
        for name, layer in ann.layers.items():
            if isinstance(layer, Conv2d):
                modules[name] = torch.nn.Conv2d(layer.in_channels, layer.out_channels,
                                                layer.kernel_size, layer.stride, layer.padding,
                                                bias=layer.bias)
            elif isinstance(layer, AvgPool2d):
                modules[name] = torch.nn.AvgPool2d(layer.kernel_size, layer.stride)
            elif isinstance(layer, Flatten):
                modules[name] = torch.nn.Flatten()
            else:
                modules[name] = torch.nn.Linear(layer.in_features, layer.out_features,
                                                bias=layer.bias)
            if name in activated:
                modules[name + ACTIVATION_SUFFIX] = (
                    QCFS(ann.levels, ann.initial_clip) if ann.activation == "qcfs"
                    else torch.nn.ReLU())
    return torch.nn.Sequential(modules)


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def load_weights(model: torch.nn.Sequential, path: str | os.PathLike) -> None:
    """Load a torch state-dict file into ``model``; one :class:`DataError` for a file
    that is no state dict, one :class:`ConfigError` for one that does not fit."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"ann.weights: {path}: no such file")
    try:  # weights_only: tensors and containers, never arbitrary pickled objects
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors alike
        raise DataError(f"ann.weights: {path} is not a torch state-dict file "
                        f"({type(err).__name__}: {str(err).splitlines()[0]})") from None
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise DataError(f"ann.weights: {path} holds a {type(state).__name__}, not a state dict "
                        "(tensors by name, as torch.save(model.state_dict(), path) writes)")
    expected = model.state_dict()
    problems = [f"missing {key} ({_shape(value)})" for key, value in expected.items()
                if key not in state]
    problems += [f"{key} is {_shape(state[key])}, the config's is {_shape(value)}"
                 for key, value in expected.items()
                 if key in state and state[key].shape != value.shape]
    unexpected = [key for key in state if key not in expected]
    if unexpected:
        hint = (" (batch normalisation is not converted: fold it into the layer before)"
                if any(k.endswith(("running_mean", "running_var")) for k in unexpected) else "")
        problems.append(f"unexpected {', '.join(unexpected)}{hint}")
    if problems:
        raise ConfigError(f"ann.weights: {path} does not fit ann.layers: " + "; ".join(problems))
    model.load_state_dict({key: value.to(expected[key].dtype) for key, value in state.items()})


@torch.no_grad()
def accuracy(model: torch.nn.Module, samples: Samples, batch_size: int) -> float:
    """Fraction of ``samples`` whose largest output is at the label."""
    model.eval()
    hits = sum(correct(model(samples.images[i:i + batch_size]), samples.labels[i:i + batch_size])
               for i in range(0, len(samples.labels), batch_size))
    return hits / len(samples.labels)


def train_ann(model: torch.nn.Sequential, cfg: ConvertConfig, samples: dict[str, Samples],
              quiet: bool = True) -> dict[str, list[float]]:
    """Train with cross-entropy, in each epoch's seeded order; per epoch: ``loss``,
    ``train_accuracy``, ``validation_accuracy`` (left out without validation
    samples), ``samples_per_s``."""
    ann = cfg.ann
    optimizer = make_optimizer(ann.optimizer, model.parameters())
    train = samples["train"]
    validation = samples["validation"]
    keys = ["loss", "train_accuracy"] + ["validation_accuracy"] * bool(len(validation.labels))
    history: dict[str, list[float]] = {key: [] for key in keys + ["samples_per_s"]}
    size = ann.batch_size
    batches = len(train.labels) // size  # an incomplete last batch is left out
    for epoch in range(ann.epochs):
        order = torch.from_numpy(
            seeds.generator(cfg.seed, seeds.TRAIN_ORDER, epoch).permutation(len(train.labels)))
        model.train()
        total, hits = 0.0, 0
        start = time.perf_counter()
        with tqdm(total=batches * size, unit="sample", unit_scale=True, leave=True,
                  desc=f"ANN epoch {epoch + 1}/{ann.epochs}", disable=True if quiet else None) as bar:
            for b in range(batches):
                idx = order[b * size:(b + 1) * size]
                labels = train.labels[idx]
                out = model(train.images[idx])
                loss = F.cross_entropy(out, labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item()
                hits += correct(out.detach(), labels)
                bar.update(size)
                bar.set_postfix(loss=f"{total / (b + 1):.3f}",
                                acc=f"{hits / ((b + 1) * size):.1%}", refresh=False)
        elapsed = time.perf_counter() - start
        history["loss"].append(total / max(batches, 1))
        history["train_accuracy"].append(hits / max(batches * size, 1))
        if "validation_accuracy" in history:
            history["validation_accuracy"].append(accuracy(model, validation, size))
        history["samples_per_s"].append(batches * size / elapsed)
    return history
