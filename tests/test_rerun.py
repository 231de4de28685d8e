"""``neurosim rerun``: a result repeated from its file is bit-identical; a tampered file is
reported different, naming what differs."""

from __future__ import annotations

import shutil

import h5py
import pytest
from conftest import small_network

from neurosim.cli import main

#: A tiny run that records a trace too (a float dataset to tamper with).
CONFIG = small_network(seed=3) + """\
record:
  traces:
    v: {population: n, variables: [v], neurons: [0, 1]}
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rerun")
    (folder / "tiny.yaml").write_text(CONFIG)
    path = folder / "tiny.h5"
    assert main(["run", str(folder / "tiny.yaml"), "--output", str(path), "--no-plot",
                 "--quiet", "--threads", "2"]) == 0
    return path


def test_a_result_repeated_from_its_file_is_bit_identical(result, capsys):
    with h5py.File(result, "r") as f:  # what a repeat needs is in the file
        assert {"config", "seed", "meta.threads", "meta.version_numpy", "meta.version_llvmlite",
                "meta.machine_cpu"} <= set(f.attrs)
    assert main(["rerun", str(result)]) == 0
    assert "the repeat is bit-identical" in capsys.readouterr().out


@pytest.mark.parametrize(("tamper", "named"), [
    (lambda f: f["spikes/src/times"].__setitem__(0, f["spikes/src/times"][0] + 1e-4),
     "/spikes/src/times: 1 of"),
    (lambda f: f["traces/v/data"].__setitem__((0, 0, 0), -0.0 if f["traces/v/data"][0, 0, 0] == 0
                                              else 0.0), "/traces/v/data: 1 of"),
    (lambda f: f["counters/populations/n"].attrs.__setitem__("spikes", 1), "attribute spikes"),
    (lambda f: f.attrs.__setitem__("duration", 1.0), "/ attribute duration"),
    (lambda f: f.create_dataset("extra", data=[1]), "/extra: only in the recorded file"),
])
def test_a_tampered_result_is_reported_different(result, tmp_path, capsys, tamper, named):
    copy = tmp_path / "tampered.h5"
    shutil.copy(result, copy)
    with h5py.File(copy, "r+") as f:
        tamper(f)
    assert main(["rerun", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "the repeat differs" in out and named in out


def test_the_repeat_is_kept_with_output_and_not_written_over_a_file(result, tmp_path, capsys):
    kept = tmp_path / "repeat.h5"
    assert main(["rerun", str(result), "--output", str(kept)]) == 0
    with h5py.File(kept, "r") as a, h5py.File(result, "r") as b:
        assert a.attrs["config"] == b.attrs["config"]
    assert main(["rerun", str(result), "--output", str(kept)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["rerun", str(result), "--output", str(result), "--force"]) == 2
    assert "is the file being repeated" in capsys.readouterr().err


def test_a_file_that_is_no_result_is_one_error(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    assert main(["rerun", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
