"""The cpu-vs-torch and A/B benchmark scripts run at a tiny size and report results that agree.

Their timings are not checked (those belong to the benchmarks); what is
checked is that each script runs through and that the agreement it reports
is the one the parity tests establish: identical spike trains on CUBA,
at least 99 % identical liquid counts on the LSM (float32).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
from test_fashion_mnist import write_dataset  # noqa: E402


def run_script(name: str, *args: str) -> None:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / name), *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_bench_backends_reports_identical_cuba_trains(tmp_path):
    out = tmp_path / "backends.json"
    run_script("bench_backends.py", "--duration", "0.02", "--repeats", "1",
               "--precisions", "float64", "--config", "cuba_scaled", "--set", "scale=0.5",
               "--out", str(out))
    (row,) = json.loads(out.read_text())["results"]
    assert row["n_neurons"] == 2000 and row["device"] == "cpu"
    assert row["spikes_cpu"] == row["spikes_torch"] > 0
    assert row["identical_trains"] == 1.0 and row["first_differing_step"] is None


def test_bench_lsm_backends_reports_identical_counts(tmp_path):
    data = tmp_path / "fmnist"
    data.mkdir()
    write_dataset(data, n_train=20, n_test=10)
    run_script("bench_lsm_backends.py", "--configs", "nalsm_fashion", "--data", str(data),
               "--nalsm-samples", "4", "--init", "4", "--batch", "2", "--threads", "1",
               "--no-accuracy", "--out", str(tmp_path), "--tag", "_tiny")
    (row,) = json.loads((tmp_path / "lsm_backends_tiny.json").read_text())["rows"]
    assert row["samples"] == 4 and row["init_samples"] == 4
    assert row["cpu_synaptic_events"] > 0
    assert row["torch_synaptic_events"] == pytest.approx(row["cpu_synaptic_events"], rel=0.01)
    assert row["fraction_counts_identical"] >= 0.99


def test_ab_nalsm_of_a_tree_against_itself_reports_the_same_features(tmp_path):
    data = tmp_path / "fmnist"
    data.mkdir()
    write_dataset(data, n_train=20, n_test=10)
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "ab_nalsm.py"), "--against",
                           str(BENCHMARKS.parent), "--data", str(data), "--samples", "3",
                           "--repeats", "1", "--inner", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["same_features"] and row["samples"] == 3
    assert len(row["this_samples_per_s"]) == len(row["other_samples_per_s"]) == 1


def test_bench_train_trains_both_from_the_same_weights(tmp_path):
    data = tmp_path / "fmnist"
    data.mkdir()
    write_dataset(data, n_train=600, n_test=64)
    out = tmp_path / "train.json"
    run_script("bench_train.py", "--data", str(data), "--batches", "2", "--test", "64",
               "--no-compile", "--out", str(out))
    rows = json.loads(out.read_text())["rows"]
    assert [row["encoding"] for row in rows] == ["constant_current", "bernoulli_rate"]
    for row in rows:
        assert row["batches"] == 2 and row["ratio"] > 0
        for side in ("neurosim", "snntorch"):
            assert 0 <= row[side]["test_accuracy_count"] <= 1


def test_ab_lsm_seeds_summarises_the_recorded_runs():
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "ab_lsm_seeds.py"), "--summarise",
                           str(BENCHMARKS / "results" / "lsm_seeds")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "nalsm_fashion" in proc.stdout
    assert "this - other, test_accuracy_softmax: mean +0.410 over seeds [0, 1, 2, 3, 4]" in proc.stdout
