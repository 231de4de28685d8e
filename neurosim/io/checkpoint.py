"""Checkpoint files: named numpy arrays behind a checksum, written atomically.

A checkpoint is one file::

    MAGIC                      identifies the file and its layout version
    SHA-256 of the payload     32 bytes
    length of the payload      8 bytes, little-endian
    payload                    the arrays as an uncompressed ``.npz`` archive

It is written through :func:`neurosim.io.hdf5.atomic_path` (temporary file,
fsync, rename), so a kill at any moment leaves the previous checkpoint or the
new one, never a mix; the checksum catches what the file system may still do
to it (a truncated copy, a damaged disk block). Reading never unpickles:
only plain numeric and string arrays come back.
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from neurosim.errors import DataError
from neurosim.io.hdf5 import atomic_path

MAGIC = b"neurosim-checkpoint-1\n"
_DIGEST = 32
_LENGTH = 8
_HEADER = len(MAGIC) + _DIGEST + _LENGTH


def checkpoint_path(result: str | os.PathLike) -> Path:
    """The checkpoint of a run that saves to ``result``: beside it, suffix ``.ckpt``."""
    return Path(result).with_suffix(".ckpt")


def rank_checkpoint_path(result: str | os.PathLike, rank: int, ranks: int, slot: int) -> Path:
    """The state of one rank of a distributed run, in one of two alternating slots
    (``<name>.rank1-of-2.0.ckpt``); the run's :func:`checkpoint_path` names the slot
    that is complete on every rank."""
    path = Path(result)
    return path.with_name(f"{path.stem}.rank{rank}-of-{ranks}.{slot}.ckpt")


def discard_checkpoint(result: str | os.PathLike) -> None:
    """Remove the checkpoint of ``result`` (and its ranks' states) once that result is
    saved: it is obsolete."""
    checkpoint_path(result).unlink(missing_ok=True)
    path = Path(result)
    for rank_file in path.parent.glob(f"{glob.escape(path.stem)}.rank*-of-*.*.ckpt"):
        rank_file.unlink(missing_ok=True)


def write_checkpoint(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` atomically, with their checksum; returns the path."""
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.asarray(value) for key, value in arrays.items()})
    payload = buffer.getbuffer()
    final = Path(path)
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:
        fh.write(MAGIC)
        fh.write(hashlib.sha256(payload).digest())
        fh.write(len(payload).to_bytes(_LENGTH, "little"))
        fh.write(payload)
    return final


def read_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint, after its checksum is verified.

    Raises
    ------
    DataError
        If the file is missing, is not a checkpoint, is truncated or fails
        its checksum (the message says which).
    """
    src = Path(path)
    try:
        data = src.read_bytes()
    except FileNotFoundError:
        raise DataError(f"no checkpoint to resume from: {src} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read checkpoint {src}: {exc.strerror or exc}") from None
    if not data.startswith(MAGIC):
        raise DataError(f"{src} is not a neurosim checkpoint")
    if len(data) < _HEADER:
        raise DataError(f"checkpoint {src} is truncated ({len(data)} bytes, the header "
                        f"alone is {_HEADER})")
    digest = data[len(MAGIC):len(MAGIC) + _DIGEST]
    length = int.from_bytes(data[len(MAGIC) + _DIGEST:_HEADER], "little")
    payload = memoryview(data)[_HEADER:]
    if len(payload) != length:
        raise DataError(f"checkpoint {src} is truncated or padded: {len(payload):,} bytes of "
                        f"data, its header says {length:,}")
    if hashlib.sha256(payload).digest() != digest:
        raise DataError(f"checkpoint {src} is corrupt: its checksum does not match its data")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:  # checksummed, so written so
        raise DataError(f"checkpoint {src} holds data this neurosim cannot read: {exc}") from None
