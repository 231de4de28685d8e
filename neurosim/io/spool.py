"""Recordings kept on disk during a run (``record.store: disk``), one chunk in memory.

A long run's spikes and traces outgrow RAM long before its network does.
With ``store: disk`` each chunk's recordings are appended, as the result
file will hold them, to raw files in a folder beside the result
(``.<name>.spool/``); the result reads them back as memory maps and its
writer copies them into the HDF5 file in blocks, so what a run holds in
memory stays one chunk's worth whatever its length.

The files are append-only and raw (no HDF5, whose metadata a kill can
leave corrupt), so a killed run is recovered by length alone: a checkpoint
stores each file's length after :meth:`RecordingSpool.sync` made it
durable, and the resumed run cuts every file back to it
(:meth:`RecordingSpool.resume`); what the killed process wrote after its
last checkpoint, whole or torn, is gone.  The folder is removed once the
result is saved (:func:`discard_spool`).
"""

from __future__ import annotations

import mmap
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.errors import DataError, OutputError


def spool_folder(result: str | os.PathLike) -> Path:
    """Where the recordings of a run that saves to ``result`` are spooled."""
    path = Path(result)
    return path.with_name(f".{path.name}.spool")


def discard_spool(result: str | os.PathLike) -> None:
    """Remove the spool of ``result`` once the result is saved (maps of it stay valid)."""
    shutil.rmtree(spool_folder(result), ignore_errors=True)


def release(block: np.ndarray) -> None:
    """Drop a contiguous ``block`` of a spool's memory map from this process's
    resident memory once it has been read (its pages stay in the page cache);
    any other array is left alone.  Writing a long run's result block by block
    then holds one block, not every page of the files it went through."""
    base = block.base
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is None or block.size == 0 or not block.flags.c_contiguous:
        return
    start = block.ctypes.data - np.frombuffer(base, np.uint8).ctypes.data
    first = start // mmap.PAGESIZE * mmap.PAGESIZE
    last = min(-(-(start + block.nbytes) // mmap.PAGESIZE) * mmap.PAGESIZE, len(base))
    base.madvise(mmap.MADV_DONTNEED, first, last - first)


@dataclass(frozen=True)
class Stream:
    """One appended array: its element type and the shape of one row."""

    dtype: np.dtype
    row: tuple[int, ...] = ()

    @property
    def row_bytes(self) -> int:
        return int(np.dtype(self.dtype).itemsize * np.prod(self.row, dtype=np.int64))


class RecordingSpool:
    """Append-only files of named streams in ``folder``.

    ``streams`` names every stream and its row type up front; the file of
    stream ``k`` (in that order) is ``<k>.bin``, so no population or trace
    name reaches the file system.
    """

    def __init__(self, folder: str | os.PathLike, streams: Mapping[str, Stream]):
        self.folder = Path(folder)
        self.streams = dict(streams)
        self._files = {key: self.folder / f"{k}.bin" for k, key in enumerate(self.streams)}
        self._handles: dict[str, object] = {}
        self._rows = dict.fromkeys(self.streams, 0)

    # -- opening ------------------------------------------------------------
    def start(self) -> None:
        """Begin empty, removing what an earlier run of this result left."""
        self._open({key: 0 for key in self.streams}, fresh=True)

    def resume(self, rows: Mapping[str, int]) -> None:
        """Continue after ``rows`` rows of each stream, as a checkpoint recorded them.

        Raises
        ------
        DataError
            If a stream's file is missing or shorter than the checkpoint says
            (the spool was removed or belongs to another run).
        """
        self._open(rows, fresh=False)

    def _open(self, rows: Mapping[str, int], fresh: bool) -> None:
        try:
            if fresh:
                shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            for key, path in self._files.items():
                want = int(rows[key]) * self.streams[key].row_bytes
                if not fresh:
                    have = path.stat().st_size if path.exists() else None
                    if have is None or have < want:
                        found = "is missing" if have is None else f"holds {have:,} bytes"
                        raise DataError(f"cannot resume the recordings in {self.folder}: "
                                        f"{path.name} {found}, the checkpoint needs {want:,} "
                                        "(run again without --resume)")
                handle = open(path, "r+b" if path.exists() else "w+b")
                handle.truncate(want)  # a killed run's rows after its checkpoint
                handle.seek(want)
                self._handles[key] = handle
                self._rows[key] = int(rows[key])
        except OSError as exc:
            self.close()
            raise OutputError(f"cannot spool recordings to {self.folder}: "
                              f"{exc.strerror or exc}") from exc

    # -- writing ------------------------------------------------------------
    def append(self, key: str, rows: np.ndarray) -> None:
        """Append ``rows`` (converted to the stream's type) to stream ``key``."""
        stream = self.streams[key]
        block = np.ascontiguousarray(rows, dtype=stream.dtype)
        if block.shape[1:] != stream.row:
            raise ValueError(f"stream {key!r} takes rows of shape {stream.row}, "
                             f"got {block.shape[1:]}")
        try:
            self._handles[key].write(block.data)
        except OSError as exc:  # a full disk: one error, the run stops
            raise OutputError(f"cannot spool recordings to {self.folder}: "
                              f"{exc.strerror or exc}") from exc
        self._rows[key] += block.shape[0]

    def sync(self) -> dict[str, int]:
        """Make every stream durable; the rows of each (what a checkpoint stores)."""
        try:
            for handle in self._handles.values():
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise OutputError(f"cannot spool recordings to {self.folder}: "
                              f"{exc.strerror or exc}") from exc
        return dict(self._rows)

    # -- reading ------------------------------------------------------------
    def array(self, key: str) -> np.ndarray:
        """Stream ``key`` so far, read-only and mapped from its file (not loaded)."""
        stream = self.streams[key]
        self._handles[key].flush()
        shape = (self._rows[key], *stream.row)
        if self._rows[key] == 0:  # an empty file cannot be mapped
            return np.empty(shape, dtype=stream.dtype)
        return np.memmap(self._files[key], dtype=stream.dtype, mode="r", shape=shape)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
