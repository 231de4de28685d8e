"""E/I adaptive reservoir: equations written out densely here, plasticity toward targets, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import ConfigError
from neurosim.reservoir.adaptive import adapt, make_ei_reservoir, run, targets
from neurosim.reservoir.metrics import memory_capacity
from neurosim.reservoir.tasks import memory_capacity_input


def dense(res):
    """Signed weight matrix W[i, j] (j -> i) from the CSR arrays."""
    w = np.zeros((res.size, res.size))
    rows = np.repeat(np.arange(res.size), np.diff(res.indptr))
    w[rows, res.sources] = np.where(res.inhibitory, -res.weight, res.weight)
    return w


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_connectivity_follows_the_construction_rule():
    n, k, beta = 400, 40, -0.5
    res = make_ei_reservoir(n, in_degree=k, beta=beta, exc_fraction=0.8, seed=4)
    rows = np.repeat(np.arange(n), np.diff(res.indptr))
    assert np.all(np.diff(res.indptr) == k)
    assert not np.any(res.sources == rows)                      # no self-loops
    assert len({(r, s) for r, s in zip(rows, res.sources)}) == n * k  # no multapses
    np.testing.assert_array_equal(res.inhibitory, res.sources >= 320)  # Dale: sign by source
    w = dense(res)
    exc_sum = np.where(w > 0, w, 0).sum(axis=1)
    inh_sum = -np.where(w < 0, w, 0).sum(axis=1)
    assert exc_sum.mean() == pytest.approx(1.0, rel=0.03)
    assert inh_sum.mean() == pytest.approx(1.0 - beta, rel=0.08)
    full = make_ei_reservoir(10, in_degree=9, seed=1)  # all-to-all without self-loops
    np.testing.assert_array_equal(np.sort(full.sources[:9]), np.arange(1, 10))


def test_run_matches_the_rate_equation():
    res = make_ei_reservoir(60, in_degree=10, input_scaling=0.3, gain=7.0, threshold=0.1, leak=0.6,
                            seed=1)
    u = memory_capacity_input(25, seed=2)
    w = dense(res)
    r = np.zeros(60)
    expected = []
    for t in range(25):
        r = (1 - 0.6) * r + 0.6 * sigmoid(7.0 * (w @ r + res.w_in * u[t] - 0.1))
        expected.append(r)
    np.testing.assert_allclose(run(res, u), np.array(expected), rtol=1e-12, atol=1e-15)


def test_adapt_applies_the_plasticity_rule():
    res = make_ei_reservoir(50, in_degree=8, seed=3)
    u = memory_capacity_input(4, seed=5)
    rho = targets(50, 0.3, 0.1, seed=6)
    delta = 0.05
    w = dense(res)
    inh = w < 0
    r = np.zeros(50)
    for t in range(4):
        r = sigmoid(res.gain * (w @ r + res.w_in * u[t] - res.threshold))
        w = np.where(inh, -np.maximum(0.0, -w + delta * (r - rho)[:, None]), w)
    adapted, r_end = adapt(res, u, rho, delta=delta)
    np.testing.assert_allclose(dense(adapted), w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r_end, r, rtol=1e-12)
    assert np.all(adapted.weight >= 0.0)
    np.testing.assert_array_equal(res.weight, make_ei_reservoir(50, in_degree=8, seed=3).weight)


@pytest.mark.parametrize("spread", [0.0, 0.2])
def test_plasticity_drives_rates_to_targets(spread):
    # Start excitation-dominated (beta = 0.3: rates near saturation), far from the targets.
    res = make_ei_reservoir(200, in_degree=50, beta=0.3, input_scaling=0.05, seed=7)
    rho = targets(200, 0.35, spread, seed=8)
    probe = memory_capacity_input(1000, seed=10)
    before = np.abs(run(res, probe)[200:].mean(axis=0) - rho).mean()
    adapted, r = adapt(res, memory_capacity_input(3000, seed=9), rho, delta=1e-3)
    after = np.abs(run(adapted, probe, r)[200:].mean(axis=0) - rho).mean()
    assert before > 0.2
    assert after < 0.02


def test_same_seed_same_reservoir_and_states():
    u = memory_capacity_input(300, seed=1)
    rho = targets(100, 0.3, 0.1, seed=2)
    a, ra = adapt(make_ei_reservoir(100, in_degree=10, seed=11), u, rho)
    b, rb = adapt(make_ei_reservoir(100, in_degree=10, seed=11), u, rho)
    c = make_ei_reservoir(100, in_degree=10, seed=12)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(run(a, u, ra), run(b, u, rb))
    assert not np.array_equal(a.sources, c.sources)
    seq = np.random.SeedSequence(11)  # a SeedSequence given twice builds the same reservoir
    np.testing.assert_array_equal(make_ei_reservoir(100, in_degree=10, seed=seq).weight,
                                  make_ei_reservoir(100, in_degree=10, seed=seq).weight)
    np.testing.assert_array_equal(targets(100, 0.3, 0.1, seed=2), rho)


def test_adaptation_beats_global_tuning_on_memory_capacity():
    # Small version of benchmarks/bench_reservoir_esn.py: the best fixed global E/I balance against
    # local adaptation to a target rate, started from the balanced network.
    u = memory_capacity_input(3000, seed=1)
    def mc(res):
        return memory_capacity(run(res, u), u, max_delay=100, washout=100, ridge=1e-6).total
    best_global = max(mc(make_ei_reservoir(200, in_degree=50, beta=b, input_scaling=0.01, seed=0))
                      for b in (0.0, -0.5, -1.0, -1.5))
    balanced = make_ei_reservoir(200, in_degree=50, beta=0.0, input_scaling=0.01, seed=0)
    adapted, _ = adapt(balanced, memory_capacity_input(2000, seed=2), targets(200, 0.4))
    assert mc(adapted) > 1.2 * best_global


def test_bad_parameters_raise_one_clear_error():
    with pytest.raises(ConfigError, match="in_degree"):
        make_ei_reservoir(10, in_degree=10)
    with pytest.raises(ConfigError, match="beta"):
        make_ei_reservoir(10, in_degree=3, beta=1.5)
    with pytest.raises(ConfigError, match="inside"):
        targets(10, 0.1, 0.2)
    res = make_ei_reservoir(10, in_degree=3)
    with pytest.raises(ConfigError, match="one rate per unit"):
        adapt(res, np.zeros(5), np.full(9, 0.2))
