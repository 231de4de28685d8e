"""HDF5 files of LSM runs: accuracies, branching factors, features, config.

Layout (``format = "neurosim-lsm-result"``, ``format_version = 2``; the root
header, the ``timing.``/``counter.`` sections and ``/energy`` are the
convention of :mod:`neurosim.io.hdf5`)::

    /                          attrs: header, name, timing.<key>, counter.<key>
    /accuracy                  attrs: softmax_test, softmax_validation, softmax_train,
                                      softmax_best_epoch, softmax_learning_rate,
                                      ridge_test, ridge_validation, ridge_train,
                                      ridge_alpha, branching_factor (absent
                                      where no recorded test sample has one)
    /readout/softmax/<split>   accuracy per epoch
    /branching                 branching factor of each recorded test sample that
                               has one (:mod:`neurosim.reservoir.branching`)
    /features/<split>/counts   liquid spike counts (uint16); features = counts / row sum
    /features/<split>/labels, /features/<split>/indices
    /liquid/w_ini              weights after initialisation (CSR order)
    /liquid/pre_ptr, /liquid/post   the synapses (CSR by presynaptic neuron)
    /energy/<profile>          attrs: energy per sample etc. (``energy:`` in the config)
    /recorded/ptr, /recorded/step, /recorded/neuron
                               spikes of the recorded test samples, liquid and
                               input neurons (:class:`RecordedSpikes`)

``counter.<key>`` holds the work counted per phase (``init_`` prefix: the
initialisation): spikes, synaptic events by projection, STDP weight updates
(:mod:`neurosim.reservoir.energy` prices them with hardware profiles).
Version 1 lacked the common header and ``softmax_learning_rate`` (read back
as NaN); it reads the same otherwise.

The counts are enough to retrain any readout without simulating again
(:func:`load_features`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neurosim.errors import DataError
from neurosim.io.hdf5 import (ResultFile, create_result, open_result, read_energy, read_parts,
                              scalar_attrs, write_energy, write_section)
from neurosim.reservoir.branching import defined
from neurosim.reservoir.pipeline import SPLITS, LSMResult, RecordedSpikes, SplitFeatures
from neurosim.reservoir.readout import ReadoutResult
from neurosim.tasks import TASKS

if TYPE_CHECKING:
    from neurosim.reservoir.energy import LSMActivity

TASK = "lsm_classification"
FORMAT = TASKS[TASK].result_format
FORMAT_VERSION = TASKS[TASK].result_version


def save_lsm(result: LSMResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (parent folders created)."""
    final = Path(path)
    with create_result(final, TASK, result.config_text) as f:
        f.attrs["name"] = result.name
        write_section(f, "timing", result.timings)
        write_section(f, "counter", result.counters)
        acc = f.create_group("accuracy")
        for key, ro in (("softmax", result.softmax), ("ridge", result.ridge)):
            acc.attrs.update({f"{key}_test": ro.test_accuracy,
                              f"{key}_validation": ro.validation_accuracy,
                              f"{key}_train": ro.train_accuracy})
        acc.attrs["softmax_best_epoch"] = result.softmax.best_epoch
        acc.attrs["softmax_learning_rate"] = result.softmax.hyper
        acc.attrs["ridge_alpha"] = result.ridge.hyper
        if result.branching_factor is not None:
            acc.attrs["branching_factor"] = result.branching_factor
        for split, curve in result.softmax.curves.items():
            f.create_dataset(f"readout/softmax/{split}", data=curve)
        f.create_dataset("branching", data=result.branching)
        for split, feat in result.features.items():
            rows, cols = feat.counts.shape
            chunks = (min(rows, 1024), cols) if feat.counts.size else None
            f.create_dataset(f"features/{split}/counts", data=feat.counts, compression="gzip",
                             shuffle=True, chunks=chunks)
            f.create_dataset(f"features/{split}/labels", data=feat.labels)
            f.create_dataset(f"features/{split}/indices", data=feat.indices)
        f.create_dataset("liquid/w_ini", data=result.w_ini, compression="gzip")
        if result.structure is not None:
            for key, data in zip(("pre_ptr", "post"), result.structure, strict=True):
                f.create_dataset(f"liquid/{key}", data=data, compression="gzip")
        write_energy(f, result.energy)
        if result.recorded is not None:
            for key in ("ptr", "step", "neuron"):
                f.create_dataset(f"recorded/{key}", data=getattr(result.recorded, key),
                                 compression="gzip")
    return final


def read_lsm(rf: ResultFile, features: bool = True) -> LSMResult:
    """The :class:`LSMResult` of an open LSM result file (:func:`neurosim.io.load`).

    ``features=False`` leaves :attr:`LSMResult.features` empty: the spike counts
    are the bulk of a file, and a figure or a summary needs none of them.
    """
    f = rf.file
    acc = scalar_attrs(f["accuracy"])
    curves = {split: curve[()] for split, curve in f.get("readout/softmax", {}).items()}
    softmax = ReadoutResult(acc["softmax_test"], acc["softmax_validation"], acc["softmax_train"],
                            int(acc["softmax_best_epoch"]), curves,
                            float(acc.get("softmax_learning_rate", np.nan)))
    ridge = ReadoutResult(acc["ridge_test"], acc["ridge_validation"], acc["ridge_train"], 0, {},
                          float(acc["ridge_alpha"]))
    w_ini = f["liquid/w_ini"][()]
    structure = ((f["liquid/pre_ptr"][()], f["liquid/post"][()]) if "liquid/pre_ptr" in f
                 else None)
    return LSMResult(
        name=str(f.attrs["name"]), config_text=rf.header.config,
        features=_features(f) if features else {}, softmax=softmax, ridge=ridge,
        branching=defined(f["branching"][()]), w_ini=w_ini, n_synapses=int(w_ini.size),
        timings=rf.section("timing"),
        counters={key: int(value) for key, value in rf.section("counter").items()},
        recorded=_recorded(f), structure=structure, energy=read_energy(f))


def load_lsm(path: str | os.PathLike, *, features: bool = True) -> LSMResult:
    """A saved LSM run (:func:`read_lsm`); another task's file is refused."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, read_lsm, features, what="LSM")


def plot_file(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """``neurosim plot`` of a saved LSM run: readout curves and branching factors."""
    from neurosim.reservoir.plots import plot_lsm

    return plot_lsm(load_lsm(path, features=False), out)


def load_activity(path: str | os.PathLike) -> LSMActivity:
    """The counters, synapses and recorded spikes of a saved run."""
    from neurosim.reservoir.energy import LSMActivity  # matplotlib: not before a run's guard

    with open_result(path, TASK) as rf:
        f = rf.file
        counters = {k: int(v) for k, v in rf.section("counter").items()}
        if "liquid/pre_ptr" not in f or "liquid_neurons" not in counters:
            raise DataError(f"{str(path)!r} was written before LSM results held their "
                            "synapses and counts by projection: run it again for energy")
        return LSMActivity.from_parts(counters, rf.header.config, f["liquid/pre_ptr"][()],
                                      f["liquid/post"][()], _recorded(f))


def load_features(path: str | os.PathLike) -> dict[str, SplitFeatures]:
    """The spike counts, labels and indices of every split of a saved run."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, lambda rf: _features(rf.file), what="LSM")


def load_summary(path: str | os.PathLike) -> dict[str, float]:
    """Accuracies and branching factor of a saved run."""
    with open_result(path, TASK) as rf:
        if "accuracy" not in rf.file:
            raise DataError(f"cannot read the accuracies of {str(path)!r}: no /accuracy")
        return scalar_attrs(rf.file["accuracy"])


def _features(f) -> dict[str, SplitFeatures]:
    return {s: SplitFeatures(f[f"features/{s}/counts"][()], f[f"features/{s}/labels"][()],
                             f[f"features/{s}/indices"][()]) for s in SPLITS}


def _recorded(f) -> RecordedSpikes | None:
    if "recorded" not in f:
        return None
    return RecordedSpikes(*(f[f"recorded/{k}"][()] for k in ("ptr", "step", "neuron")))
