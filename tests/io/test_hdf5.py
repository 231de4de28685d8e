"""HDF5 result files: exact round trip, atomic writes, clear errors."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosim.errors import DataError, OutputError
from neurosim.io import check_writable, load, save
from neurosim.io.network import FORMAT
from neurosim.result import Result, SpikeRecord, TraceRecord


def make_result(n_exc_spikes: int = 300) -> Result:
    rng = np.random.default_rng(7)
    # Names deliberately not in alphabetical order: network order must survive.
    populations = {
        "exc": {"size": 80, "model": "lif_cuba"},
        "inh": {"size": 20, "model": "lif_cuba"},
        "quiet": {"size": 5, "model": "lif_coba"},
    }
    spikes = {
        "exc": SpikeRecord(
            times=np.sort(rng.uniform(0.0, 0.1, n_exc_spikes)),
            indices=rng.integers(0, 80, n_exc_spikes).astype(np.int32),
        ),
        "inh": SpikeRecord(times=np.array([0.001, 0.0502]), indices=np.array([3, 19], np.int32)),
        "quiet": SpikeRecord(times=np.empty(0), indices=np.empty(0, np.int32)),
    }
    traces = {
        "exc_state": TraceRecord(
            population="exc",
            neurons=np.array([0, 7], np.int32),
            variables=["v", "I_syn"],
            times=np.arange(50) * 1e-4,
            data=rng.normal(-0.065, 0.002, (50, 2, 2)).astype(np.float32),
        )
    }
    rates = {name: rng.uniform(0, 30, 100) for name in populations}
    counters = {
        "populations": {
            name: {"neuron_updates": 1000 * info["size"], "spikes": spikes[name].count}
            for name, info in populations.items()
        },
        "projections": {"exc_inh": {"synapses": 160, "synaptic_events": 2**40}},
    }
    metadata = {
        "backend": "cpu",
        "threads": 2,
        "wall_s": 1.25,
        "deterministic": True,
        "cached": False,
    }
    return Result(
        config_text="network:\n  dt: 0.1 ms  # unicode µ\n",
        seed=1234,
        dt=1e-4,
        duration=0.1,
        populations=populations,
        spikes=spikes,
        traces=traces,
        rates=rates,
        rate_bin=1e-3,
        counters=counters,
        metadata=metadata,
    )


def assert_same_array(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


def assert_same_result(actual: Result, expected: Result) -> None:
    assert actual.config_text == expected.config_text
    assert (actual.seed, actual.dt, actual.duration, actual.rate_bin) == (
        expected.seed, expected.dt, expected.duration, expected.rate_bin)
    assert list(actual.populations.items()) == list(expected.populations.items())
    assert list(actual.spikes) == list(expected.spikes)
    for name, record in expected.spikes.items():
        assert_same_array(actual.spikes[name].times, record.times)
        assert_same_array(actual.spikes[name].indices, record.indices)
    assert list(actual.traces) == list(expected.traces)
    for name, trace in expected.traces.items():
        got = actual.traces[name]
        assert got.population == trace.population
        assert got.variables == trace.variables
        for field in ("neurons", "times", "data"):
            assert_same_array(getattr(got, field), getattr(trace, field))
    assert list(actual.rates) == list(expected.rates)
    for name, rate in expected.rates.items():
        assert_same_array(actual.rates[name], rate)
    assert actual.counters == expected.counters
    assert actual.metadata == expected.metadata
    for key, value in expected.metadata.items():
        assert type(actual.metadata[key]) is type(value), key


def test_round_trip_is_exact(tmp_path: Path) -> None:
    result = make_result()
    path = save(result, tmp_path / "run.h5")
    assert path == tmp_path / "run.h5"
    assert_same_result(load(path), result)


def test_round_trip_of_an_empty_result(tmp_path: Path) -> None:
    result = Result(config_text="", seed=0, dt=1e-4, duration=0.0, populations={})
    assert_same_result(load(save(result, tmp_path / "empty.h5")), result)


def test_round_trip_of_a_config_larger_than_the_compact_attribute_limit(tmp_path: Path) -> None:
    # HDF5 stores attributes up to 64 KiB in the object header; beyond that
    # they need dense storage.
    result = make_result()
    result.config_text = "# padding\n" * 20_000
    assert load(save(result, tmp_path / "big.h5")).config_text == result.config_text


def test_layout_and_compression(tmp_path: Path) -> None:
    path = save(make_result(n_exc_spikes=20_000), tmp_path / "run.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == FORMAT
        assert f.attrs["format_version"] == 2 and f.attrs["task"] == "network"
        assert f.attrs["meta.backend"] == "cpu" and f.attrs["timing.wall_s"] == 1.25
        assert f["populations/exc"].attrs["model"] == "lif_cuba"
        assert f["spikes/exc/times"].dtype == np.float64
        assert f["spikes/exc/indices"].dtype == np.int32
        assert f["counters/projections/exc_inh"].attrs["synaptic_events"].dtype == np.int64
        assert list(f["traces/exc_state"].attrs["variables"]) == ["v", "I_syn"]
        assert f["spikes/exc/times"].compression == "gzip"
        assert f["spikes/inh/times"].compression is None


def test_spike_dtypes_follow_the_file_format(tmp_path: Path) -> None:
    result = make_result()
    result.spikes["inh"] = SpikeRecord(np.array([0.5], np.float32), np.array([1], np.int64))
    loaded = load(save(result, tmp_path / "run.h5")).spikes["inh"]
    assert (loaded.times.dtype, loaded.indices.dtype) == (np.float64, np.int32)


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    save(make_result(n_exc_spikes=10), path)
    result = make_result(n_exc_spikes=50)
    save(result, path)
    assert_same_result(load(path), result)


def test_save_creates_parent_folders(tmp_path: Path) -> None:
    path = save(make_result(), tmp_path / "a" / "b" / "run.h5")
    assert path.is_file()


def test_failed_save_leaves_no_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(h5py.Group, "create_dataset", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save(make_result(), tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "run.h5"
    previous = make_result(n_exc_spikes=10)
    save(previous, path)
    calls = 0
    original = h5py.Group.create_dataset

    def fails_late(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("interrupted")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", fails_late)
    with pytest.raises(RuntimeError):
        save(make_result(), path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["run.h5"]
    assert_same_result(load(path), previous)


def test_unstorable_metadata_is_rejected_without_leaving_a_file(tmp_path: Path) -> None:
    result = make_result()
    result.metadata["versions"] = {"numpy": "2.0"}
    with pytest.raises(TypeError, match="meta.versions"):
        save(result, tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


def test_population_name_with_a_slash_is_rejected(tmp_path: Path) -> None:
    result = make_result()
    result.populations["a/b"] = {"size": 1, "model": "lif_cuba"}
    with pytest.raises(OutputError, match="a/b"):
        save(result, tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("relative", ["file.txt/run.h5", "file.txt/sub/run.h5"])
def test_save_under_a_regular_file_raises_output_error(tmp_path: Path, relative: str) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(OutputError, match="file.txt"):
        save(make_result(), tmp_path / relative)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_save_onto_a_folder_raises_output_error(tmp_path: Path) -> None:
    (tmp_path / "run.h5").mkdir()
    with pytest.raises(OutputError, match="folder"):
        save(make_result(), tmp_path / "run.h5")


def test_check_writable_accepts_new_folders_and_creates_nothing(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "deeper" / "run.h5")
    check_writable(tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_rejects_a_path_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="file.txt is a file"):
        check_writable(tmp_path / "file.txt" / "out" / "run.h5")


def test_load_missing_file_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "missing.h5")


def test_load_non_hdf5_file_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("spikes: none\n")
    with pytest.raises(DataError, match="HDF5"):
        load(path)


def test_load_foreign_hdf5_file_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(DataError, match="not a neurosim result"):
        load(path)


def test_load_newer_format_version_raises_data_error(tmp_path: Path) -> None:
    path = save(make_result(), tmp_path / "run.h5")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 3
    with pytest.raises(DataError, match="format version 3"):
        load(path)


def test_load_damaged_file_raises_data_error(tmp_path: Path) -> None:
    path = save(make_result(), tmp_path / "run.h5")
    with h5py.File(path, "a") as f:
        del f["spikes/exc/indices"]
    with pytest.raises(DataError, match="damaged"):
        load(path)
