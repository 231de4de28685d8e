"""``neurosim deploy``: a tiny trained network on cpu, torch and crossbar against the
training's forward pass; energy per inference; bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.cli import main  # noqa: E402
from neurosim.config import load_config, load_config_text  # noqa: E402
from neurosim.deploy.result import load_deploy  # noqa: E402
from neurosim.deploy.task import deploy  # noqa: E402
from neurosim.errors import ConfigError, DataError  # noqa: E402
from neurosim.training.result import load_train  # noqa: E402
from neurosim.training.task import train_task  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402


@pytest.fixture(scope="module")
def patterns(tmp_path_factory):
    folder = tmp_path_factory.mktemp("patterns")
    write_pattern_dataset(folder, n_train=400, n_test=120, seed=1)
    return folder


def _train(folder: Path, out: Path, *extra: str) -> Path:
    """snn_fashion shrunk to 784-48-10, 8 steps, one epoch of 300 samples (a few seconds)."""
    args = [f"data.path={folder}", "data.train=300", "data.validation=0", "data.test=120",
            "batch_size=50", "steps=8", "compile=false", "network.layers.hidden.out_features=48",
            "network.layers.out.in_features=48", *extra]
    train_task(load_config("snn_fashion", args), output=str(out), threads=1, quiet=True)
    return out


@pytest.fixture(scope="module")
def trained(patterns, tmp_path_factory):
    return _train(patterns, tmp_path_factory.mktemp("trained") / "tiny.h5")


@pytest.fixture(scope="module")
def trained_bernoulli(patterns, tmp_path_factory):
    return _train(patterns, tmp_path_factory.mktemp("trained") / "tiny_rate.h5",
                  "encoding.kind=bernoulli_rate", "loss=rate")


def _cfg(source: Path, backend: str, *extra: str):
    return load_config_text(f"task: deploy\nsource: {source}\nbackend: {backend}\n",
                            overrides=list(extra))


@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_deployed_spike_counts_are_the_training_forward_pass(trained, backend):
    result = deploy(_cfg(trained, backend))
    a = result.agreement
    assert result.samples == 120
    # The reference is what training reported on the same (whole) test split.
    assert a["reference_accuracy_count"] == pytest.approx(
        load_train(trained).test["accuracy_count"])
    assert a["reference_accuracy_count"] > 0.5  # it learnt something
    # The discrete LIF step is the model layer's on both sides: the same spikes.
    assert a["identical_counts"] >= 0.95
    assert abs(a["accuracy_count"] - a["reference_accuracy_count"]) <= 0.01
    assert abs(a["accuracy_membrane"] - a["reference_accuracy_membrane"]) <= 0.02
    spikes = result.counters["populations"]["out"]["spikes"]
    assert spikes == int(result.counts.sum())


def test_rate_coded_input_spikes_are_the_training_spikes(trained_bernoulli):
    a = deploy(_cfg(trained_bernoulli, "cpu", "samples=60")).agreement
    assert a["samples"] == 60
    assert a["identical_counts"] >= 0.95


def test_crossbar_runs_with_its_non_idealities_and_is_priced(trained, tmp_path, capsys):
    out = tmp_path / "xbar.h5"
    assert main(["deploy", str(trained), "--backend", "crossbar", "--samples", "40",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "backend crossbar" in text and "identical output spike counts" in text
    result = load_deploy(out)
    assert result.samples == 40 and result.backend == "crossbar"
    assert 0 <= result.agreement["accuracy_count"] <= 1
    reads = sum(row.get("crossbar_reads", 0) for row in result.counters["hardware"].values())
    assert reads > 0
    assert main(["energy", str(out), "--hardware", "rram_crossbar", "--hardware", "cpu_core",
                 "--no-plot"]) == 0
    assert "per inference over 40 test samples" in capsys.readouterr().out


def test_bad_input_is_one_clear_error(trained, patterns, tmp_path, capsys):
    assert main(["deploy", str(trained), "--backend", "gpu", "-o", str(tmp_path / "a.h5")]) == 2
    assert "backend: Input should be 'cpu', 'torch' or 'crossbar'" in capsys.readouterr().err
    assert main(["deploy", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "b.h5")]) == 2
    assert "no such file" in capsys.readouterr().err
    out = tmp_path / "d.h5"
    assert main(["deploy", str(trained), "--samples", "5", "-o", str(out), "-q"]) == 0
    assert main(["deploy", str(out), "-o", str(tmp_path / "e.h5")]) == 2
    assert "is a deploy result, not a trained network" in capsys.readouterr().err
    recurrent = _train(patterns, tmp_path / "rec.h5", "network.layers.hidden.recurrent=true",
                       "data.train=50")
    with pytest.raises(ConfigError, match="recurrent"):
        deploy(_cfg(recurrent, "cpu"))
    not_hdf5 = tmp_path / "x.h5"
    not_hdf5.write_text("hello")
    with pytest.raises(DataError, match="not HDF5"):
        deploy(_cfg(not_hdf5, "cpu"))
    assert np.isfinite(load_deploy(out).agreement["accuracy_count"])


def test_bench_deploy_writes_its_json(trained, tmp_path):
    import json
    import subprocess

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_deploy.py"
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(script), str(trained), "--samples", "10",
                    "--backends", "cpu", "torch", "--out", str(out)], check=True,
                   capture_output=True, text=True)
    rows = json.loads(out.read_text())["backends"]
    assert set(rows) == {"cpu", "torch"} and rows["cpu"]["samples"] == 10
    assert rows["cpu"]["energy"]["loihi"]["j_per_inference"] > 0


def test_an_ideal_crossbar_gives_the_training_spike_counts(trained):
    a = deploy(_cfg(trained, "crossbar", "crossbar.ideal=true", "samples=30")).agreement
    assert a["identical_counts"] >= 0.95
