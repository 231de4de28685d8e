"""Checkpoint files: what is written comes back; damage of any kind is one clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim.errors import DataError
from neurosim.io.checkpoint import MAGIC, checkpoint_path, read_checkpoint, write_checkpoint
from neurosim.io.hdf5 import atomic_path, remove_stale_temporaries

ARRAYS = {"step": np.array(12345), "v": np.linspace(-0.07, -0.05, 7, dtype=np.float32),
          "config": np.array("seed: 1\nduration: 1 s\n"), "empty": np.zeros((0, 3), np.int64)}


def test_arrays_come_back_with_their_values_and_types(tmp_path):
    path = write_checkpoint(tmp_path / "run.ckpt", ARRAYS)
    back = read_checkpoint(path)
    assert back.keys() == ARRAYS.keys()
    for key, value in ARRAYS.items():
        assert back[key].dtype == value.dtype and back[key].shape == value.shape
        np.testing.assert_array_equal(back[key], value)
    assert str(back["config"]) == "seed: 1\nduration: 1 s\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # no temporary left


def test_it_goes_beside_the_result():
    assert checkpoint_path("results/cuba.h5") == Path("results/cuba.ckpt")


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[: len(data) // 2], "truncated or padded"),
    (lambda data: data[: len(MAGIC) + 10], "truncated"),
    (lambda data: data + b"\0", "truncated or padded"),
    (lambda data: data[:-100] + bytes([data[-100] ^ 1]) + data[-99:], "checksum does not match"),
    (lambda data: b"PK" + data[2:], "not a neurosim checkpoint"),
    (lambda data: b"", "not a neurosim checkpoint"),
])
def test_damage_is_one_error_naming_it(tmp_path, damage, message):
    path = write_checkpoint(tmp_path / "run.ckpt", ARRAYS)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=message):
        read_checkpoint(path)


def test_a_missing_checkpoint_says_so(tmp_path):
    with pytest.raises(DataError, match="no checkpoint to resume from: .*run.ckpt does not exist"):
        read_checkpoint(tmp_path / "run.ckpt")


def test_objects_are_never_unpickled(tmp_path):
    """A checkpoint whose checksum is right but which holds a pickled object is refused."""
    import hashlib
    import io

    buffer = io.BytesIO()
    np.savez(buffer, evil=np.array([{"a": 1}], dtype=object))
    payload = buffer.getvalue()
    path = tmp_path / "run.ckpt"
    path.write_bytes(MAGIC + hashlib.sha256(payload).digest() + len(payload).to_bytes(8, "little")
                     + payload)
    with pytest.raises(DataError, match="cannot read"):
        read_checkpoint(path)


def test_temporaries_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    final = tmp_path / "run.ckpt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.ckpt.tmp-{dead.pid}"
    live = tmp_path / f".run.ckpt.tmp-{os.getpid()}"
    other = tmp_path / f".other.ckpt.tmp-{dead.pid}"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(final) == [stale]
    assert not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(tmp_path / "missing" / "run.ckpt") == []
    stale.write_bytes(b"partial")
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".run.ckpt.tmp-{writer.pid}"
        busy.write_bytes(b"being written")
        with atomic_path(final) as tmp:  # every atomic write clears its destination's first
            tmp.write_bytes(b"whole")
        assert not stale.exists() and busy.exists() and final.read_bytes() == b"whole"
    finally:
        writer.kill()
        writer.wait()
