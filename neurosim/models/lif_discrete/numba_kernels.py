"""``lif_discrete`` on the numba engine: one step of a block of neurons.

The refractory count is the hidden state row 2: a neuron that fires stores
``t_ref_steps + 1`` there (which also marks it for collection and, with
``reset: subtract``, for the next step's subtraction); every later step
counts it down, and the neuron may fire again once it reaches 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HELD_IN_V = False


@njit(inline="always")
def update_block(a, b, v, x, par, ref_steps, out, row, n):
    """One step of neurons ``a:b`` (the model's equations); True if any spiked.

    ``x`` rows 0 and 1 are the synaptic currents, row 2 the refractory count.
    The arithmetic runs in the type of ``par`` against the type of the state:
    the liquids pass float64 rows over float32 state.  The threshold reads the
    membrane as stored (rounded to the state's type), as torch's step does.
    """
    beta, gain, alpha, bias, theta, subtract = par[0], par[1], par[2], par[3], par[4], par[5]
    code = spike_mark(ref_steps)
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        e = x[0, i]
        g = x[1, i]
        count = x[2, i]
        fired = subtract if count == code else 0.0
        v[i] = v[i] * beta + (e + g) * gain + bias - theta * fired
        vv = v[i]
        x[0, i] = e * alpha
        x[1, i] = g * alpha
        count = count - 1.0 if count > 0.0 else 0.0
        spiked = (vv >= theta) & (count == 0.0)
        v[i] = vv if subtract or not spiked else 0.0
        x[2, i] = code if spiked else count
        any_spiked |= spiked
    return any_spiked


@njit(inline="always")
def spike_marks(v, x):
    """The array that marks this step's spikes: the count row."""
    return x[2]


@njit(inline="always")
def spike_mark(ref_steps):
    """What a neuron that spiked in this step holds in its count row."""
    return float(ref_steps + 1)


@njit(inline="always")
def force_spike(v, x, par, ref_steps, i):
    """After :func:`update_block`: make neuron ``i`` spike in this step as if
    it had reached threshold (a perturbation); False, and nothing changes,
    when it is refractory or spiked anyway."""
    if x[2, i] != 0.0:
        return False
    if not par[5]:
        v[i] = 0.0
    x[2, i] = spike_mark(ref_steps)
    return True
