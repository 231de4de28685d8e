"""The result file of a network run: a :class:`~neurosim.result.Result`, unchanged.

Layout (``format = "neurosim-result"``, ``format_version = 2``; the root
header and the ``meta.``/``timing.`` sections are the convention of
:mod:`neurosim.io.hdf5`)::

    /                            attrs: header, dt, duration, rate_bin,
                                        meta.<key>, timing.<key> (Result.metadata)
    /populations/<name>          attrs: size, model
    /spikes/<name>/times         float64 (s)
    /spikes/<name>/indices       int32 (local neuron index)
    /traces/<name>/neurons       neuron indices
    /traces/<name>/times         sample times (s)
    /traces/<name>/data          [time, neuron, variable], SI units
                                 attrs: population, variables (string array)
    /rates/<name>                float64 (Hz per bin of rate_bin s)
    /counters/<kind>/<name>      attrs: one int64 per counter
                                 (kind: populations, projections, hardware)
    /energy/<profile>            attrs: energy estimate numbers (optional group)
    /weights/<projection>/pre    int32, plastic projections' synapses (optional group)
    /weights/<projection>/post   int32
    /weights/<projection>/weight float64, at the end of the run (SI)
    /astrocytes/<name>           float64, A after every step (optional group)

:attr:`Result.metadata` is split between ``timing.`` (its
:data:`~neurosim.result.TIMING_KEYS`) and ``meta.`` (the rest) and joined
again on reading.  Version 1 kept the timings among ``meta.``; it reads the
same.  Groups keep creation order, so populations come back in network order.
"""

from __future__ import annotations

import operator
import os
from pathlib import Path

import h5py
import numpy as np

from neurosim.errors import NumericalError
from neurosim.io.hdf5 import (ResultFile, create_result, open_result, ordered_group,
                              read_energy, scalar_attrs, set_attrs, write_energy, write_section)
from neurosim.io.spool import release
from neurosim.result import TIMING_KEYS, Result, SpikeRecord, TraceRecord
from neurosim.tasks import DEFAULT_TASK, TASKS

TASK = DEFAULT_TASK
FORMAT = TASKS[TASK].result_format
FORMAT_VERSION = TASKS[TASK].result_version

# Below this many elements, chunking and gzip cost more (header, per-chunk
# overhead, CPU) than they save.
_COMPRESS_MIN_ELEMENTS = 4096
# Large arrays are checked and written this many bytes of rows at a time: a
# run recorded to disk hands them over as memory maps, never loaded whole.
_BLOCK_BYTES = 64 * 2**20


def save_network(result: Result, path: str | os.PathLike) -> Path:
    """Write ``result`` to an HDF5 file at ``path``, atomically.

    Spike times are stored as float64 and spike indices as int32 whatever
    their dtype in ``result``; every other array keeps its dtype. Arrays
    larger than a few thousand elements are chunked and gzip-compressed.

    Raises
    ------
    NumericalError
        If a trace, weight, rate or astrocyte holds NaN or infinity (the
        run's numbers overflowed its precision): no file is written.
    OutputError
        If the file cannot be created or written, or a name cannot be an
        HDF5 group name.
    TypeError
        If a metadata, population or counter value is not of a storable type.
    """
    _check_finite(result)
    final = Path(path)
    # A run's metadata holds its versions and machine (run_metadata): written as they are,
    # so that a result reads back exactly.
    with create_result(final, TASK, result.config_text, seed=result.seed,
                       provenance=False) as f:
        _write(f, result)
    return final


def _check_finite(result: Result) -> None:
    """Refuse to store a result that overflowed: a NaN or inf in it is never a measurement."""
    arrays = [(f"trace {name!r} (population {t.population!r})", np.asarray(t.data), t.times)
              for name, t in result.traces.items()]
    arrays += [(f"plastic weights of {name!r}", np.asarray(w["weight"]), None)
               for name, w in result.weights.items()]
    arrays += [(f"rates of {name!r}", np.asarray(r), None) for name, r in result.rates.items()]
    arrays += [(f"astrocyte {name!r}", np.asarray(a), None) for name, a in result.astrocytes.items()]
    for what, values, times in arrays:
        first = _first_non_finite_row(values)
        if first is not None:
            when = "" if times is None else f" from t = {float(times[first]):g} s"
            raise NumericalError(
                f"the run overflowed: {what} holds NaN or infinity{when}; some parameter, "
                "weight or current is too large for its precision (float32 unless "
                "precision: float64); nothing was saved")


def _row_blocks(values: np.ndarray, align: int = 1):
    """``(start, rows)`` of ``values`` in blocks of about :data:`_BLOCK_BYTES`,
    a multiple of ``align`` rows each (an HDF5 chunk's, written whole)."""
    row_bytes = max(values[:1].nbytes, 1)
    step = max(1, _BLOCK_BYTES // row_bytes // align) * align
    for start in range(0, len(values), step):
        yield start, values[start:start + step]


def _first_non_finite_row(values: np.ndarray) -> int | None:
    if values.ndim == 0:
        return None if np.isfinite(values) else 0
    for start, block in _row_blocks(values):
        bad = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
        release(block)
        if bad.any():
            return start + int(np.flatnonzero(bad)[0])
    return None


def load_network(path: str | os.PathLike) -> Result:
    """Read a network run's result file (any other task's is refused)."""
    with open_result(path, TASK) as rf:
        return read_network(rf)


def read_network(rf: ResultFile) -> Result:
    """The :class:`Result` of an open network result file (:func:`neurosim.io.load`)."""
    f = rf.file
    populations = {name: scalar_attrs(group) for name, group in f["populations"].items()}
    spikes = {
        name: SpikeRecord(times=group["times"][()], indices=group["indices"][()])
        for name, group in f["spikes"].items()
    }
    traces = {
        name: TraceRecord(
            population=str(group.attrs["population"]),
            neurons=group["neurons"][()],
            variables=[str(v) for v in group.attrs["variables"]],
            times=group["times"][()],
            data=group["data"][()],
        )
        for name, group in f["traces"].items()
    }
    rates = {name: ds[()] for name, ds in f["rates"].items()}
    counters = {
        kind: {
            name: {key: int(value) for key, value in group.attrs.items()}
            for name, group in kind_group.items()
        }
        for kind, kind_group in f["counters"].items()
    }
    weights = {name: {key: group[key][()] for key in ("pre", "post", "weight")}
               for name, group in f.get("weights", {}).items()}
    astrocytes = {name: ds[()] for name, ds in f.get("astrocytes", {}).items()}
    return Result(
        config_text=rf.header.config,
        seed=int(f.attrs["seed"]),
        dt=float(f.attrs["dt"]),
        duration=float(f.attrs["duration"]),
        populations=populations,
        spikes=spikes,
        traces=traces,
        rates=rates,
        rate_bin=float(f.attrs["rate_bin"]),
        counters=counters,
        metadata={**rf.section("meta"), **rf.section("timing")},
        energy=read_energy(f),
        weights=weights,
        astrocytes=astrocytes,
    )


def _write(f: h5py.File, result: Result) -> None:
    f.attrs["dt"] = float(result.dt)
    f.attrs["duration"] = float(result.duration)
    f.attrs["rate_bin"] = float(result.rate_bin)
    meta = result.metadata
    write_section(f, "meta", {k: v for k, v in meta.items() if k not in TIMING_KEYS})
    write_section(f, "timing", {k: v for k, v in meta.items() if k in TIMING_KEYS})

    group = ordered_group(f, "populations")
    for name, info in result.populations.items():
        set_attrs(ordered_group(group, name), info)

    group = ordered_group(f, "spikes")
    for name, record in result.spikes.items():
        sub = ordered_group(group, name)
        _dataset(sub, "times", np.asarray(record.times, dtype=np.float64))
        _dataset(sub, "indices", np.asarray(record.indices, dtype=np.int32))

    group = ordered_group(f, "traces")
    for name, trace in result.traces.items():
        sub = ordered_group(group, name)
        _dataset(sub, "neurons", np.asarray(trace.neurons))
        _dataset(sub, "times", np.asarray(trace.times))
        _dataset(sub, "data", np.asarray(trace.data))
        sub.attrs["population"] = trace.population
        # A native string array (not JSON) so h5dump, MATLAB etc. read it too.
        sub.attrs["variables"] = np.array(trace.variables, dtype=h5py.string_dtype())

    group = ordered_group(f, "rates")
    for name, rate in result.rates.items():
        _dataset(group, name, np.asarray(rate, dtype=np.float64))

    group = ordered_group(f, "counters")
    for kind, per_name in result.counters.items():
        kind_group = ordered_group(group, kind)
        for name, counts in per_name.items():
            sub = ordered_group(kind_group, name)
            for key, value in counts.items():
                # operator.index rejects floats instead of silently truncating.
                sub.attrs[key] = np.int64(operator.index(value))

    write_energy(f, result.energy)

    if result.weights:
        group = ordered_group(f, "weights")
        for name, synapses in result.weights.items():
            sub = ordered_group(group, name)
            _dataset(sub, "pre", np.asarray(synapses["pre"], dtype=np.int32))
            _dataset(sub, "post", np.asarray(synapses["post"], dtype=np.int32))
            _dataset(sub, "weight", np.asarray(synapses["weight"], dtype=np.float64))
    if result.astrocytes:
        group = ordered_group(f, "astrocytes")
        for name, values in result.astrocytes.items():
            _dataset(group, name, np.asarray(values, dtype=np.float64))


def _dataset(group: h5py.Group, name: str, data: np.ndarray) -> None:
    if data.size > _COMPRESS_MIN_ELEMENTS:
        # gzip level 1: most of the gain for a fraction of the CPU time;
        # shuffle groups the bytes of floats/ints so they compress better.
        ds = group.create_dataset(
            name, shape=data.shape, dtype=data.dtype, chunks=True, compression="gzip",
            compression_opts=1, shuffle=True,
        )
        for start, block in _row_blocks(data, ds.chunks[0]):
            ds[start:start + len(block)] = block
            release(block)
    else:
        group.create_dataset(name, data=data)
