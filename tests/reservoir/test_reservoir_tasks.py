"""NARMA-10 against its recurrence written out here; NRMSE against its definition."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import ConfigError, DataError
from neurosim.reservoir.tasks import memory_capacity_input, narma10, nrmse


def test_narma10_follows_the_recurrence():
    u, y = narma10(2000, seed=3)
    expected = np.zeros(2000)
    for t in range(9, 1999):
        expected[t + 1] = (0.3 * expected[t]
                           + 0.05 * expected[t] * sum(expected[t - i] for i in range(10) if t - i >= 0)
                           + 1.5 * u[t - 9] * u[t] + 0.1)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-14)
    assert u.min() >= 0.0 and u.max() <= 0.5
    assert np.all(y[:10] == 0.0)


def test_narma10_is_seeded():
    a, b, c = narma10(500, seed=1), narma10(500, seed=1), narma10(500, seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_narma10_rejects_too_short():
    with pytest.raises(ConfigError, match="n_steps"):
        narma10(10)


def test_memory_capacity_input_is_uniform_iid():
    u = memory_capacity_input(20000, seed=0)
    assert -1.0 <= u.min() and u.max() <= 1.0
    assert abs(u.mean()) < 0.02 and abs(u.var() - 1.0 / 3.0) < 0.01
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 0.03


def test_nrmse_definition():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert nrmse(y, np.full(4, y.mean())) == pytest.approx(1.0)
    assert nrmse(y, y) == 0.0
    assert nrmse(y, y + 0.5) == pytest.approx(0.5 / np.std(y))
    with pytest.raises(DataError, match="shapes"):
        nrmse(y, y[:3])
