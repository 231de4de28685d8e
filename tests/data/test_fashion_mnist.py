"""The idx reader on small files written here byte by byte (format: LeCun's MNIST page)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import yaml

from neurosim.cli import main
from neurosim.config import dump_config, load_config
from neurosim.data import load_fashion_mnist, read_idx
from neurosim.errors import ConfigError, DataError


def write_idx(path, array: np.ndarray, compress: bool = True) -> None:
    """Magic 0x00 0x00 0x08 ndim, big-endian uint32 dims, then the uint8 data."""
    payload = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    payload += struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def write_dataset(folder, n_train=12, n_test=6, seed=0):
    rng = np.random.default_rng(seed)
    data = {}
    for split, n, stem in (("train", n_train, "train"), ("test", n_test, "t10k")):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", labels)
        data[split] = (images, labels)
    return data


def write_pattern_dataset(folder, n_train, n_test, seed):
    """Ten learnable classes, each a fixed random pattern of bright pixels, with 5 % pixel noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((10, 28, 28)) < 0.15
    for stem, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        noise = rng.random((n, 28, 28)) < 0.05
        images = np.where(templates[labels] ^ noise, rng.integers(120, 256, (n, 28, 28)), 0)
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images.astype(np.uint8))
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", labels)


def test_reads_back_what_was_written(tmp_path):
    expected = write_dataset(tmp_path)
    splits = load_fashion_mnist(tmp_path)
    for split, (images, labels) in expected.items():
        np.testing.assert_array_equal(splits[split].images, images)
        np.testing.assert_array_equal(splits[split].labels, labels)


def test_uncompressed_file_and_shape(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a", array, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), array)


def test_truncated_file_is_a_data_error(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((3, 4), np.uint8))
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    (tmp_path / "b").write_bytes(raw[:-2])
    with pytest.raises(DataError, match="header says"):
        read_idx(tmp_path / "b")
    (tmp_path / "c").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "c")


def test_missing_dataset_says_how_to_install(tmp_path):
    with pytest.raises(DataError, match="apt-get install -y dataset-fashion-mnist") as err:
        load_fashion_mnist(tmp_path / "nowhere")
    assert "data.path" in str(err.value)


@pytest.mark.parametrize("name, why", [("x" * 2**20, "File name too long"),
                                       ("file", "not a folder")], ids=["1 MB long", "a file"])
def test_an_unusable_folder_is_one_short_data_error(tmp_path, name, why):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match=why) as err:
        load_fashion_mnist(tmp_path / name)
    assert "data.path" in str(err.value) and len(str(err.value)) < 200


@pytest.mark.parametrize("config", ["snn_fashion", "convert_fashion", "lsm_fashion", "rram_lsm"])
def test_every_task_refuses_a_nul_in_its_data_path(config):
    with pytest.raises(ConfigError, match="data.path: .* NUL"):
        load_config(config, ['data.path="a\\0b"'])


def test_a_run_with_an_overlong_data_path_ends_in_one_error_line(tmp_path, capsys):
    tree = yaml.safe_load(dump_config(load_config("nalsm_fashion")))
    tree["data"]["path"] = "x" * 2**20
    cfg = tmp_path / "long.yaml"
    cfg.write_text(yaml.safe_dump(tree, sort_keys=False))
    out = tmp_path / "r.h5"
    assert main(["run", str(cfg), "--output", str(out), "--quiet", "--no-plot"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "too long" in err
    assert not out.exists()
