"""Write a :class:`~neurosim.result.Result` to HDF5 and read it back unchanged.

File layout (``format = "neurosim-result"``, ``format_version = 1``)::

    /                            attrs: format, format_version, seed, dt, duration,
                                        rate_bin, config, meta.<key> ...
    /populations/<name>          attrs: size, model
    /spikes/<name>/times         float64 (s)
    /spikes/<name>/indices       int32 (local neuron index)
    /traces/<name>/neurons       neuron indices
    /traces/<name>/times         sample times (s)
    /traces/<name>/data          [time, neuron, variable], SI units
                                 attrs: population, variables (string array)
    /rates/<name>                float64 (Hz per bin of rate_bin s)
    /counters/<kind>/<name>      attrs: one int64 per counter
                                 (kind: populations, projections)
    /energy/<profile>            attrs: energy estimate numbers (optional group)
    /weights/<projection>/pre    int32, plastic projections' synapses (optional group)
    /weights/<projection>/post   int32
    /weights/<projection>/weight float64, at the end of the run (SI)
    /astrocytes/<name>           float64, A after every step (optional group)

Groups keep creation order, so populations come back in network order.
Files are written next to their destination and renamed into place, so
``path`` holds either the previous file or a complete new one, never a part.
"""

from __future__ import annotations

import operator
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from neurosim.errors import DataError, OutputError
from neurosim.result import Result, SpikeRecord, TraceRecord

FORMAT = "neurosim-result"
FORMAT_VERSION = 1

# Below this many elements, chunking and gzip cost more (header, per-chunk
# overhead, CPU) than they save.
_COMPRESS_MIN_ELEMENTS = 4096
_META_PREFIX = "meta."
_SCALAR_TYPES = (str, bool, int, float, np.bool_, np.integer, np.floating)


def check_writable(path: str | os.PathLike) -> None:
    """Fail early if a result file could not be written at ``path``.

    Meant to run before a long simulation starts. Folders that do not exist
    yet are fine as long as the nearest existing one is a writable folder.
    Nothing is created or left behind.

    Parameters
    ----------
    path:
        Where the result file is going to be written.

    Raises
    ------
    OutputError
        If ``path`` is a folder, an ancestor of it is a regular file, or the
        nearest existing folder cannot be written to.
    """
    final = Path(path)
    if final.is_dir():
        raise OutputError(f"cannot write {final}: it is a folder")
    folder = final.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {final}: {folder} is a file, not a folder")
    # A real probe rather than os.access(): access() reads permission bits
    # and can disagree with the file system (root-squashed NFS, ACLs, SELinux).
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary file is ``.<name>.tmp-<pid>`` in the destination folder (same
    file system, so :func:`os.replace` is atomic). The destination is checked
    with :func:`check_writable` and parent folders are created first. On any
    exception the temporary file is removed and the exception re-raised, with
    operating-system failures turned into :class:`OutputError`.

    Parameters
    ----------
    path:
        Final destination.

    Yields
    ------
    Path
        The temporary path to write to.
    """
    final = Path(path)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    check_writable(final)  # one place for the clear "X is a file" messages
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc
        raise


def save(result: Result, path: str | os.PathLike) -> Path:
    """Write ``result`` to an HDF5 file at ``path``, atomically.

    Spike times are stored as float64 and spike indices as int32 whatever
    their dtype in ``result``; every other array keeps its dtype. Arrays
    larger than a few thousand elements are chunked and gzip-compressed.

    Parameters
    ----------
    result:
        The run to store.
    path:
        Destination file; parent folders are created.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        If the file cannot be created or written, or a name cannot be an
        HDF5 group name.
    TypeError
        If a metadata, population or counter value is not of a storable type.
    """
    final = Path(path)
    with atomic_path(final) as tmp:
        # track_order keeps attributes (metadata) in insertion order too.
        with h5py.File(tmp, "w", track_order=True) as f:
            _write(f, result)
    return final


def result_format(path: str | os.PathLike) -> str | None:
    """The ``format`` attribute of a result file of any kind (None if unreadable or absent)."""
    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
    except OSError:
        return None
    return None if fmt is None else str(fmt)


def load(path: str | os.PathLike) -> Result:
    """Read a result file written by :func:`save`.

    Parameters
    ----------
    path:
        The HDF5 file.

    Returns
    -------
    Result
        Equal to the saved one: same arrays and dtypes; metadata values come
        back as Python ``str``, ``int``, ``float`` or ``bool``.

    Raises
    ------
    DataError
        If the file is missing, is not HDF5, is not a neurosim result, was
        written by a newer format version, or lacks a required part.
    """
    src = Path(path)
    try:
        f = h5py.File(src, "r")
    except FileNotFoundError as exc:
        raise DataError(f"result file {src} does not exist") from exc
    except OSError as exc:
        raise DataError(f"cannot read {src} as HDF5: {_reason(exc)}") from exc
    with f:
        fmt = f.attrs.get("format")
        if fmt != FORMAT:
            raise DataError(
                f"{src} is not a neurosim result file "
                f"(format attribute is {fmt!r}, expected {FORMAT!r})"
            )
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise DataError(
                f"{src} has result format version {version}; "
                f"this neurosim reads version {FORMAT_VERSION}"
            )
        try:
            return _read(f)
        except KeyError as exc:
            raise DataError(f"{src} is a damaged neurosim result: missing {exc}") from exc


def _write(f: h5py.File, result: Result) -> None:
    f.attrs["format"] = FORMAT
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["seed"] = result.seed
    f.attrs["dt"] = float(result.dt)
    f.attrs["duration"] = float(result.duration)
    f.attrs["rate_bin"] = float(result.rate_bin)
    f.attrs["config"] = result.config_text
    _set_scalar_attrs(f, result.metadata, prefix=_META_PREFIX)

    group = _ordered_group(f, "populations")
    for name, info in result.populations.items():
        _set_scalar_attrs(_ordered_group(group, name), info)

    group = _ordered_group(f, "spikes")
    for name, record in result.spikes.items():
        sub = _ordered_group(group, name)
        _dataset(sub, "times", np.asarray(record.times, dtype=np.float64))
        _dataset(sub, "indices", np.asarray(record.indices, dtype=np.int32))

    group = _ordered_group(f, "traces")
    for name, trace in result.traces.items():
        sub = _ordered_group(group, name)
        _dataset(sub, "neurons", np.asarray(trace.neurons))
        _dataset(sub, "times", np.asarray(trace.times))
        _dataset(sub, "data", np.asarray(trace.data))
        sub.attrs["population"] = trace.population
        # A native string array (not JSON) so h5dump, MATLAB etc. read it too.
        sub.attrs["variables"] = np.array(trace.variables, dtype=h5py.string_dtype())

    group = _ordered_group(f, "rates")
    for name, rate in result.rates.items():
        _dataset(group, name, np.asarray(rate, dtype=np.float64))

    group = _ordered_group(f, "counters")
    for kind, per_name in result.counters.items():
        kind_group = _ordered_group(group, kind)
        for name, counts in per_name.items():
            sub = _ordered_group(kind_group, name)
            for key, value in counts.items():
                # operator.index rejects floats instead of silently truncating.
                sub.attrs[key] = np.int64(operator.index(value))

    if result.energy:
        group = _ordered_group(f, "energy")
        for name, numbers in result.energy.items():
            _set_scalar_attrs(_ordered_group(group, name), numbers)

    if result.weights:
        group = _ordered_group(f, "weights")
        for name, synapses in result.weights.items():
            sub = _ordered_group(group, name)
            _dataset(sub, "pre", np.asarray(synapses["pre"], dtype=np.int32))
            _dataset(sub, "post", np.asarray(synapses["post"], dtype=np.int32))
            _dataset(sub, "weight", np.asarray(synapses["weight"], dtype=np.float64))
    if result.astrocytes:
        group = _ordered_group(f, "astrocytes")
        for name, values in result.astrocytes.items():
            _dataset(group, name, np.asarray(values, dtype=np.float64))


def _read(f: h5py.File) -> Result:
    populations = {
        name: _scalar_attrs(group) for name, group in f["populations"].items()
    }
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
    # Optional: only runs with an energy estimate have the group.
    energy = {name: _scalar_attrs(group) for name, group in f.get("energy", {}).items()}
    weights = {name: {key: group[key][()] for key in ("pre", "post", "weight")}
               for name, group in f.get("weights", {}).items()}
    astrocytes = {name: ds[()] for name, ds in f.get("astrocytes", {}).items()}
    metadata = {
        key[len(_META_PREFIX):]: value
        for key, value in _scalar_attrs(f).items()
        if key.startswith(_META_PREFIX)
    }
    return Result(
        config_text=str(f.attrs["config"]),
        seed=int(f.attrs["seed"]),
        dt=float(f.attrs["dt"]),
        duration=float(f.attrs["duration"]),
        populations=populations,
        spikes=spikes,
        traces=traces,
        rates=rates,
        rate_bin=float(f.attrs["rate_bin"]),
        counters=counters,
        metadata=metadata,
        energy=energy,
        weights=weights,
        astrocytes=astrocytes,
    )


def _ordered_group(parent: h5py.Group, name: str) -> h5py.Group:
    # A "/" would silently create nested groups that load() cannot map back.
    if "/" in name or name in ("", ".", ".."):
        raise OutputError(f"cannot store {name!r} in HDF5: not a valid group name")
    return parent.create_group(name, track_order=True)


def _dataset(group: h5py.Group, name: str, data: np.ndarray) -> None:
    if data.size > _COMPRESS_MIN_ELEMENTS:
        # gzip level 1: most of the gain for a fraction of the CPU time;
        # shuffle groups the bytes of floats/ints so they compress better.
        group.create_dataset(
            name, data=data, chunks=True, compression="gzip",
            compression_opts=1, shuffle=True,
        )
    else:
        group.create_dataset(name, data=data)


def _set_scalar_attrs(
    obj: h5py.HLObject, items: Mapping[str, object], prefix: str = ""
) -> None:
    for key, value in items.items():
        if not isinstance(value, _SCALAR_TYPES):
            raise TypeError(
                f"cannot store {prefix}{key}={value!r} as an HDF5 attribute: "
                "expected str, int, float or bool"
            )
        obj.attrs[prefix + key] = value


def _scalar_attrs(obj: h5py.HLObject) -> dict[str, object]:
    # h5py returns numpy scalars (np.int64, np.bool_, ...); .item() gives the
    # Python int/float/bool that was saved. Strings already come back as str.
    return {
        key: value.item() if isinstance(value, np.generic) else value
        for key, value in obj.attrs.items()
    }


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
