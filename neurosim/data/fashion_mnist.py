"""Fashion-MNIST from its standard ``idx`` files (gzipped or not).

The Debian package ``dataset-fashion-mnist`` puts the four files in
:data:`DEFAULT_DIR`; any folder holding the same file names works.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.config.base import shown
from neurosim.errors import DataError

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# idx type codes -> numpy dtypes (big-endian, as the format stores them).
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class Split:
    """Images ``(n, 28, 28)`` uint8 and labels ``(n,)`` uint8 of one split."""

    images: np.ndarray
    labels: np.ndarray


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one ``idx`` file (``.gz`` or raw) into an array of its stored shape.

    Raises
    ------
    DataError
        If the file cannot be read or its header does not match its size.
    """
    path = Path(path)
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"cannot read idx file {str(path)!r}: {err}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"{str(path)!r} is not an idx file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{str(path)!r}: truncated idx header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(f"{str(path)!r}: header says {shape} ({expected} bytes of data), "
                        f"file has {len(data) - header}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _check_folder(folder: Path) -> None:
    """One :class:`DataError` for a path that cannot be a folder (a file, too long,
    no permission), which the file look-up would not report or raise raw."""
    try:
        if not folder.exists() or folder.is_dir():
            return
        why = "not a folder"
    except OSError as err:
        why = err.strerror or str(err)
    raise DataError(f"the Fashion-MNIST folder {shown(str(folder))} (config key data.path) "
                    f"cannot be used: {why}")


def _find(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        try:
            if (folder / name).is_file():
                return folder / name
        except OSError as err:  # e.g. a folder without read permission
            raise DataError(f"cannot look for {name} in {shown(str(folder))} (config key "
                            f"data.path): {err.strerror or err}") from None
    raise DataError(
        f"Fashion-MNIST file {stem}[.gz] not found in {shown(str(folder))}: install the data set "
        "with 'apt-get install -y dataset-fashion-mnist' or set the dataset path "
        "(config key data.path) to a folder holding the four idx files"
    )


def load_fashion_mnist(path: str | os.PathLike | None = None) -> dict[str, Split]:
    """Both splits, ``{"train": Split (60,000), "test": Split (10,000)}``.

    Parameters
    ----------
    path:
        Folder of the idx files; :data:`DEFAULT_DIR` if None.
    """
    folder = DEFAULT_DIR if path is None else Path(path)
    _check_folder(folder)
    splits = {}
    for split, (image_stem, label_stem) in _FILES.items():
        image_file, label_file = _find(folder, image_stem), _find(folder, label_stem)
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{str(folder)!r}: {split} images {images.shape} and labels "
                            f"{labels.shape} do not match")
        splits[split] = Split(images.astype(np.uint8), labels.astype(np.uint8))
    return splits


def split_pools(data: dict[str, Split], wanted: dict[str, int]) -> dict[str, np.ndarray]:
    """Indices each split draws from: ``train`` the first five sixths of the
    training file, ``validation`` its last sixth (10,000 of 60,000), ``test``
    the test file; one :class:`DataError` naming the key if ``wanted`` (split
    -> samples) asks a split for more than its pool holds."""
    n_file = len(data["train"].labels)
    n_fit = n_file - n_file // 6
    pools = {"train": np.arange(n_fit), "validation": np.arange(n_fit, n_file),
             "test": np.arange(len(data["test"].labels))}
    for split, n in wanted.items():
        if n > len(pools[split]):
            raise DataError(f"data.{split}: {n} samples asked, the data set has "
                            f"{len(pools[split])}")
    return pools
