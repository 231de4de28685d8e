"""Benchmark tasks for reservoirs: NARMA-10, memory-capacity input, NRMSE.

NARMA-10 (Atiya & Parlos 2000, the form used by Jaeger 2003 and most of the
reservoir literature)::

    y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0}^{9} y(t-i) + 1.5 u(t-9) u(t) + 0.1

with u(t) iid uniform on [0, 0.5] and y(t) = 0 before the first ten inputs.
(ReservoirPy's ``datasets.narma`` has other defaults and index offsets.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.errors import ConfigError, DataError

NARMA10_ORDER = 10


@njit(cache=True)
def _narma(u, order, a1, a2, b, c):
    y = np.zeros(u.shape[0])
    window = 0.0  # running sum of y(t-order+1) .. y(t)
    for t in range(order - 1, u.shape[0] - 1):
        window += y[t]
        if t >= order:
            window -= y[t - order]
        y[t + 1] = a1 * y[t] + a2 * y[t] * window + b * u[t - order + 1] * u[t] + c
    return y


def narma10(n_steps: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """Input ``u`` and target ``y`` of NARMA-10, both float64 of length ``n_steps``.

    ``seed`` is an int (a fresh ``numpy.random.default_rng(seed)``) or a
    generator from the caller's seeded tree.  Raises
    :class:`~neurosim.errors.DataError` if the series diverges (it happens, rarely,
    for some input draws; another seed gives a bounded series).
    """
    if n_steps <= NARMA10_ORDER:
        raise ConfigError(f"narma10: n_steps must exceed the order {NARMA10_ORDER}, got {n_steps}")
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 0.5, n_steps)
    y = _narma(u, NARMA10_ORDER, 0.3, 0.05, 1.5, 0.1)
    if not np.all(np.isfinite(y)) or np.abs(y).max() > 10.0:
        raise DataError(f"narma10: the series diverged for this seed ({seed!r}); use another seed")
    return u, y


def memory_capacity_input(n_steps: int, seed: int | np.random.Generator = 0,
                          low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """iid uniform input on [low, high] for the linear memory-capacity task (Jaeger 2002)."""
    return np.random.default_rng(seed).uniform(low, high, n_steps)


def nrmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error divided by the standard deviation of ``y_true``.

    1.0 is the error of predicting the mean; 0 is a perfect fit.  (ReservoirPy's
    ``observables.nrmse`` divides by the peak-to-peak range by default, which
    gives numbers about 4-5 times smaller on NARMA-10.)
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise DataError(f"nrmse: shapes differ, {y_true.shape} vs {y_pred.shape}")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)) / np.std(y_true))
