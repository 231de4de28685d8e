"""Each device stage against its definition; ideal twins change nothing."""

import numpy as np
import pytest
from scipy import stats

from neurosim.crossbar import device_params
from neurosim.crossbar.stages import (Drift, IRDrop, ProgrammingNoise, Quantise, StuckFaults,
                                      Variation, device_chain)

G_MIN, G_MAX = 1e-6, 11e-6


def _mid(shape):
    """Pairs at mid-range, far from the clipping bounds for small noise."""
    return np.full(shape, 6e-6)


def _chi2_ok(sample_var, n, var):
    """Sample variance of n draws consistent with ``var`` (two-sided, 1e-4)."""
    stat = (n - 1) * sample_var / var
    return stats.chi2.ppf(5e-5, n - 1) < stat < stats.chi2.ppf(1 - 5e-5, n - 1)


def test_quantise_gives_exactly_the_nearest_of_n_levels():
    g = np.random.default_rng(0).uniform(G_MIN, G_MAX, (2, 3, 40, 50))
    q = Quantise(5, G_MIN, G_MAX)(g, None)
    levels = G_MIN + np.arange(5) * (G_MAX - G_MIN) / 4  # 1, 3.5, 6, 8.5, 11 uS
    nearest = levels[np.abs(g[..., None] - levels).argmin(axis=-1)]
    np.testing.assert_array_equal(q, nearest)
    assert set(np.unique(q)) <= set(levels)


def test_programming_noise_is_gaussian_with_the_given_std():
    g = _mid((2, 100_000))
    out = ProgrammingNoise(0.1e-6, G_MIN, G_MAX)(g, np.random.default_rng(1))
    d = (out - g).ravel()
    assert abs(d.mean()) < 5 * 0.1e-6 / np.sqrt(d.size)
    assert _chi2_ok(d.var(ddof=1), d.size, 0.1e-6**2)


def test_programming_noise_stays_within_the_conductance_range():
    g = np.array([G_MIN, G_MAX] * 1000, dtype=float)
    out = ProgrammingNoise(1e-6, G_MIN, G_MAX)(g, np.random.default_rng(2))
    assert out.min() >= G_MIN and out.max() <= G_MAX


def test_cycle_variation_is_new_each_programming_device_variation_fixed():
    g = _mid((2, 50_000))
    c2c = Variation(0.05, G_MIN, G_MAX)
    d2d = Variation(0.05, G_MIN, G_MAX, device_seed=7)
    rng = np.random.default_rng(3)
    a, b = c2c(g, rng), c2c(g, rng)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(d2d(g, rng), d2d(g, rng))
    rel = ((a - G_MIN) / (g - G_MIN) - 1).ravel()
    assert _chi2_ok(rel.var(ddof=1), rel.size, 0.05**2)


def test_stuck_fault_fractions_are_binomial():
    n = 200_000
    g = _mid((2, n // 2))
    out = StuckFaults(0.01, 0.03, G_MIN, G_MAX, device_seed=11)(g, None)
    for value, rate in ((G_MAX, 0.01), (G_MIN, 0.03)):
        k = int((out == value).sum())
        assert abs(k - n * rate) < 5 * np.sqrt(n * rate * (1 - rate))
    assert ((out == G_MAX) | (out == G_MIN) | (out == g)).all()


def test_drift_follows_the_power_law():
    g = _mid((2, 10))
    out = Drift(0.05, 0.0, t0=20.0, t=86_400.0, device_seed=1)(g, None)
    np.testing.assert_allclose(out, g * (86_400.0 / 20.0) ** -0.05, rtol=1e-14)
    assert Drift(0.05, 0.0, 20.0, 86_400.0, 1).compensation == pytest.approx((86_400.0 / 20.0) ** 0.05)


def test_ir_drop_counts_the_wire_segments_of_each_cell():
    # 2 x 3 tile: the cell in row i, column j has (j + 1) + (2 - i) segments.
    g = np.full((2, 2, 3), 10e-6)
    out = IRDrop(100.0)(g, None)
    segments = np.array([[3, 4, 5], [2, 3, 4]])
    np.testing.assert_allclose(out[0], 10e-6 / (1 + 10e-6 * 100.0 * segments), rtol=1e-15)


@pytest.mark.parametrize("stage", [
    Quantise(4, G_MIN, G_MAX), ProgrammingNoise(1e-6, G_MIN, G_MAX), Variation(0.1, G_MIN, G_MAX),
    Variation(0.1, G_MIN, G_MAX, device_seed=1), StuckFaults(0.1, 0.1, G_MIN, G_MAX, 1),
    Drift(0.1, 0.02, 20.0, 1e6, 1), IRDrop(5.0)])
def test_every_ideal_twin_is_the_identity(stage):
    g = np.random.default_rng(4).uniform(G_MIN, G_MAX, (2, 4, 8, 8))
    np.testing.assert_array_equal(stage.ideal()(g, np.random.default_rng(5)), g)
    assert not np.array_equal(stage(g, np.random.default_rng(5)), g)


def test_ideal_config_gives_an_identity_chain():
    g = np.random.default_rng(6).uniform(G_MIN, G_MAX, (2, 2, 16, 16))
    chain = device_chain(device_params(ideal=True, drift_nu=0.1), 3)
    np.testing.assert_array_equal(chain(g, np.random.default_rng(0)), g)
    assert len(device_chain(device_params(), 3).stages) == 7
    assert len(device_chain(device_params(mode="random_device"), 3).stages) == 2
