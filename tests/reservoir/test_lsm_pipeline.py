"""A small NALSM end to end on generated idx files, through the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosim.cli import main
from neurosim.config import load_config, load_config_text
from neurosim.reservoir.pipeline import (SplitFeatures, init_batches, readout_inputs,
                                         softmax_readouts, split_peaks, train_readouts)
from neurosim.reservoir.readout import best_on_validation, l1_features, train_ridge
from neurosim.reservoir.results import load_features, load_summary

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

SMALL = """
task: lsm_classification
name: small
threads: 2
data: {{path: {path}, train: 400, validation: 100, test: 150}}
liquid: {{size: 125, grid: [5, 5, 5]}}
protocol: {{init_samples: 100, sample_duration: 100 ms}}
readout: {{epochs: 25}}
branching: {{samples: 10}}
output: {{dir: {out}}}
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fmnist")
    write_pattern_dataset(folder, 600, 150, seed=0)
    return folder


def test_small_nalsm_learns_above_chance(dataset, tmp_path, capsys):
    cfg_file = tmp_path / "small.yaml"
    cfg_file.write_text(SMALL.format(path=dataset, out=tmp_path / "out"))
    assert main(["run", str(cfg_file), "-q"]) == 0
    assert main(["run", str(cfg_file), "--no-plot", "-o", str(tmp_path / "r2.h5")]) == 0
    text = capsys.readouterr().out
    for needle in ("test accuracy", "branching factor", "wall time", "result:", "samples/s"):
        assert needle in text
    summary = load_summary(tmp_path / "out" / "small.h5")
    assert summary["softmax_test"] > 0.5 and summary["ridge_test"] > 0.5  # chance: 0.1
    assert np.isfinite(summary["branching_factor"]) and summary["branching_factor"] > 0
    assert (tmp_path / "out" / "small.png").is_file()
    # Same seed, same features; and the readout retrains from the file alone.
    a, b = load_features(tmp_path / "out" / "small.h5"), load_features(tmp_path / "r2.h5")
    for split in ("train", "validation", "test"):
        np.testing.assert_array_equal(a[split].counts, b[split].counts)
    xy = [(l1_features(a[s].counts), a[s].labels) for s in ("train", "validation", "test")]
    again = train_ridge(*xy, alphas=[summary["ridge_alpha"]])
    assert again.test_accuracy == pytest.approx(summary["ridge_test"])
    softmax, ridge = train_readouts(load_config_text(cfg_file.read_text(), "small"), a)
    assert softmax.test_accuracy == pytest.approx(summary["softmax_test"])
    assert ridge.test_accuracy == pytest.approx(summary["ridge_test"])


def test_a_silent_liquid_has_no_branching_factor_rather_than_nan(dataset, tmp_path, capsys):
    """A threshold no neuron reaches: no spike, so no sample has a branching factor;
    the file, the summary, the figure and ``neurosim metrics`` all say so."""
    cfg_file = tmp_path / "silent.yaml"
    cfg_file.write_text(SMALL.format(path=dataset, out=tmp_path))
    out = tmp_path / "silent.h5"
    assert main(["run", str(cfg_file), "-o", str(out), "--set", "neuron.threshold=1e12",
                 "--set", "data.train=20", "--set", "data.validation=10", "--set", "data.test=10",
                 "--set", "readout.epochs=1", "--set", "protocol.init_samples=10"]) == 0
    assert "branching factor undefined (no spikes in the recorded test samples)" in \
        capsys.readouterr().out
    assert "branching_factor" not in load_summary(out)
    with h5py.File(out) as f:
        assert f["branching"].shape == (0,)
    assert out.with_suffix(".png").is_file()
    assert main(["metrics", str(out), "--metric", "branching_factor"]) == 0
    assert "undefined" in capsys.readouterr().out


@pytest.mark.parametrize("n_fit, n_init, batch, done", [(7, 30, 4, 0), (7, 30, 4, 13),
                                                         (7, 30, 10, 14), (50, 3, 512, 0)])
def test_initialisation_batches_are_successive_permutations_drawn_as_reached(
        n_fit, n_init, batch, done):
    """The order of the whole initialisation (a resumed run from sample ``done``),
    without holding it: init_samples 10**9 had died allocating 8 GB before a sample."""
    rng = np.random.default_rng(1)
    whole = np.concatenate([rng.permutation(n_fit) for _ in range(-(-n_init // n_fit))])
    got = list(init_batches(np.random.default_rng(1), n_fit, n_init, batch, done))
    assert [start for start, _ in got] == list(range(done, n_init, batch))
    np.testing.assert_array_equal(np.concatenate([idx for _, idx in got]), whole[done:n_init])
    start, idx = next(init_batches(rng, 50000, 10**12, 512))
    assert start == 0 and len(idx) == 512


def test_softmax_learning_rate_is_chosen_on_validation(dataset):
    rng = np.random.default_rng(1)
    centres = rng.random((10, 50))
    features = {}
    for split, n in (("train", 300), ("validation", 100), ("test", 100)):
        labels = rng.integers(0, 10, n)
        counts = rng.poisson(20 * centres[labels])
        features[split] = SplitFeatures(counts, labels, np.arange(n))
    cfg = load_config_text(SMALL.format(path=dataset, out="x"), overrides=[
        "readout.learning_rate=[1e-7, 0.05]", "readout.epochs=3"])
    runs = softmax_readouts(cfg, readout_inputs(features))
    assert [run.hyper for run in runs] == [1e-7, 0.05]
    assert runs[1].validation_accuracy > runs[0].validation_accuracy
    assert best_on_validation(runs) is runs[1]
    assert best_on_validation(runs[::-1] + [runs[1]]) is runs[1]  # first of equals
    assert train_readouts(cfg, features)[0].test_accuracy == runs[1].test_accuracy


def test_same_features_for_any_thread_count(dataset):
    from neurosim.config import dump_config
    from neurosim.reservoir.pipeline import run_lsm

    cfg = load_config_text(SMALL.format(path=dataset, out="x"), overrides=[
        "data.train=40", "data.validation=20", "data.test=20", "readout.epochs=1",
        "protocol.init_samples=30"])
    one = run_lsm(cfg, dump_config(cfg), progress=False, threads=1)
    two = run_lsm(cfg, dump_config(cfg), progress=False, threads=2)
    np.testing.assert_array_equal(one.features["test"].counts, two.features["test"].counts)
    np.testing.assert_array_equal(one.w_ini, two.w_ini)


def test_test_images_are_scaled_by_the_training_maximum_unless_asked_otherwise():
    # The images' largest pixel shares: 0.5 and 0.25 (train), 0.25 (test).
    train = np.array([[[2, 1], [1, 0]], [[1, 1], [1, 1]]], np.uint8)
    test = np.array([[[1, 1], [1, 1]]], np.uint8)
    assert split_peaks("train", train, test) == {"train": 0.5, "validation": 0.5, "test": 0.5}
    assert split_peaks("split", train, test) == {"train": 0.5, "validation": 0.5, "test": 0.25}
    assert load_config(CONFIGS / "lsm_fashion.yaml").encoder.peak_from == "train"


@pytest.mark.parametrize("name", ["nalsm_fashion", "nalsm1000_fashion", "nalsm8000_fashion",
                                  "lsm_fashion", "lsm_stdp_fashion"])
def test_builtin_lsm_configs_validate(name):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert cfg.task == "lsm_classification" and cfg.description
    assert cfg.liquid.size == int(np.prod(cfg.liquid.grid))


def test_missing_dataset_is_one_clear_error(tmp_path, capsys):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(SMALL.format(path=tmp_path / "absent", out=tmp_path))
    assert main(["run", str(cfg_file), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "apt-get install -y dataset-fashion-mnist" in err
    assert not list(tmp_path.glob("*.h5"))


@pytest.mark.parametrize("override,message", [
    ("liquid.size=8000", "liquid.grid: 10x10x10 = 1000 neurons does not match liquid.size = 8000"),
    ("liquid.length_scale=-3", "liquid.length_scale: Input should be greater than 0"),
    ("protocol.sample_duration=250.5 ms", "protocol.sample_duration: 250.5 ms is not a whole"),
    ("task=lsm_regression", "task: unknown task 'lsm_regression'"),
    ("liquid.lambda=3", "liquid.lambda: unknown key"),
    ("readout.learning_rate=[0.01, -1]", "readout.learning_rate.1: Input should be greater than 0"),
    ("readout.learning_rate=[]", "readout.learning_rate: List should have at least 1 item"),
])
def test_bad_configs_name_the_key(override, message, capsys):
    assert main(["validate", str(CONFIGS / "nalsm_fashion.yaml"), "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("error:") == 1
