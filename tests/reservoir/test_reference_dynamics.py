"""The event-driven liquid against a dense transcription of the reference update.

The NALSM reference code advances every neuron each step with
``V <- V - V/tau_v + sum_j w_ij exp(-s_j/tau_u)/tau_u + I`` where ``s_j`` is
the time since the latest spike of ``j`` (reset to 0 by a spike, then +1 per
step, starting at 20), a threshold test blocked while a refractory counter
(set to t_ref by a spike, then -1 per step) is positive, and reset to 0.
Written here with dense matrices, it must give the same spikes as the
kernel for fixed weights and the same input draws.
"""

from __future__ import annotations

import numpy as np

from neurosim.data import rate_spikes
from neurosim.reservoir import Dynamics, LiquidSimulator, LiquidSpec, build_liquid


def reference_raster(liquid, drive, steps, tau_v=64.0, theta=20.0, t_ref=2, current=100.0):
    n, n_total = liquid.n_liquid, liquid.n_total
    w = np.zeros((n_total, n))
    w[liquid.pre(), liquid.post] = liquid.weight
    v = np.zeros(n_total)
    since = np.full(n_total, 20.0)
    rfr = np.zeros(n_total)
    raster = np.zeros((steps, n), np.uint8)
    for t in range(steps):
        s = (rfr <= 0) & (v >= theta)
        v[s] = 0.0
        raster[t] = s[:n]
        since[s] = 0.0
        syn = np.exp(-since) @ w
        v_new = v - v / tau_v
        v_new[:n] += syn
        v_new[n:] += current * drive[t]
        v = v_new.astype(np.float32).astype(np.float64)
        since = np.minimum(since + 1.0, 100.0)
        rfr = np.where(s, t_ref, rfr - 1)
    return raster


def test_fixed_liquid_spikes_like_the_reference():
    liquid = build_liquid(LiquidSpec(grid=(5, 5, 5), w_init=2.0), seed=4)
    rng = np.random.default_rng(0)
    probs = (rng.random((2, 784)) * 0.2 * (rng.random((2, 784)) < 0.5)).astype(np.float32)
    steps = 120
    sim = LiquidSimulator(liquid, Dynamics(rule="none"), seed=9)
    ids = np.array([3, 8])
    counts, rasters, _ = sim.run(probs, ids, steps, record=np.ones(2, bool))
    for k in range(2):
        drive = rate_spikes(probs[k], steps, seed=9, sample=ids[k])
        expected = reference_raster(liquid, drive, steps)
        assert expected.sum() > 200  # an active liquid, not a trivial agreement
        mismatch = np.mean(rasters[k] != expected)
        assert mismatch == 0.0, f"{mismatch:.2%} of raster entries differ"
        np.testing.assert_array_equal(counts[k], expected.sum(axis=0))
