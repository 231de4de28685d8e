"""The result of ``task: convert``: the ANN, its thresholds, and the accuracy of
the converted network against the number of steps.

HDF5 layout (``format = "neurosim-convert-result"``, ``format_version = 1``; the
root header and the ``meta.`` / ``timing.`` sections are the convention of
:mod:`neurosim.io.hdf5`)::

    /                  attrs: header, name, meta.<key>, timing.<key>
    /weights/<name>    the ANN's tensors (its state dict: conv1.weight, conv1_act.clip ...)
    /thresholds        attrs: the IF threshold of each activated layer, by layer name
    /history/<key>     one value per training epoch (none for loaded weights): loss,
                       train_accuracy, validation_accuracy (with validation samples),
                       samples_per_s
    /ann               attrs: test_accuracy
    /snn/steps         the step counts, increasing
    /snn/accuracy      the converted network's test accuracy after each
    /snn/firing_rate   attrs: spikes per neuron and step of each layer, over the most steps
    /counters/<net>/<kind>/<name>   attrs: one int64 per counter, <net> snn (over the
                       most steps) or ann, both over the test samples
                       (:mod:`neurosim.convert.energy`); root attr test_samples
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.io.hdf5 import ResultFile, create_result, open_result, read_parts, scalar_attrs
from neurosim.training.result import write_network

TASK = "convert"


@dataclass
class ConvertResult:
    """A converted network and how well it does at each number of steps."""

    name: str
    config_text: str
    #: The ANN's state dict as arrays.
    weights: dict[str, np.ndarray]
    #: IF threshold of each activated layer.
    thresholds: dict[str, float]
    #: Per-epoch training arrays (empty for loaded weights).
    history: dict[str, np.ndarray]
    ann_accuracy: float
    steps: np.ndarray
    snn_accuracy: np.ndarray
    firing_rates: dict[str, float]
    #: ``{"snn": counters, "ann": counters}`` on the test samples (``Result.counters`` layout).
    counters: dict[str, dict] = field(default_factory=dict)
    #: How many samples the counters cover.
    test_samples: int = 0
    meta: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def save_convert(result: ConvertResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (layout in the module docstring)."""
    final = Path(path)
    with create_result(final, TASK, result.config_text) as f:
        write_network(f, result)
        f.create_group("thresholds").attrs.update(result.thresholds)
        history = f.create_group("history")
        for key, values in result.history.items():
            history.create_dataset(key, data=values)
        f.create_group("ann").attrs["test_accuracy"] = result.ann_accuracy
        snn = f.create_group("snn")
        snn.create_dataset("steps", data=result.steps)
        snn.create_dataset("accuracy", data=result.snn_accuracy)
        snn.create_group("firing_rate").attrs.update(result.firing_rates)
        f.attrs["test_samples"] = result.test_samples
        for net, counters in result.counters.items():
            for kind, rows in counters.items():
                group = f.create_group(f"counters/{net}/{kind}")  # kept when empty
                for name, row in rows.items():
                    group.create_group(name).attrs.update(
                        {key: np.int64(value) for key, value in row.items()})
    return final


def read_convert(rf: ResultFile) -> ConvertResult:
    """The :class:`ConvertResult` of an open result file (:func:`neurosim.io.load`)."""
    f = rf.file
    return ConvertResult(
        name=str(f.attrs["name"]), config_text=rf.header.config,
        weights={name: f[f"weights/{name}"][()] for name in f["weights"]},
        thresholds=scalar_attrs(f["thresholds"]),
        history={key: f[f"history/{key}"][()] for key in f["history"]},
        ann_accuracy=float(f["ann"].attrs["test_accuracy"]),
        steps=f["snn/steps"][()], snn_accuracy=f["snn/accuracy"][()],
        firing_rates=scalar_attrs(f["snn/firing_rate"]),
        counters={net: {kind: {name: scalar_attrs(group) for name, group in rows.items()}
                        for kind, rows in kinds.items()}
                  for net, kinds in f["counters"].items()} if "counters" in f else {},
        test_samples=int(f.attrs.get("test_samples", 0)),
        meta=rf.section("meta"), timings=rf.section("timing"))


def load_convert(path: str | os.PathLike) -> ConvertResult:
    """A saved conversion result (:func:`read_convert`); another task's file is refused."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, read_convert, what="conversion")
