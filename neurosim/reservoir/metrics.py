"""Reservoir metrics on state matrices: memory capacity, kernel rank, separation, Lyapunov.

They take plain arrays, so they serve any reservoir: a rate network's
activations, or a spiking liquid's filtered spike trains / spike counts, one
row per time step (or per input stream), one column per unit.

- :func:`memory_capacity`: linear short-term memory (Jaeger 2002),
  MC = sum_k corr(u(t-k), y_k(t))^2, where y_k is the best linear (ridge)
  reconstruction of u(t-k) from the state at t, fitted on a training part and
  scored on the held-out rest.  For iid input it is bounded by the number of
  state dimensions.
- :func:`kernel_rank`: numerical rank of the states reached from distinct
  inputs (kernel quality, Legenstein & Maass 2007).
- :func:`separation`: inter-class distance over intra-class spread of states
  (Goodman & Ventura 2006).
- :func:`largest_lyapunov`: Benettin estimate of the largest Lyapunov exponent
  from twin trajectories through a user-given step function.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from neurosim.errors import ConfigError, DataError


class MemoryCapacity(NamedTuple):
    total: float
    #: squared correlation per delay, delays ``0 .. max_delay``
    per_delay: np.ndarray


def ridge_fit(states: np.ndarray, targets: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge regression of ``targets`` (T, m) on standardised ``states`` (T, N) plus a bias.

    Columns are z-scored with the training statistics first, so ``ridge`` is
    scale-free: it penalises ``ridge * T * |w|^2`` against the summed squared
    error, i.e. the same relative strength for states of 1e-4 or of 1.
    Returns ``(w, mean, scale)`` for :func:`ridge_predict`.
    """
    mean = states.mean(axis=0)
    scale = states.std(axis=0)
    scale[scale == 0.0] = 1.0  # constant units carry nothing; keep them finite
    x = (states - mean) / scale
    x = np.hstack([x, np.ones((x.shape[0], 1))])
    gram = x.T @ x
    gram[np.diag_indices_from(gram)] += ridge * x.shape[0]
    w = np.linalg.solve(gram, x.T @ targets)
    return w, mean, scale


def ridge_predict(fit: tuple[np.ndarray, np.ndarray, np.ndarray], states: np.ndarray) -> np.ndarray:
    """Apply a :func:`ridge_fit` result to new states."""
    w, mean, scale = fit
    return (states - mean) / scale @ w[:-1] + w[-1]


def _check_series(states: np.ndarray, inputs: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    states = np.asarray(states, dtype=np.float64)
    inputs = np.asarray(inputs, dtype=np.float64).reshape(-1)
    if states.ndim != 2 or states.shape[0] != inputs.shape[0]:
        raise DataError(f"{what}: states must be (T, N) with T = len(inputs) = {inputs.shape[0]}, "
                        f"got {states.shape}")
    return states, inputs


def memory_capacity(states: np.ndarray, inputs: np.ndarray, max_delay: int, washout: int = 100,
                    train_fraction: float = 0.5, ridge: float = 1e-8) -> MemoryCapacity:
    """Linear memory capacity of a reservoir driven by iid ``inputs``.

    ``states[t]`` is the state after the reservoir has seen ``inputs[:t+1]``.
    For each delay k = 0 .. ``max_delay`` a ridge readout reconstructs
    ``inputs[t-k]`` from ``states[t]``; MC_k is the squared Pearson correlation
    of reconstruction and truth on the test part.  Delay 0 is included so the
    sum does not depend on whether a model's state at t already holds u(t)
    (ESN convention) or only u(t-1) (x(t+1) = W x(t) + w u(t)); either way the
    total is at most the state dimension.  Rows before ``max(washout,
    max_delay)`` are dropped; the first ``train_fraction`` of the rest trains
    all readouts at once, the remainder tests them.
    """
    states, inputs = _check_series(states, inputs, "memory_capacity")
    start = max(washout, max_delay)
    n_rows = states.shape[0] - start
    n_train = int(n_rows * train_fraction)
    if max_delay < 0 or n_train < 2 or n_rows - n_train < 2:
        raise ConfigError(f"memory_capacity: {states.shape[0]} steps leave too few train/test rows "
                          f"after washout {washout}, max_delay {max_delay}")
    rows = np.arange(start, states.shape[0])
    targets = inputs[rows[:, None] - np.arange(max_delay + 1)[None, :]]
    fit = ridge_fit(states[rows[:n_train]], targets[:n_train], ridge)
    pred = ridge_predict(fit, states[rows[n_train:]])
    truth = targets[n_train:]
    pred = pred - pred.mean(axis=0)
    truth = truth - truth.mean(axis=0)
    denom = (pred * pred).sum(axis=0) * (truth * truth).sum(axis=0)
    cov = (pred * truth).sum(axis=0)
    per_delay = np.divide(cov * cov, denom, out=np.zeros_like(cov), where=denom > 0)
    return MemoryCapacity(float(per_delay.sum()), per_delay)


def kernel_rank(states: np.ndarray, tol: float | None = None) -> int:
    """Numerical rank of a (n_inputs, N) matrix of states reached from distinct inputs.

    Counts singular values above ``tol * s_max``.  The default ``tol`` is
    ``max(n_inputs, N) * eps(float64)``, numpy's ``matrix_rank`` threshold: the
    rank up to rounding.  States measured with noise (spike counts, filtered
    spike trains) call for a larger relative ``tol`` such as 1e-3, so that
    directions at the noise floor are not counted as separation.
    """
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2 or states.size == 0:
        raise DataError(f"kernel_rank: states must be a non-empty 2-D matrix, got shape {states.shape}")
    s = np.linalg.svd(states, compute_uv=False)
    if s[0] == 0.0:
        return 0
    if tol is None:
        tol = max(states.shape) * np.finfo(np.float64).eps
    return int(np.count_nonzero(s > tol * s[0]))


def separation(states: np.ndarray, labels: np.ndarray) -> float:
    """Separation of states by input class: C_d / (C_v + 1).

    C_d is the Euclidean distance between class centroids summed over all
    ordered pairs of the N classes (a class with itself included) over N^2;
    C_v the mean over classes of the mean distance of a class's states to its
    centroid (Goodman & Ventura 2006).  Larger is better.
    """
    states = np.asarray(states, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    if states.ndim != 2 or states.shape[0] != labels.shape[0]:
        raise DataError(f"separation: states must be (n, N) with n = len(labels) = {labels.shape[0]}, "
                        f"got {states.shape}")
    classes, index = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise DataError("separation: needs states from at least two classes")
    counts = np.bincount(index).astype(np.float64)
    centroids = np.zeros((classes.size, states.shape[1]))
    np.add.at(centroids, index, states)
    centroids /= counts[:, None]
    spread = np.linalg.norm(states - centroids[index], axis=1)
    c_v = float(np.mean(np.bincount(index, weights=spread) / counts))
    i, j = np.triu_indices(classes.size, k=1)
    # Unordered pairs counted twice; the N zero self-distances only enter the N^2.
    c_d = 2.0 * float(np.linalg.norm(centroids[i] - centroids[j], axis=1).sum()) / classes.size**2
    return c_d / (c_v + 1.0)


def largest_lyapunov(step: Callable[[np.ndarray, int], np.ndarray], x0: np.ndarray, n_steps: int,
                     n_transient: int = 0, eps: float = 1e-8,
                     seed: int | np.random.Generator = 0) -> float:
    """Largest Lyapunov exponent (natural log per step) by Benettin's method.

    ``step(x, t)`` returns the state after step ``t`` from state ``x`` (``t``
    lets a driven reservoir read its input; both trajectories see the same
    one).  After ``n_transient`` steps of the reference trajectory, a twin is
    placed at distance ``eps`` in a random direction; each step both advance,
    the log of the separation growth is accumulated and the twin is pulled
    back to distance ``eps`` along the new separation.  Returns the mean log
    growth over ``n_steps``.  ``eps`` must be small enough for the dynamics to
    be linear over it and large enough to stay above rounding of the state.
    """
    if n_steps < 1 or not eps > 0.0:
        raise ConfigError(f"largest_lyapunov: need n_steps >= 1 and eps > 0, got {n_steps}, {eps}")
    x = np.array(x0, dtype=np.float64, copy=True)
    for t in range(n_transient):
        x = step(x, t)
    d = np.random.default_rng(seed).standard_normal(x.shape)
    twin = x + d * (eps / np.linalg.norm(d))
    total = 0.0
    for t in range(n_transient, n_transient + n_steps):
        x = step(x, t)
        d = step(twin, t) - x
        dist = float(np.linalg.norm(d))
        if dist == 0.0 or not np.isfinite(dist):
            raise DataError(f"largest_lyapunov: twin separation became {dist} at step {t}; "
                            "change eps (rounding or overflow)")
        total += np.log(dist / eps)
        twin = x + d * (eps / dist)
    return total / n_steps
