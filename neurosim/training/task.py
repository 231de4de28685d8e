"""``neurosim train`` (and ``neurosim run``) for ``task: train``: train, checkpoint, save.

The checkpoint of every finished epoch goes next to the result file
(``<result>.ckpt``, written atomically); ``resume`` continues from it: after
a killed run, or with more ``epochs`` after a finished one (so it stays).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from neurosim.config import dump_config
from neurosim.config.train import TrainConfig
from neurosim.io import check_writable
from neurosim.io.checkpoint import checkpoint_path
from neurosim.network.memory import check_fits
from neurosim.threads import torch_threads
from neurosim.training.loop import Trainer, load_samples, read_checkpoint, save_checkpoint
from neurosim.training.result import TrainResult, save_train


def training_bytes(cfg: TrainConfig) -> int:
    """Peak bytes of one training step of ``cfg``, from its sizes alone.

    The backward pass holds about 24 bytes per neuron, step and sample (the
    membrane, current and spikes of every step; ``bench_train_memory.py``
    measured 20-22); with ``recompute_steps`` k, spikes as bytes, the layer
    state every k steps and k steps at a time.  Input drawn per step (rate
    codes) adds 8 bytes per pixel, step and sample; Adam 16 per weight.
    """
    sizes = cfg.sizes()
    neurons, rows = sum(sizes[1:]), cfg.steps * cfg.batch_size
    k = cfg.recompute_steps
    held = (rows * neurons * 24 if k is None else
            rows * neurons + cfg.batch_size * neurons * (16 * (-(-cfg.steps // k)) + 24 * k))
    per_step_input = cfg.encoding.kind != "constant_current"
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return held + per_step_input * rows * sizes[0] * 8 + 16 * weights


def train(cfg: TrainConfig, *, result_path: Path, threads: int | None = None,
          quiet: bool = True, resume: bool = False) -> TrainResult:
    """Train ``cfg`` (from its checkpoint if ``resume``), checkpointing every
    epoch, and evaluate on the test samples."""
    check_fits(training_bytes(cfg), f"training '{cfg.name}' ({cfg.steps} steps x batch "
               f"{cfg.batch_size}, {'-'.join(map(str, cfg.sizes()))})",
               remedy="use fewer steps or a smaller batch, or set recompute_steps")
    ckpt = checkpoint_path(result_path)
    state = read_checkpoint(ckpt) if resume else None  # a missing one fails before any work
    with torch_threads(threads or cfg.threads):
        t0 = time.perf_counter()
        trainer = Trainer(cfg, load_samples(cfg))
        if state is not None:
            trainer.restore(state, str(ckpt))
        t1 = time.perf_counter()
        while len(trainer.history) < cfg.epochs:
            trainer.train_epoch(quiet)
            save_checkpoint(trainer, ckpt)
        t2 = time.perf_counter()
        count, membrane = trainer.evaluate("test")
        t3 = time.perf_counter()
    history = {key: np.array([h[key] for h in trainer.history]) for key in trainer.history[0]}
    weights = {name: p.detach().numpy().copy() for name, p in trainer.model.state_dict().items()}
    meta = {"threads": threads or cfg.threads, "torch_version": str(torch.__version__),
            "resumed_from_epoch": state["epochs_done"] if state else 0}
    return TrainResult(cfg.name, dump_config(cfg), weights, history,
                       {"accuracy_count": count, "accuracy_membrane": membrane}, meta,
                       {"setup_s": t1 - t0, "train_s": t2 - t1, "test_s": t3 - t2,
                        "wall_s": t3 - t0})


def describe(cfg: TrainConfig) -> str:
    """``neurosim validate``'s text: the network and the training set-up."""
    kinds = sorted({cfg.network.neuron_of(layer).model for layer in cfg.linear_layers()})
    recurrent = " recurrent" if any(layer.recurrent for layer in cfg.linear_layers()) else ""
    return (f"train: {'-'.join(map(str, cfg.sizes()))}{recurrent} {'/'.join(kinds)}, "
            f"{cfg.steps} steps, {cfg.encoding.kind}, {cfg.loss} loss, "
            f"{cfg.optimizer.kind} lr {cfg.optimizer.lr:g}, {cfg.epochs} epoch(s)")


def summary(result: TrainResult, path: Path) -> str:
    """Accuracies per epoch, test accuracy, where the result went."""
    h = result.history
    lines = [f"{result.name}: {len(h['loss'])} epoch(s)"]
    for e in range(len(h["loss"])):
        lines.append(f"  epoch {e + 1}: loss {h['loss'][e]:.4f}, train "
                     f"{100 * h['train_accuracy'][e]:.2f}%, validation "
                     f"{100 * h['validation_count'][e]:.2f}% (count) / "
                     f"{100 * h['validation_membrane'][e]:.2f}% (membrane), "
                     f"{h['samples_per_s'][e]:,.0f} samples/s")
    lines += [f"  test accuracy {100 * result.test['accuracy_count']:.2f}% by spike count, "
              f"{100 * result.test['accuracy_membrane']:.2f}% by summed membrane",
              f"  wall time {result.timings['wall_s']:.1f} s",
              f"result: {path}"]
    return "\n".join(lines)


def train_task(cfg: TrainConfig, *, output: str | None, threads: int | None, quiet: bool,
               resume: bool = False) -> str:
    """Train and save; returns the summary text."""
    out = Path(output) if output else Path(cfg.output.dir) / f"{cfg.name}.h5"
    check_writable(out)
    result = train(cfg, result_path=out, threads=threads, quiet=quiet, resume=resume)
    return summary(result, save_train(result, out))


def run_task(cfg: TrainConfig, *, output: str | None, threads: int | None, quiet: bool,
             plot: bool) -> str:
    """``neurosim run`` of a training config: train from the start (no plot)."""
    return train_task(cfg, output=output, threads=threads, quiet=quiet)
