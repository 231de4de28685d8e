"""The result of ``task: deploy``: a trained network's test samples on a backend.

HDF5 layout (``format = "neurosim-deploy-result"``, ``format_version = 1``; the
root header and the ``meta.`` / ``timing.`` sections are the convention of
:mod:`neurosim.io.hdf5`)::

    /                     attrs: header, name, backend, samples, meta.<key>, timing.<key>
    /agreement            attrs: accuracy_count, accuracy_membrane (deployed),
                          reference_accuracy_count, reference_accuracy_membrane (the
                          training's forward pass), identical_counts, same_prediction
    /labels               (n,) the samples' labels
    /counts               (n, classes) output spike counts, deployed
    /membrane             (n, classes) output membrane summed over the steps, deployed
    /reference/counts     the same of the training's forward pass
    /reference/membrane
    /counters/<kind>/<name>   attrs: one int64 per counter, summed over the samples
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.io.hdf5 import (ResultFile, create_result, open_result, read_parts, scalar_attrs,
                              write_section)

TASK = "deploy"


@dataclass
class DeployResult:
    """What a deployment gave, next to what training gave on the same samples."""

    name: str
    config_text: str
    backend: str
    agreement: dict[str, float]
    labels: np.ndarray
    counts: np.ndarray
    membrane: np.ndarray
    reference_counts: np.ndarray
    reference_membrane: np.ndarray
    #: Counters of all samples (:attr:`neurosim.result.Result.counters` layout).
    counters: dict
    meta: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return int(len(self.labels))


def save_deploy(result: DeployResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically to ``path`` (layout in the module docstring)."""
    final = Path(path)
    with create_result(final, TASK, result.config_text) as f:
        f.attrs["name"] = result.name
        f.attrs["backend"] = result.backend
        f.attrs["samples"] = result.samples
        write_section(f, "meta", result.meta)
        write_section(f, "timing", result.timings)
        f.create_group("agreement").attrs.update(result.agreement)
        f.create_dataset("labels", data=result.labels)
        f.create_dataset("counts", data=result.counts)
        f.create_dataset("membrane", data=result.membrane)
        f.create_dataset("reference/counts", data=result.reference_counts)
        f.create_dataset("reference/membrane", data=result.reference_membrane)
        for kind, rows in result.counters.items():
            group = f.create_group(f"counters/{kind}")  # kept when empty
            for name, row in rows.items():
                group.create_group(name.replace("/", "_")).attrs.update(
                    {key: np.int64(value) for key, value in row.items()})
    return final


def read_deploy(rf: ResultFile) -> DeployResult:
    """The :class:`DeployResult` of an open result file (:func:`neurosim.io.load`)."""
    f = rf.file
    return DeployResult(
        name=str(f.attrs["name"]), config_text=rf.header.config, backend=str(f.attrs["backend"]),
        agreement=scalar_attrs(f["agreement"]), labels=f["labels"][()], counts=f["counts"][()],
        membrane=f["membrane"][()], reference_counts=f["reference/counts"][()],
        reference_membrane=f["reference/membrane"][()],
        counters={kind: {name: scalar_attrs(group) for name, group in rows.items()}
                  for kind, rows in f["counters"].items()},
        meta=rf.section("meta"), timings=rf.section("timing"))


def load_deploy(path: str | os.PathLike) -> DeployResult:
    """A saved deployment result (:func:`read_deploy`); another task's file is refused."""
    with open_result(path, TASK) as rf:
        return read_parts(rf, read_deploy, what="deployment")
