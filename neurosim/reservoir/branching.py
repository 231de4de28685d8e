"""Branching factor of liquid activity (as the NALSM paper measures it).

For every spike of liquid neuron ``i`` at step ``t``::

    sigma_i(t) = (spikes of i's liquid targets in [t+1, t+window])
                 / max(1, spikes of i's liquid sources in [t-window, t-1])

Spikes in the first and last ``margin`` steps are dropped and ``t`` runs
over ``[margin + window, steps - margin - window)``, so both windows lie in
the kept span. ``sigma_i`` is averaged over the spikes of each neuron, then
over the neurons that spiked, then over samples. Above 1 activity grows,
below 1 it dies out; the paper puts NALSM near 1.1-1.25.

A sample without a counted spike (a silent liquid, or spikes only in the
margins) has no branching factor: results keep only the samples that have
one, and a run where none has says so instead of storing NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _sample_sigma(raster, out_ptr, out_idx, in_ptr, in_idx, window, margin):
    steps, n = raster.shape
    cum = np.zeros((steps + 1, n), np.int32)  # cum[t, i]: spikes of i in [margin, t)
    for t in range(margin, steps - margin):
        for i in range(n):
            cum[t + 1, i] = cum[t, i] + raster[t, i]
    for t in range(steps - margin + 1, steps + 1):
        cum[t, :] = cum[steps - margin, :]
    total = np.zeros(n)
    spikes = np.zeros(n, np.int64)
    for t in range(margin + window, steps - margin - window):
        for i in range(n):
            if raster[t, i] == 0:
                continue
            pre = 0
            for q in range(in_ptr[i], in_ptr[i + 1]):
                j = in_idx[q]
                pre += cum[t, j] - cum[t - window, j]
            post = 0
            for q in range(out_ptr[i], out_ptr[i + 1]):
                j = out_idx[q]
                post += cum[t + 1 + window, j] - cum[t + 1, j]
            total[i] += post / max(pre, 1)
            spikes[i] += 1
    acc = 0.0
    active = 0
    for i in range(n):
        if spikes[i] > 0:
            acc += total[i] / spikes[i]
            active += 1
    return acc / active if active > 0 else np.nan


def branching_factor(rasters: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
                     window: int = 4, margin: int = 25) -> np.ndarray:
    """Branching factor of each sample.

    Parameters
    ----------
    rasters:
        ``(samples, steps, n)`` 0/1 spikes of the liquid neurons.
    out_ptr, out_idx:
        CSR of the liquid-to-liquid synapses (targets of each neuron).
    window, margin:
        In steps (the paper: 4 ms and 25 ms at dt = 1 ms).

    Returns
    -------
    ``(samples,)`` float64; NaN for a sample without a counted spike.
    """
    rasters = np.ascontiguousarray(rasters, dtype=np.uint8)
    n = rasters.shape[2]
    out_ptr = np.asarray(out_ptr, np.int64)
    out_idx = np.asarray(out_idx, np.int64)
    pre = np.repeat(np.arange(n), np.diff(out_ptr))
    order = np.argsort(out_idx, kind="stable")
    in_idx = pre[order]
    in_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(out_idx, minlength=n), out=in_ptr[1:])
    return np.array([_sample_sigma(r, out_ptr, out_idx, in_ptr, in_idx, int(window), int(margin))
                     for r in rasters])


def defined(sigma: np.ndarray) -> np.ndarray:
    """The branching factors of the samples that have one (see the module docstring)."""
    return sigma[np.isfinite(sigma)]


def undefined(source: str) -> str:
    """A summary's words for a branching factor no sample of ``source`` has."""
    return f"undefined (no spikes in the {source})"
