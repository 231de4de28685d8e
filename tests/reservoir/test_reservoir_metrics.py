"""Reservoir metrics against known answers: shift registers, constructed ranks, closed-form exponents."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import ConfigError, DataError
from neurosim.reservoir.metrics import (kernel_rank, largest_lyapunov, memory_capacity,
                                        separation)
from neurosim.reservoir.tasks import memory_capacity_input


def drive_linear(w, w_in, u, nonlinearity=None):
    """x(t) = f(W x(t-1) + w_in u(t)), the ESN convention (state at t holds u(t))."""
    x = np.zeros((u.size, w.shape[0]))
    state = np.zeros(w.shape[0])
    for t in range(u.size):
        state = w @ state + w_in * u[t]
        if nonlinearity is not None:
            state = nonlinearity(state)
        x[t] = state
    return x


def test_shift_register_memory_is_its_length():
    # A shift register of N units holds u(t) .. u(t-N+1) exactly: MC_k = 1 for k < N, 0 beyond.
    n = 12
    u = memory_capacity_input(4000, seed=1)
    states = np.stack([np.roll(u, k) for k in range(n)], axis=1)
    mc = memory_capacity(states, u, max_delay=30, washout=50)
    assert mc.total == pytest.approx(n, abs=0.05)
    np.testing.assert_allclose(mc.per_delay[:n], 1.0, atol=1e-9)
    assert mc.per_delay[n:].max() < 0.01


def test_shift_register_with_delayed_input_counts_the_same():
    # x(t+1) = S x(t) + e1 u(t): the state at t holds u(t-1) .. u(t-N); delay 0 adds nothing.
    n = 8
    w = np.eye(n, k=-1)
    e1 = np.eye(n)[0]
    u = memory_capacity_input(3000, seed=2)
    states = np.vstack([np.zeros(n), drive_linear(w, e1, u)[:-1]])
    mc = memory_capacity(states, u, max_delay=20)
    assert mc.total == pytest.approx(n, abs=0.05)
    assert mc.per_delay[0] < 0.01


def test_orthogonal_reservoir_with_small_input_approaches_n():
    # Linear networks have MC = N (Jaeger 2002); an orthogonal W (all modes decay alike) keeps the
    # state well conditioned, and tanh with tiny inputs is linear.
    n = 20
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w_in = rng.uniform(-1, 1, n)
    u = memory_capacity_input(8000, seed=6)
    states = drive_linear(0.85 * q, 1e-4 * w_in, u, np.tanh)
    mc = memory_capacity(states, u, max_delay=150, washout=200)
    assert 0.95 * n < mc.total <= n + 0.2


def test_memory_capacity_rejects_short_series():
    u = np.zeros(50)
    with pytest.raises(ConfigError, match="too few"):
        memory_capacity(np.zeros((50, 3)), u, max_delay=40, washout=47)
    with pytest.raises(DataError, match="states"):
        memory_capacity(np.zeros((49, 3)), u, max_delay=4)


def test_kernel_rank_of_constructed_matrices():
    rng = np.random.default_rng(0)
    for r in (1, 5, 17):
        m = rng.standard_normal((40, r)) @ rng.standard_normal((r, 60))
        assert kernel_rank(m) == r
    assert kernel_rank(np.zeros((5, 5))) == 0
    # A direction 1e-9 below the rest counts at the rounding tolerance, not at a 1e-6 tolerance.
    u, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    s = np.r_[np.ones(9), 1e-9, np.zeros(20)]
    m = (u * s) @ u.T
    assert kernel_rank(m) == 10
    assert kernel_rank(m, tol=1e-6) == 9


def test_separation_of_constructed_classes():
    # Goodman & Ventura (2006): Sep = C_d / (C_v + 1), C_d = sum over all ordered class pairs
    # (l, m) of |mu_l - mu_m| / N^2, C_v = mean over classes of the mean distance to the centroid.
    # Class a: mu_a +- d e1; class b: mu_b +- d e2. Spread d per class, centroid distance |mu_a - mu_b|.
    d = 0.5
    mu_a, mu_b = np.array([0.0, 0.0, 0.0]), np.array([3.0, 4.0, 0.0])
    e1, e2 = np.eye(3)[0], np.eye(3)[1]
    states = np.array([mu_a + d * e1, mu_a - d * e1, mu_b + d * e2, mu_b - d * e2])
    assert separation(states, [0, 0, 1, 1]) == pytest.approx((2 * 5.0 / 4) / (d + 1.0))
    # Three classes: each of the three distances twice over 3^2 ordered pairs.
    mu_c = np.array([0.0, 0.0, 12.0])
    three = np.vstack([states, mu_c[None, :]])
    pairs = 2 * (5.0 + 12.0 + 13.0) / 9.0
    assert separation(three, [0, 0, 1, 1, 2]) == pytest.approx(pairs / (2 * d / 3 + 1.0))
    with pytest.raises(DataError, match="two classes"):
        separation(states, [1, 1, 1, 1])


def test_lyapunov_of_linear_maps_is_log_spectral_radius():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((4, 4))
    for eigs in ([0.9, -0.5, 0.3, 0.1], [1.3, 0.7, -0.2, 0.05]):
        a = v @ np.diag(eigs) @ np.linalg.inv(v)
        lam = largest_lyapunov(lambda x, t: a @ x, np.zeros(4), n_steps=400, n_transient=10)
        assert lam == pytest.approx(np.log(max(np.abs(eigs))), abs=0.01)
    # Dominant complex pair: a scaled rotation shrinks every vector by exactly 0.8.
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[0.8 * c, -0.8 * s, 0], [0.8 * s, 0.8 * c, 0], [0, 0, 0.5]])
    lam = largest_lyapunov(lambda x, t: rot @ x, np.zeros(3), n_steps=2000)
    assert lam == pytest.approx(np.log(0.8), abs=1e-3)


def test_lyapunov_of_logistic_map_at_r4_is_log2():
    lam = largest_lyapunov(lambda x, t: 4.0 * x * (1.0 - x), np.array([0.3]), n_steps=50000,
                           n_transient=100, eps=1e-10)
    assert lam == pytest.approx(np.log(2.0), abs=0.02)
