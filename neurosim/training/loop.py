"""Training epochs, evaluation and checkpoints of a ``task: train`` config.

Everything random comes from named streams of the config's seed
(:mod:`neurosim.seeds`): the samples of each split, the initial weights, the
batch order of each epoch, the input spikes of each batch.  None of them
depends on what ran before, so training resumed from the checkpoint of epoch
``k`` goes on exactly as the run that never stopped: same batches, same
spikes, same weights.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from neurosim import seeds
from neurosim.config import dump_config, load_config_text
from neurosim.config.train import TrainConfig
from neurosim.data import load_fashion_mnist
from neurosim.errors import ConfigError, DataError
from neurosim.io.hdf5 import atomic_path
from neurosim.training.encoders import ENCODERS
from neurosim.training.model import SpikingNetwork

SPLITS = ("train", "validation", "test")
CHECKPOINT_FORMAT = "neurosim-train-checkpoint"
#: Keys a resumed run may change: they do not enter the weights of an epoch.
RESUMABLE_CHANGES = ("name", "description", "epochs", "threads", "output")


@dataclass(frozen=True)
class Samples:
    """Images ``(n, 1, 28, 28)`` scaled to [0, 1], labels ``(n,)`` and data-set indices."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: np.ndarray


def load_samples(cfg: TrainConfig) -> dict[str, Samples]:
    """The samples of every split: random subsets (seeded), in data-set order.

    Training samples come from the first 5/6 of the training file, validation
    samples from its last 1/6, test samples from the test file.
    """
    data = load_fashion_mnist(cfg.data.path)
    rng = seeds.generator(cfg.seed, seeds.TRAIN_SPLIT)
    n_file = len(data["train"].labels)
    n_fit = n_file - n_file // 6
    pools = {"train": np.arange(n_fit), "validation": np.arange(n_fit, n_file),
             "test": np.arange(len(data["test"].labels))}
    source = {"train": data["train"], "validation": data["train"], "test": data["test"]}
    out = {}
    for split in SPLITS:
        wanted = getattr(cfg.data, split)
        if wanted > len(pools[split]):
            raise DataError(f"data.{split} = {wanted} exceeds the {len(pools[split])} "
                            f"{split} images of the data set")
        idx = np.sort(rng.choice(pools[split], wanted, replace=False))
        images = torch.from_numpy(source[split].images[idx].astype(np.float32) / 255)
        out[split] = Samples(images.unsqueeze(1),
                             torch.from_numpy(source[split].labels[idx].astype(np.int64)), idx)
    return out


def make_optimizer(section, parameters) -> torch.optim.Optimizer:
    """The optimiser a config's ``optimizer:`` section names."""
    if section.kind == "adam":
        return torch.optim.Adam(parameters, lr=section.lr, betas=section.betas,
                                weight_decay=section.weight_decay)
    return torch.optim.SGD(parameters, lr=section.lr, momentum=section.momentum,
                           weight_decay=section.weight_decay)


def _per_step(membrane: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    # The mean over steps x samples, times the steps: the sum over steps of each step's mean.
    return F.cross_entropy(membrane.flatten(0, 1), labels.repeat(len(membrane))) * len(membrane)


#: Losses by their config name, of output spikes and membrane ``(steps, batch, classes)``.
LOSSES = {
    "rate": lambda spikes, membrane, labels: F.cross_entropy(spikes.sum(0), labels),
    "membrane": lambda spikes, membrane, labels: F.cross_entropy(membrane.sum(0), labels),
    "membrane_per_step": lambda spikes, membrane, labels: _per_step(membrane, labels),
}


def correct(scores: torch.Tensor, labels: torch.Tensor) -> int:
    """How many rows of ``scores`` have their largest entry at the label."""
    return int((scores.argmax(1) == labels).sum())


def encode(cfg: TrainConfig, images: torch.Tensor, split: str, epoch: int,
           batch: int) -> torch.Tensor:
    """The first layer's input for batch ``batch`` of ``split`` in ``epoch``: the
    encoder's output, its spikes (if any) from the stream of that batch alone."""
    key = seeds.stream_int(cfg.seed, seeds.TRAIN_INPUT_SPIKES, SPLITS.index(split), epoch, batch)
    return ENCODERS[cfg.encoding.kind](images, cfg.steps, torch.Generator().manual_seed(key))


class Trainer:
    """The network, its optimiser and the epochs done so far."""

    def __init__(self, cfg: TrainConfig, samples: dict[str, Samples]):
        self.cfg = cfg
        self.samples = samples
        weights = torch.Generator().manual_seed(seeds.stream_int(cfg.seed, seeds.TRAIN_WEIGHTS))
        self.model = SpikingNetwork(cfg, weights)
        self.optimizer = make_optimizer(cfg.optimizer, self.model.parameters())
        #: One entry per finished epoch (see :meth:`train_epoch`).
        self.history: list[dict[str, float]] = []

    def _inputs(self, images: torch.Tensor, split: str, epoch: int, batch: int) -> torch.Tensor:
        return encode(self.cfg, images, split, epoch, batch)

    def train_epoch(self, quiet: bool = True) -> dict[str, float]:
        """One pass over the training samples in this epoch's order; appends to
        :attr:`history` and returns its entry: mean ``loss``, ``train_accuracy`` (of
        the loss's readout), ``samples_per_s``, ``train_s`` and the validation
        accuracies ``validation_count`` / ``validation_membrane`` (NaN without
        validation samples)."""
        cfg, epoch = self.cfg, len(self.history)
        train = self.samples["train"]
        order = seeds.generator(cfg.seed, seeds.TRAIN_ORDER, epoch).permutation(len(train.labels))
        size = cfg.batch_size
        batches = len(order) // size  # an incomplete last batch is left out, as snnTorch's tutorial does
        readout = 0 if cfg.loss == "rate" else 1
        total_loss, hits = 0.0, 0
        self.model.train()
        bar = tqdm(total=batches * size, unit="sample", unit_scale=True, leave=True,
                   desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=True if quiet else None)
        start = time.perf_counter()
        with bar:
            for b in range(batches):
                idx = torch.from_numpy(order[b * size:(b + 1) * size])
                labels = train.labels[idx]
                out = self.model(self._inputs(train.images[idx], "train", epoch, b))
                loss = LOSSES[cfg.loss](*out, labels)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                total_loss += loss.item()
                hits += correct(out[readout].detach().sum(0), labels)
                bar.update(size)
                seen = (b + 1) * size
                bar.set_postfix(loss=f"{total_loss / (b + 1):.3f}", acc=f"{hits / seen:.1%}",
                                refresh=False)
        train_s = time.perf_counter() - start
        count, membrane = self.evaluate("validation", epoch)
        record = {"loss": total_loss / max(batches, 1),
                  "train_accuracy": hits / max(batches * size, 1),
                  "validation_count": count, "validation_membrane": membrane,
                  "samples_per_s": batches * size / train_s, "train_s": train_s}
        self.history.append(record)
        return record

    @torch.no_grad()
    def evaluate(self, split: str, epoch: int = 0) -> tuple[float, float]:
        """Accuracy on a split by output spike count and by summed output membrane
        (NaN for an empty split)."""
        data = self.samples[split]
        n = len(data.labels)
        if n == 0:
            return math.nan, math.nan
        self.model.eval()
        size = self.cfg.batch_size
        by_count = by_membrane = 0
        for b, first in enumerate(range(0, n, size)):
            images = data.images[first:first + size]
            labels = data.labels[first:first + size]
            # Padded to a full batch: a compiled step then never meets a new shape.
            pad = size - len(labels)
            if pad:
                images = torch.cat([images, images.new_zeros((pad, *images.shape[1:]))])
            spikes, membrane = self.model(self._inputs(images, split, epoch, b))
            k = len(labels)
            by_count += correct(spikes[:, :k].sum(0), labels)
            by_membrane += correct(membrane[:, :k].sum(0), labels)
        return by_count / n, by_membrane / n

    def state(self) -> dict:
        """What a checkpoint holds: config, epochs done, weights, optimiser, history."""
        return {"format": CHECKPOINT_FORMAT, "format_version": 1,
                "config": dump_config(self.cfg), "epochs_done": len(self.history),
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "history": list(self.history)}

    def restore(self, state: dict, source: str) -> None:
        """Continue from :meth:`state` (read from ``source``); a checkpoint of
        another network or training set-up is one :class:`ConfigError`."""
        theirs = load_config_text(state["config"], "checkpoint")
        changed = _differences(theirs, self.cfg)
        if changed:
            raise ConfigError(f"checkpoint {source} was written for a different training run: "
                              + "; ".join(changed) + " (only "
                              + ", ".join(RESUMABLE_CHANGES) + " may change on --resume)")
        if state["epochs_done"] > self.cfg.epochs:
            raise ConfigError(f"checkpoint {source} has {state['epochs_done']} epochs done, "
                              f"more than epochs = {self.cfg.epochs}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = list(state["history"])


def _differences(a: TrainConfig, b: TrainConfig) -> list[str]:
    """``key: checkpoint X, config Y`` for every setting that differs (flat key paths)."""
    flat_a, flat_b = (_flatten(c.model_dump(mode="json", exclude=set(RESUMABLE_CHANGES)))
                      for c in (a, b))
    return [f"{key}: checkpoint {flat_a.get(key)!r}, config {flat_b.get(key)!r}"
            for key in sorted(set(flat_a) | set(flat_b)) if flat_a.get(key) != flat_b.get(key)]


def _flatten(tree, prefix: str = "") -> dict[str, object]:
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list):
        items = enumerate(tree)
    else:
        return {prefix: tree}
    out = {}
    for key, value in items:
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def save_checkpoint(trainer: Trainer, path: str | os.PathLike) -> None:
    """Write the trainer's state atomically (a temporary file, then renamed)."""
    with atomic_path(path) as tmp:
        torch.save(trainer.state(), tmp)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint back (tensors and plain values only: nothing in it is executed)."""
    try:
        state = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise DataError(f"no checkpoint to resume from: {path} does not exist") from None
    except Exception as err:  # torch raises many kinds on a damaged or foreign file
        raise DataError(f"cannot read checkpoint {path}: {err}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"{path} is not a neurosim training checkpoint")
    return state
