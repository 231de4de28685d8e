"""The result of ``task: train``: the trained weights, the config, accuracies per epoch.

HDF5 layout (``format = "neurosim-train-result"``, ``format_version = 1``; the
root header and the ``meta.`` / ``timing.`` sections are the convention of
:mod:`neurosim.io.hdf5`)::

    /                  attrs: header, name, meta.<key>, timing.<key>
    /weights/<name>    every trained tensor, named as the network's parameters
                       (layers.<layer>.weight, .bias, .recurrent)
    /history/<key>     one value per epoch: loss, train_accuracy, validation_count,
                       validation_membrane, samples_per_s, train_s
    /test              attrs: accuracy_count, accuracy_membrane (by output spike
                       count, by summed output membrane)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.io.hdf5 import (ResultFile, create_result, open_result, read_parts, scalar_attrs,
                              write_section)

TASK = "train"


@dataclass
class TrainResult:
    """A trained network and how it got there."""

    name: str
    config_text: str
    #: Trained tensors by parameter name.
    weights: dict[str, np.ndarray]
    #: Per-epoch arrays (keys in the module docstring).
    history: dict[str, np.ndarray]
    #: Test accuracies ``accuracy_count`` and ``accuracy_membrane``.
    test: dict[str, float]
    meta: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def write_network(f, result) -> None:
    """The parts every trained network's file has: the name, ``meta.`` / ``timing.``
    and ``/weights`` (of a :class:`TrainResult`, or of a converted network's result)."""
    f.attrs["name"] = result.name
    write_section(f, "meta", result.meta)
    write_section(f, "timing", result.timings)
    for name, values in result.weights.items():
        f.create_dataset(f"weights/{name}", data=values)


def save_train(result: TrainResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (layout in the module docstring)."""
    final = Path(path)
    with create_result(final, TASK, result.config_text) as f:
        write_network(f, result)
        for key, values in result.history.items():
            f.create_dataset(f"history/{key}", data=values)
        f.create_group("test").attrs.update(result.test)
    return final


def read_train(rf: ResultFile) -> TrainResult:
    """The :class:`TrainResult` of an open result file (:func:`neurosim.io.load`)."""
    f = rf.file
    return TrainResult(
        name=str(f.attrs["name"]), config_text=rf.header.config,
        weights={name: f[f"weights/{name}"][()] for name in f["weights"]},
        history={key: f[f"history/{key}"][()] for key in f["history"]},
        test=scalar_attrs(f["test"]), meta=rf.section("meta"), timings=rf.section("timing"))


def load_train(path: str | os.PathLike) -> TrainResult:
    """A saved training result (:func:`read_train`); another task's file is refused."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, read_train, what="training")
