"""HDF5 files of LSM runs: accuracies, branching factors, features, config.

Layout (``format = "neurosim-lsm-result"``, ``format_version = 1``)::

    /                          attrs: format, format_version, name, config,
                                      timing.<key>, counter.<key>
    /accuracy                  attrs: softmax_test, softmax_validation, softmax_train,
                                      softmax_best_epoch, ridge_test, ridge_validation,
                                      ridge_train, ridge_alpha, branching_factor
    /readout/softmax/<split>   accuracy per epoch
    /branching                 branching factor per recorded test sample
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

The counts are enough to retrain any readout without simulating again
(:func:`load_features`).
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py

from neurosim.errors import DataError
from neurosim.io.hdf5 import atomic_path
from neurosim.reservoir.energy import LSMActivity
from neurosim.reservoir.pipeline import SPLITS, LSMResult, RecordedSpikes, SplitFeatures

FORMAT = "neurosim-lsm-result"
FORMAT_VERSION = 1


def save_lsm(result: LSMResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (parent folders created)."""
    final = Path(path)
    with atomic_path(final) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        f.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION,
                        "name": result.name, "config": result.config_text})
        f.attrs.update({f"timing.{k}": v for k, v in result.timings.items()})
        f.attrs.update({f"counter.{k}": v for k, v in result.counters.items()})
        acc = f.create_group("accuracy")
        for key, ro in (("softmax", result.softmax), ("ridge", result.ridge)):
            acc.attrs.update({f"{key}_test": ro.test_accuracy,
                              f"{key}_validation": ro.validation_accuracy,
                              f"{key}_train": ro.train_accuracy})
        acc.attrs["softmax_best_epoch"] = result.softmax.best_epoch
        acc.attrs["ridge_alpha"] = result.ridge.hyper
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
        for profile, numbers in result.energy.items():
            f.require_group(f"energy/{profile}").attrs.update(numbers)
        if result.recorded is not None:
            for key in ("ptr", "step", "neuron"):
                f.create_dataset(f"recorded/{key}", data=getattr(result.recorded, key),
                                 compression="gzip")
    return final


def load_activity(path: str | os.PathLike) -> LSMActivity:
    """The counters, synapses and recorded spikes of a saved run."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise DataError(f"{str(path)!r} is not an LSM result file")
            counters = {k[len("counter."):]: int(v) for k, v in f.attrs.items()
                        if k.startswith("counter.")}
            if "liquid/pre_ptr" not in f or "counter.liquid_neurons" not in f.attrs:
                raise DataError(f"{str(path)!r} was written before LSM results held their "
                                "synapses and counts by projection: run it again for energy")
            recorded = (RecordedSpikes(*(f[f"recorded/{k}"][()] for k in ("ptr", "step", "neuron")))
                        if "recorded" in f else None)
            return LSMActivity.from_parts(counters, f.attrs["config"], f["liquid/pre_ptr"][()],
                                          f["liquid/post"][()], recorded)
    except OSError as err:
        raise DataError(f"cannot read {str(path)!r}: {err}") from None


def load_features(path: str | os.PathLike) -> dict[str, SplitFeatures]:
    """The spike counts, labels and indices of every split of a saved run."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise DataError(f"{str(path)!r} is not an LSM result file")
            return {s: SplitFeatures(f[f"features/{s}/counts"][()], f[f"features/{s}/labels"][()],
                                     f[f"features/{s}/indices"][()]) for s in SPLITS}
    except OSError as err:
        raise DataError(f"cannot read {str(path)!r}: {err}") from None


def load_summary(path: str | os.PathLike) -> dict[str, float]:
    """Accuracies and branching factor of a saved run."""
    try:
        with h5py.File(path, "r") as f:
            attrs = f["accuracy"].attrs
            return {k: (v.item() if hasattr(v, "item") else v) for k, v in attrs.items()}
    except (OSError, KeyError) as err:
        raise DataError(f"cannot read the accuracies of {str(path)!r}: {err}") from None
