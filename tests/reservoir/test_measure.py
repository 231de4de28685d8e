"""``neurosim metrics``: reservoir metrics of LSM result files and configs (125-neuron liquid)."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest

from neurosim.cli import main
from neurosim.config import dump_config
from neurosim.data.encoders import bernoulli_step
from neurosim.errors import ConfigError, DataError
from neurosim.reservoir.measure import (
    DriveSettings, drive_liquid, filter_states, liquid_lyapunov, liquid_memory_capacity,
    load_target, measure, scalar_drive)
from neurosim.reservoir.metrics import memory_capacity, separation
from neurosim.reservoir.pipeline import LSMResult, SplitFeatures, dynamics
from neurosim.reservoir.readout import ReadoutResult, l1_features
from neurosim.reservoir.results import save_lsm
from neurosim.reservoir.simulate import LiquidSimulator, active_inputs, sample_keys

TINY = """
task: lsm_classification
name: tiny
liquid: {size: 125, grid: [5, 5, 5], w_init: 1.0}
plasticity: {rule: none}
protocol: {sample_duration: 100 ms}
branching: {samples: 10}
"""
SMALL = DriveSettings(values=600, washout=50, max_delay=10, trials=4, horizon=20)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(TINY)
    return load_target(path)


def test_drive_reproduces_the_lsm_kernel_with_fixed_weights(tiny):
    """Same input spikes (the kernel's counter-based draws) -> the same liquid raster."""
    liquid, dyn, steps = tiny.liquid, dynamics(tiny.cfg), 120
    probs = np.random.default_rng(1).random((1, liquid.spec.n_inputs)).astype(np.float32) * 0.3
    sim = LiquidSimulator(liquid, dyn, seed=7)
    _, rasters, _ = sim.run(probs, np.array([3]), steps, record=np.array([True]))
    key = sample_keys(7, np.array([3]))[0]
    _, active = active_inputs(probs)
    out = np.zeros(liquid.spec.n_inputs, np.int32)
    rows = [out[: bernoulli_step(key, t, active, probs[0], probs.shape[1], out)].copy()
            for t in range(steps)]
    ptr = np.concatenate([[0], np.cumsum([r.size for r in rows])])
    raster = drive_liquid(liquid, liquid.weight, dyn, ptr, np.concatenate(rows), steps)
    assert rasters[0].sum() > 100
    np.testing.assert_array_equal(raster, rasters[0])


def test_filter_is_the_difference_equation():
    s = (np.random.default_rng(2).random((50, 3)) < 0.3).astype(np.uint8)
    x, expect, d = filter_states(s, 7.0), np.zeros(3), np.exp(-1 / 7.0)
    for t in range(50):
        expect = expect * d + s[t]
        np.testing.assert_allclose(x[t], expect, rtol=1e-12)


def test_memory_capacity_of_the_driven_liquid(tiny):
    dyn, rng = dynamics(tiny.cfg), np.random.default_rng(3)
    u, ptr, idx = scalar_drive(tiny.liquid.spec.n_inputs, SMALL, rng)
    raster = drive_liquid(tiny.liquid, tiny.weights, dyn, ptr, idx, u.size * SMALL.hold)
    mc, ridge = liquid_memory_capacity(raster, u, SMALL)
    # by hand: filter, read the last step of every held value, expire old traces,
    # pick the ridge on the training half, score the whole series with it
    states = filter_states(raster, SMALL.tau_filter)[np.arange(1, u.size + 1) * SMALL.hold - 1]
    states[states < 1e-3] = 0.0
    cut = SMALL.washout + (u.size - SMALL.washout) // 2
    inner = [memory_capacity(states[:cut], u[:cut], SMALL.max_delay, washout=SMALL.washout,
                             ridge=r).total for r in SMALL.ridges]
    assert ridge == SMALL.ridges[int(np.argmax(inner))]
    expect = memory_capacity(states, u, SMALL.max_delay, washout=SMALL.washout, ridge=ridge)
    assert mc.total == pytest.approx(expect.total, rel=1e-12)
    # the input is held, so the reconstruction of u at delay 1 (the value the
    # liquid has fully seen) is far above an independent sequence's
    control, _ = liquid_memory_capacity(raster, rng.random(u.size), SMALL)
    assert mc.per_delay[1] > 0.2 and mc.per_delay[1] > 10 * control.per_delay[1]


def test_lyapunov_floor_without_synapses_or_input(tiny):
    """No recurrent weights, no input: the extra spike changes nothing else, so
    delta(k) = exp(-k / tau_filter) and the exponent is the floor -1/tau_filter."""
    dyn = dynamics(tiny.cfg)
    steps = SMALL.values * SMALL.hold
    ptr, idx = np.zeros(steps + 1, np.int64), np.zeros(0, np.int32)
    silent = drive_liquid(tiny.liquid, tiny.weights * 0, dyn, ptr, idx, steps)
    assert silent.sum() == 0
    ly = liquid_lyapunov(tiny.liquid, tiny.weights * 0, dyn, ptr, idx, silent, SMALL,
                         np.random.default_rng(4))
    k = np.arange(SMALL.horizon + 1)
    np.testing.assert_allclose(ly.divergence, np.exp(-k / SMALL.tau_filter), rtol=1e-12)
    assert ly.exponent == pytest.approx(-1 / SMALL.tau_filter, rel=1e-12)
    assert ly.unchanged == 1.0


def test_lyapunov_of_a_chaotic_liquid_above_the_floor(tiny):
    strong = dataclasses.replace(tiny, weights=tiny.weights * 3)  # w = 3: the NALSM start
    res = measure(strong, ["lyapunov"], SMALL)
    assert res["lyapunov"]["per_step"] > res["lyapunov"]["floor_per_step"] + 0.02


@pytest.fixture(scope="module")
def result_file(tmp_path_factory, tiny):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, 60).astype(np.uint8)
    centres = rng.integers(0, 6, (4, 125))
    counts = (centres[labels] + rng.poisson(1.0, (60, 125))).astype(np.uint16)
    feats = {s: SplitFeatures(counts, labels, np.arange(60))
             for s in ("train", "validation", "test")}
    ro = ReadoutResult(0.5, 0.5, 0.5, 0, {"test": np.zeros(1)}, 1e-3)
    branching = np.array([1.1, 1.3, np.nan, 1.2])
    result = LSMResult("tiny", dump_config(tiny.cfg), feats, ro, ro, branching,
                       tiny.liquid.weight * 0.5, tiny.liquid.n_synapses)
    return save_lsm(result, tmp_path_factory.mktemp("lsm") / "tiny.h5"), counts, labels


def test_result_file_through_cli(result_file, tmp_path, capsys):
    path, counts, labels = result_file
    out = tmp_path / "m" / "metrics.json"
    assert main(["metrics", str(path), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for needle in ("branching factor", "kernel rank", "separation", "json:"):
        assert needle in text
    res = json.loads(out.read_text())
    feats = l1_features(counts).astype(np.float64)
    s = np.linalg.svd(feats, compute_uv=False)
    assert res["kernel_rank"]["rank"] == np.linalg.matrix_rank(feats, tol=1e-3 * s[0])
    assert res["separation"] == pytest.approx(separation(l1_features(counts), labels), rel=1e-12)
    assert res["branching_factor"]["mean"] == pytest.approx(1.2)
    assert res["branching_factor"]["sd"] == pytest.approx(np.std([1.1, 1.3, 1.2]))
    assert res["branching_factor"]["samples"] == 3


def test_result_file_drives_its_w_ini(result_file):
    target = load_target(result_file[0])
    np.testing.assert_array_equal(target.weights, target.liquid.weight * 0.5)
    res = measure(target, ["memory_capacity"], SMALL)
    assert res["drive"]["weights"] == "W_ini" and res["memory_capacity"]["total"] > 0


def test_config_through_cli(tmp_path, capsys):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY)
    out = tmp_path / "m.json"
    args = ["metrics", str(cfg), "--set", "seed=2", "--metric", "memory_capacity",
            "--metric", "branching_factor", "--values", "600", "--json", str(out)]
    assert main(args) == 0
    assert "memory capacity" in capsys.readouterr().out
    res = json.loads(out.read_text())
    assert 0 < res["memory_capacity"]["total"] <= res["memory_capacity"]["max_delay"] + 1
    assert res["branching_factor"]["samples"] == 30  # 600 values x 5 steps in 100 ms samples
    assert main(args) == 0 and json.loads(out.read_text()) == res  # same seed, same numbers


@pytest.mark.parametrize("target, extra, needle", [
    ("no_such_config", [], "no_such_config"),
    ("cuba", [], "not an LSM config"),
    ("nalsm_fashion", ["--metric", "kernel_rank"], "need the test features"),
    ("nalsm_fashion", ["--metric", "entropy"], "unknown metric"),
])
def test_bad_target_one_error(target, extra, needle, capsys):
    assert main(["metrics", target, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err


def test_foreign_hdf5_one_error(tmp_path, capsys):
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "something-else"
    assert main(["metrics", str(tmp_path / "other.h5")]) == 2
    assert "is not a neurosim result file" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        load_target(tmp_path / "other.h5", ["seed=1"])
    with pytest.raises(DataError):
        load_target(tmp_path / "other.h5")
