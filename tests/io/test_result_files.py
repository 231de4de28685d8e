"""Result files of every task: one header convention, one loader, and version 1 files.

The version 1 files are written here with bare h5py, attribute by attribute
as the writers before the common layout wrote them (network: ``neurosim.io.hdf5``,
LSM: ``neurosim.reservoir.results``, RRAM LSM: ``neurosim.reservoir.rram_lsm_run``).
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
from neurosim.deploy.result import DeployResult
import pytest
from conftest import small_network

import neurosim
from neurosim.cli import main
from neurosim.config import dump_config, load_config, load_config_text
from neurosim.convert.result import ConvertResult
from neurosim.errors import DataError
from neurosim.io import load, open_result, result_task, save
from neurosim.reservoir.kernels import TALLY
from neurosim.reservoir.measure import load_target
from neurosim.reservoir.pipeline import LSMResult, RecordedSpikes, SplitFeatures
from neurosim.reservoir.readout import ReadoutResult
from neurosim.reservoir.results import load_activity, load_features, load_lsm, load_summary
from neurosim.reservoir.rram_lsm_run import (EventData, RRAMLSMResult, SourceResult,
                                             load_rram_lsm)
from neurosim.result import Result, SpikeRecord
from neurosim.tasks import TASKS
from neurosim.training.result import TrainResult

#: The tasks whose files had a version 1 without the common header.
V1_TASKS = ("lsm_classification", "network", "rram_lsm")
SEEDS = {"network": 3, "lsm_classification": 4, "rram_lsm": 5, "train": 6, "convert": 7,
         "deploy": 8}

SPLITS = ("train", "validation", "test")
NETWORK = small_network(seed=3)
LSM = """
task: lsm_classification
seed: 4
liquid: {size: 27, grid: [3, 3, 3]}
protocol: {init_samples: 10, sample_duration: 40 ms}
branching: {samples: 6, window: 4 ms, margin: 2 ms}
"""
RRAM = "task: rram_lsm\nseed: 5\nliquid: {neurons: 20}\n"
N_SAMPLES = {"train": 12, "validation": 6, "test": 8}


def network_v1(path: Path) -> None:
    """A network run's file as format version 1 wrote it."""
    text = dump_config(load_config_text(NETWORK, "old_net"))
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs.update({"format": "neurosim-result", "format_version": 1, "seed": 3,
                        "dt": 1e-4, "duration": 0.02, "rate_bin": 1e-3, "config": text})
        f.attrs.update({"meta.backend": "cpu", "meta.precision": "float32", "meta.threads": 1,
                        "meta.n_neurons": 15, "meta.n_synapses": 50, "meta.build_s": 0.25,
                        "meta.sim_s": 0.5, "meta.version_neurosim": "0.0.9"})
        for name, size, model in (("n", 10, "lif_exp"), ("src", 5, "poisson")):
            f.create_group(f"populations/{name}").attrs.update({"size": size, "model": model})
            f.create_dataset(f"spikes/{name}/times", data=np.array([0.001, 0.0105]))
            f.create_dataset(f"spikes/{name}/indices", data=np.array([2, 4], np.int32))
            f.create_dataset(f"rates/{name}", data=np.full(20, 10.0))
            f.create_group(f"counters/populations/{name}").attrs.update(
                {"neuron_updates": 200 * size, "spikes": 2})
        f.create_group("traces")
        f.create_group("counters/projections/p").attrs.update(
            {"synapses": 50, "synaptic_events": 20})
        f.create_group("counters/hardware/p").attrs.update(
            {"digital_accumulations": 20, "bytes_moved": 160})


@pytest.fixture(scope="module")
def lsm_parts(tmp_path_factory):
    """An LSM config text and a liquid of it (the file's synapses must be its config's)."""
    cfg = load_config_text(LSM, "old_lsm")
    folder = tmp_path_factory.mktemp("lsm")
    (folder / "old_lsm.yaml").write_text(dump_config(cfg))
    return dump_config(cfg), load_target(folder / "old_lsm.yaml").liquid


def lsm_contents(liquid):
    rng = np.random.default_rng(0)
    n_liq = liquid.n_liquid
    features = {s: SplitFeatures(rng.integers(0, 30, (n, n_liq)).astype(np.uint16),
                                 rng.integers(0, 10, n).astype(np.uint8), np.arange(n))
                for s, n in N_SAMPLES.items()}
    rasters = [rng.random((40, liquid.n_total)) < 0.05 for _ in range(3)]
    recorded = RecordedSpikes.from_rasters(rasters)
    counters = {"liquid_neurons": n_liq, "init_samples": 10, "init_steps": 40,
                "samples": 26, "steps": 40, "threads": 1,
                "synaptic_events": 3000, "init_synaptic_events": 1000,
                **{k: 100 for k in TALLY}, **{f"init_{k}": 40 for k in TALLY}}
    curves = {s: np.linspace(0.2, 0.6, 5) for s in SPLITS}
    return features, recorded, counters, curves


def lsm_v1(path: Path, config_text: str, liquid) -> None:
    """An LSM run's file as format version 1 wrote it."""
    features, recorded, counters, curves = lsm_contents(liquid)
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs.update({"format": "neurosim-lsm-result", "format_version": 1,
                        "name": "old_lsm", "config": config_text})
        f.attrs.update({"timing.init_s": 1.5, "timing.samples_s": 2.5, "timing.wall_s": 5.0})
        f.attrs.update({f"counter.{k}": v for k, v in counters.items()})
        f.create_group("accuracy").attrs.update({
            "softmax_test": 0.5, "softmax_validation": 0.55, "softmax_train": 0.6,
            "ridge_test": 0.45, "ridge_validation": 0.5, "ridge_train": 0.7,
            "softmax_best_epoch": 3, "ridge_alpha": 1e-3, "branching_factor": 1.1})
        for split, curve in curves.items():
            f.create_dataset(f"readout/softmax/{split}", data=curve)
        f.create_dataset("branching", data=np.array([1.0, 1.2, np.nan]))
        for split, feat in features.items():
            f.create_dataset(f"features/{split}/counts", data=feat.counts, compression="gzip")
            f.create_dataset(f"features/{split}/labels", data=feat.labels)
            f.create_dataset(f"features/{split}/indices", data=feat.indices)
        f.create_dataset("liquid/w_ini", data=liquid.weight)
        f.create_dataset("liquid/pre_ptr", data=liquid.pre_ptr)
        f.create_dataset("liquid/post", data=liquid.post)
        f.require_group("energy/loihi").attrs.update({"profile": "loihi", "total_J": 1e-6})
        for key in ("ptr", "step", "neuron"):
            f.create_dataset(f"recorded/{key}", data=getattr(recorded, key))


def rram_v1(path: Path) -> None:
    """An RRAM LSM run's file as format version 1 wrote it."""
    rng = np.random.default_rng(1)
    text = dump_config(load_config_text(RRAM, "old_rram"))
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs.update({"format": "neurosim-rram-lsm-result", "format_version": 1,
                        "name": "old_rram", "config": text})
        f.attrs.update({"timing.encode_s": 1.0, "timing.software_s": 2.0,
                        "timing.crossbar_s": 3.0, "timing.wall_s": 6.5})
        for src in ("software", "crossbar"):
            f.create_group(f"accuracy/{src}").attrs.update({
                "softmax_test": 0.6, "softmax_validation": 0.6, "softmax_train": 0.7,
                "ridge_test": 0.55, "ridge_validation": 0.5, "ridge_train": 0.8,
                "softmax_best_epoch": 2, "ridge_alpha": 1e-4, "mean_rate": 0.1})
            for split, n in N_SAMPLES.items():
                f.create_dataset(f"features/{src}/{split}",
                                 data=rng.integers(0, 10, (n, 20)).astype(np.uint16))
        for split, n in N_SAMPLES.items():
            f.create_dataset(f"labels/{split}", data=rng.integers(0, 10, n).astype(np.uint8))
            f.create_dataset(f"indices/{split}", data=np.arange(n))


@pytest.fixture(scope="module")
def old_files(tmp_path_factory, lsm_parts):
    folder = tmp_path_factory.mktemp("old")
    paths = {"network": folder / "net.h5", "lsm_classification": folder / "lsm.h5",
             "rram_lsm": folder / "rram.h5"}
    network_v1(paths["network"])
    lsm_v1(paths["lsm_classification"], *lsm_parts)
    rram_v1(paths["rram_lsm"])
    return paths


# -- version 1 files through the one loader ---------------------------------------------------


@pytest.mark.parametrize("task", V1_TASKS)
def test_version_1_files_read_with_the_header_filled_in(old_files, task):
    assert result_task(old_files[task])[0] == task
    with open_result(old_files[task]) as rf:
        header = rf.header
    assert (header.format, header.format_version, header.task) == (
        TASKS[task].result_format, 1, task)
    assert header.seed == SEEDS[task]
    assert header.created is None
    assert header.neurosim_version == ("0.0.9" if task == "network" else None)
    assert f"seed: {header.seed}" in header.config


def test_version_1_network_file_loads(old_files):
    result = load(old_files["network"])
    assert isinstance(result, Result)
    assert result.metadata["build_s"] == 0.25 and result.metadata["backend"] == "cpu"
    assert (result.seed, result.duration, list(result.populations)) == (3, 0.02, ["n", "src"])
    np.testing.assert_array_equal(result.spikes["n"].indices, [2, 4])
    assert result.counters["projections"]["p"] == {"synapses": 50, "synaptic_events": 20}


def test_version_1_lsm_file_loads(old_files, lsm_parts):
    features, recorded, counters, curves = lsm_contents(lsm_parts[1])
    result = load(old_files["lsm_classification"])
    assert isinstance(result, LSMResult) and result.name == "old_lsm"
    assert result.config_text == lsm_parts[0]
    assert result.softmax.best_epoch == 3 and math.isnan(result.softmax.hyper)
    assert result.ridge.hyper == 1e-3 and result.ridge.test_accuracy == 0.45
    np.testing.assert_array_equal(result.softmax.curves["test"], curves["test"])
    for split in SPLITS:
        np.testing.assert_array_equal(result.features[split].counts, features[split].counts)
    assert result.counters == counters and result.timings["wall_s"] == 5.0
    assert result.recorded.samples == 3 and result.n_synapses == lsm_parts[1].n_synapses
    assert result.energy == {"loihi": {"profile": "loihi", "total_J": 1e-6}}
    # The task's partial readers agree with the one loader.
    assert load_summary(old_files["lsm_classification"])["ridge_alpha"] == 1e-3
    np.testing.assert_array_equal(load_features(old_files["lsm_classification"])["train"].counts,
                                  features["train"].counts)
    assert load_activity(old_files["lsm_classification"]).n_liquid == 27
    assert load_lsm(old_files["lsm_classification"], features=False).features == {}


def test_version_1_rram_file_loads(old_files):
    result = load(old_files["rram_lsm"])
    assert isinstance(result, RRAMLSMResult) and result.name == "old_rram"
    assert set(result.sources) == {"software", "crossbar"} and result.data.frames == {}
    software = result.sources["software"]
    assert software.steps == 50 and software.counts["test"].shape == (8, 20)
    assert software.mean_rate == pytest.approx(software.counts["test"].mean() / 50)
    assert math.isnan(software.softmax.hyper) and software.ridge.hyper == 1e-4
    assert result.data.labels["train"].shape == (12,) and result.timings["wall_s"] == 6.5


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("version, shown", [(3, "3"), (0, "0"), (None, "(none)")])
def test_other_versions_are_refused_naming_their_version(new_results, tmp_path, task, version,
                                                          shown):
    path = save(new_results[task], tmp_path / "x.h5")
    with h5py.File(path, "a") as f:
        if version is None:
            del f.attrs["format_version"]
        else:
            f.attrs["format_version"] = version
    fmt = TASKS[task].result_format
    message = (f"{fmt} format version {shown}; this neurosim reads versions 1 to "
               f"{TASKS[task].result_version}")
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(path)
    assert main(["plot", str(path)]) == 2


def test_a_task_reader_refuses_another_tasks_file(old_files):
    with pytest.raises(DataError, match="is a network result .*not a lsm_classification"):
        load_features(old_files["network"])
    with pytest.raises(DataError, match="is a lsm_classification result"):
        load_rram_lsm(old_files["lsm_classification"])


# -- the current writers: one header, and back through the one loader ------------------------


def network_result() -> Result:
    return Result(config_text=dump_config(load_config_text(NETWORK, "net")), seed=3, dt=1e-4,
                  duration=0.02, populations={"n": {"size": 10, "model": "lif_exp"}},
                  spikes={"n": SpikeRecord(np.array([0.001]), np.array([1], np.int32))},
                  rates={"n": np.zeros(20)},
                  counters={"populations": {"n": {"neuron_updates": 2000, "spikes": 1}}},
                  metadata={"backend": "cpu", "build_s": 0.1, "sim_s": 0.2})


def lsm_result(config_text: str, liquid) -> LSMResult:
    features, recorded, counters, curves = lsm_contents(liquid)
    softmax = ReadoutResult(0.5, 0.55, 0.6, 3, curves, 0.003)
    ridge = ReadoutResult(0.45, 0.5, 0.7, 0, {}, 1e-3)
    return LSMResult("new_lsm", config_text, features, softmax, ridge,
                     np.array([1.0, 1.2]), liquid.weight, liquid.n_synapses,
                     {"wall_s": 5.0}, counters, recorded, (liquid.pre_ptr, liquid.post),
                     {"loihi": {"profile": "loihi", "total_J": 2e-6}})


def rram_result() -> RRAMLSMResult:
    rng = np.random.default_rng(2)
    counts = {s: rng.integers(0, 9, (n, 20)).astype(np.uint16) for s, n in N_SAMPLES.items()}
    labels = {s: rng.integers(0, 10, n).astype(np.uint8) for s, n in N_SAMPLES.items()}
    indices = {s: np.arange(n) for s, n in N_SAMPLES.items()}
    sources = {src: SourceResult(counts, ReadoutResult(0.6, 0.6, 0.7, 2, {}, 0.01),
                                 ReadoutResult(0.5, 0.5, 0.8, 0, {}, 1e-4), 50)
               for src in ("software", "crossbar")}
    return RRAMLSMResult("new_rram", dump_config(load_config_text(RRAM, "new_rram")),
                         EventData({}, labels, indices), sources, {"wall_s": 1.5})


def train_result() -> TrainResult:
    config = dump_config(load_config("snn_fashion", overrides=["seed=6"]))
    return TrainResult("new_train", config, {"layers.out.weight": np.ones((10, 4), np.float32)},
                       {"loss": np.array([2.0, 1.5])},
                       {"accuracy_count": 0.5, "accuracy_membrane": 0.6}, timings={"wall_s": 2.0})


def convert_result() -> ConvertResult:
    config = dump_config(load_config("convert_fashion", overrides=["seed=7"]))
    return ConvertResult("new_convert", config, {"out.weight": np.ones((10, 4), np.float32)},
                         {"conv1": 1.5}, {"loss": np.array([1.0])}, 0.9, np.array([4, 8]),
                         np.array([0.8, 0.85]), {"conv1": 0.1}, timings={"wall_s": 3.0})


def deploy_result() -> DeployResult:
    config = dump_config(load_config("deploy_fashion", overrides=["seed=8"]))
    counts = np.arange(20, dtype=np.int64).reshape(2, 10)
    return DeployResult("new_deploy", config, "cpu", {"accuracy_count": 0.5}, np.array([1, 2]),
                        counts, counts * 0.5, counts, counts * 0.5,
                        {"populations": {"out": {"spikes": 190}}}, timings={"wall_s": 1.0})


@pytest.fixture
def new_results(lsm_parts):
    return {"network": network_result(), "lsm_classification": lsm_result(*lsm_parts),
            "rram_lsm": rram_result(), "train": train_result(), "convert": convert_result(),
            "deploy": deploy_result()}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_writer_writes_the_common_header(new_results, tmp_path, task):
    path = save(new_results[task], tmp_path / "r.h5")
    with h5py.File(path) as f:
        attrs = dict(f.attrs)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # atomic
    assert attrs["format"] == TASKS[task].result_format
    # The tasks of version-1 files moved to the common header in version 2.
    assert attrs["format_version"] == TASKS[task].result_version == (2 if task in V1_TASKS else 1)
    assert attrs["task"] == task and attrs["config"] == new_results[task].config_text
    assert attrs["seed"] == SEEDS[task]
    assert attrs["neurosim_version"] == neurosim.__version__
    assert attrs["created"].endswith("+00:00")
    assert any(key.startswith("timing.") for key in attrs)
    assert result_task(path)[0] == task


def test_network_round_trip_keeps_timings_in_the_metadata(new_results, tmp_path):
    path = save(new_results["network"], tmp_path / "r.h5")
    with h5py.File(path) as f:
        assert f.attrs["timing.sim_s"] == 0.2 and f.attrs["meta.backend"] == "cpu"
        assert "meta.sim_s" not in f.attrs
    assert load(path).metadata == {"backend": "cpu", "build_s": 0.1, "sim_s": 0.2}


def test_lsm_round_trip(new_results, tmp_path):
    saved = new_results["lsm_classification"]
    result = load(save(saved, tmp_path / "r.h5"))
    for key in ("test_accuracy", "validation_accuracy", "train_accuracy", "best_epoch", "hyper"):
        assert getattr(result.softmax, key) == getattr(saved.softmax, key)
    for split in SPLITS:
        np.testing.assert_array_equal(result.softmax.curves[split], saved.softmax.curves[split])
        np.testing.assert_array_equal(result.features[split].counts,
                                      saved.features[split].counts)
    assert result.ridge == saved.ridge and result.counters == saved.counters
    assert result.energy == saved.energy and result.timings == saved.timings
    np.testing.assert_array_equal(result.recorded.neuron, saved.recorded.neuron)
    np.testing.assert_array_equal(result.structure[0], saved.structure[0])


def test_rram_round_trip(new_results, tmp_path):
    saved = new_results["rram_lsm"]
    result = load(save(saved, tmp_path / "r.h5"))
    for src in ("software", "crossbar"):
        got, want = result.sources[src], saved.sources[src]
        assert (got.softmax, got.ridge, got.steps) == (want.softmax, want.ridge, want.steps)
        np.testing.assert_array_equal(got.counts["test"], want.counts["test"])
        assert got.mean_rate == want.mean_rate
    np.testing.assert_array_equal(result.data.labels["validation"],
                                  saved.data.labels["validation"])


def test_save_of_something_that_is_no_task_result(tmp_path):
    with pytest.raises(TypeError, match="no task's result"):
        save({"spikes": []}, tmp_path / "r.h5")
    assert list(tmp_path.iterdir()) == []


# -- the commands on every task's files -------------------------------------------------------


@pytest.mark.parametrize("version", ["old", "new"])
def test_plot_energy_and_metrics_on_every_tasks_file(old_files, new_results, tmp_path, capsys,
                                                     version):
    files = old_files if version == "old" else {
        task: save(result, tmp_path / f"{task}.h5") for task, result in new_results.items()}
    net, lsm, rram = files["network"], files["lsm_classification"], files["rram_lsm"]
    for path in (net, lsm):
        png = tmp_path / f"{path.stem}.png"
        assert main(["plot", str(path), "--output", str(png)]) == 0
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["energy", str(net), "--hardware", "loihi", "--no-plot"]) == 0
    assert "loihi: " in capsys.readouterr().out
    assert main(["energy", str(lsm), "--hardware", "loihi", "--no-plot"]) == 0
    assert "energy per sample over 3 recorded test samples" in capsys.readouterr().out
    assert main(["metrics", str(lsm)]) == 0
    out = capsys.readouterr().out
    assert "branching factor" in out and "kernel rank" in out
    for args, needle in ((["plot", str(rram)], "a rram_lsm result has no plot"),
                         (["energy", str(rram), "--hardware", "loihi"], "no energy report"),
                         (["metrics", str(rram)], "not a lsm_classification result"),
                         (["metrics", str(net)], "not a lsm_classification result")):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and needle in err
